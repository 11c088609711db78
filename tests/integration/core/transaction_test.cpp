// TRANSACTION_START / TRANSACTION_END over the socket: ids, argument
// checks, isolation, events at commit, and our conflict rule (spec README
// decision 4: EAGAIN only when the transaction changed something and
// something it observed was changed by a commit after it started).
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

TEST_CASE("TRANSACTION_START replies with a decimal id that is never 0") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kTransactionStart, "\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kTransactionStart);
    REQUIRE(!r->payload.empty());
    CHECK(r->payload.back() == '\0');
    std::string id = text(*r);
    CHECK(id.find_first_not_of("0123456789") == std::string::npos);
    CHECK(id != "0");
    CHECK(!id.empty());
}

TEST_CASE("open transactions have distinct ids; the socket is exempt from the transactions quota") {
    Harness h;
    auto& c = h.client();
    std::set<std::uint32_t> ids;
    for (int i = 0; i < 25; ++i) {  // more than the default quota of 10
        auto t = c.transaction_start();
        REQUIRE(outcome(t) == "OK");
        CHECK(*t != 0);
        ids.insert(*t);
    }
    CHECK(ids.size() == 25);
    for (auto id : ids) CHECK(outcome(c.transaction_end(id, false)) == "OK");
}

TEST_CASE("TRANSACTION_START ignores its payload") {
    Harness h;
    auto& c = h.client();
    for (const auto& payload : {""s, "garbage"s, "x\0y\0"s}) {
        auto r = c.call(wire::kTransactionStart, payload);
        REQUIRE(r);
        CHECK(r->header.type == wire::kTransactionStart);
        auto id = static_cast<std::uint32_t>(std::stoul("0" + text(*r)));
        CHECK(id != 0);
        CHECK(outcome(c.transaction_end(id, false)) == "OK");
    }
}

TEST_CASE("TRANSACTION_START inside a transaction is EBUSY; with an unknown id ENOENT") {
    Harness h;
    auto& c = h.client();
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    CHECK(summary(c.call(wire::kTransactionStart, "\0"s, *t)) == "EBUSY");
    CHECK(summary(c.call(wire::kTransactionStart, "\0"s, *t + 1000)) == "ENOENT");
    CHECK(outcome(c.transaction_end(*t, true)) == "OK");
}

TEST_CASE("TRANSACTION_END argument checks, in upstream's order") {
    Harness h;
    auto& c = h.client();
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    for (const auto& bad : {""s, "T"s, "F"s, "X\0"s, "TT\0"s, "T\0\0"s, "t\0"s, "true\0"s}) {
        CAPTURE(bad);
        CHECK(summary(c.call(wire::kTransactionEnd, bad, *t)) == "EINVAL");
    }
    // The malformed ENDs did not end it.
    CHECK(outcome(c.read("/tool", *t)) == "OK");
    // tx_id 0: the payload is checked first, then "no transaction" is ENOENT.
    CHECK(summary(c.call(wire::kTransactionEnd, "X\0"s, 0)) == "EINVAL");
    CHECK(summary(c.call(wire::kTransactionEnd, "T\0"s, 0)) == "ENOENT");
    CHECK(summary(c.call(wire::kTransactionEnd, "F\0"s, 0)) == "ENOENT");
    // An unknown id fails at dispatch, before the payload is looked at.
    CHECK(summary(c.call(wire::kTransactionEnd, "T\0"s, *t + 1000)) == "ENOENT");
    CHECK(summary(c.call(wire::kTransactionEnd, "X\0"s, *t + 1000)) == "ENOENT");
    auto r = c.call(wire::kTransactionEnd, "T\0"s, *t);
    REQUIRE(r);
    CHECK(r->header.type == wire::kTransactionEnd);
    CHECK(r->header.tx_id == *t);
    CHECK(r->payload == "OK\0"s);
    // Ended: the id is unknown now.
    CHECK(outcome(c.transaction_end(*t, true)) == "ENOENT");
    CHECK(outcome(c.read("/tool", *t)) == "ENOENT");
}

TEST_CASE("transaction ids belong to their connection") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    CHECK(outcome(other->read("/tool", *t)) == "ENOENT");
    CHECK(outcome(other->write("/stolen", "x", *t)) == "ENOENT");
    CHECK(outcome(other->transaction_end(*t, true)) == "ENOENT");
    CHECK(outcome(c.read("/stolen", *t)) == "ENOENT");
    CHECK(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(outcome(c.read("/stolen")) == "ENOENT");
}

TEST_CASE("a transaction's writes are private until commit, then visible") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/iso/x", "old")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(c.write("/iso/x", "new", *t)) == "OK");
    REQUIRE(outcome(c.write("/iso/y/z", "created", *t)) == "OK");
    REQUIRE(outcome(c.rm("/iso/gone", *t)) == "OK");
    CHECK(value(c.read("/iso/x", *t)) == "new");
    CHECK(value(c.read("/iso/y/z", *t)) == "created");
    CHECK(value(c.read("/iso/x")) == "old");
    CHECK(value(other->read("/iso/x")) == "old");
    CHECK(outcome(other->read("/iso/y")) == "ENOENT");
    REQUIRE(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(value(other->read("/iso/x")) == "new");
    CHECK(value(other->read("/iso/y/z")) == "created");
    CHECK(joined(other->directory("/iso")) == "x,y");
}

TEST_CASE("an aborted transaction changes nothing") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/ab/x", "old")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(c.write("/ab/x", "new", *t)) == "OK");
    REQUIRE(outcome(c.write("/ab/y", "y", *t)) == "OK");
    REQUIRE(outcome(c.set_perms("/ab/x", {"n0", "r4"}, *t)) == "OK");
    REQUIRE(outcome(c.transaction_end(*t, false)) == "OK");
    CHECK(value(c.read("/ab/x")) == "old");
    CHECK(outcome(c.read("/ab/y")) == "ENOENT");
    CHECK(joined(c.get_perms("/ab/x")) == "n0");
}

TEST_CASE("a transaction sees the tree as it was at TRANSACTION_START") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/snap/x", "1")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(other->write("/snap/x", "2")) == "OK");
    REQUIRE(outcome(other->write("/snap/new", "n")) == "OK");
    CHECK(value(c.read("/snap/x", *t)) == "1");
    CHECK(outcome(c.read("/snap/new", *t)) == "ENOENT");
    CHECK(joined(c.directory("/snap", *t)) == "x");
    CHECK(outcome(c.transaction_end(*t, true)) == "OK");  // read-only: commits
}

TEST_CASE("watch events are sent at commit only, and not at all on abort") {
    Harness h;
    auto& c = h.client();
    auto w = h.connect();
    REQUIRE(outcome(w->watch("/txev", "t")) == "OK");
    REQUIRE(take_events(*w).size() == 1);
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(c.write("/txev/a", "1", *t)) == "OK");
    REQUIRE(outcome(c.write("/txev/b", "2", *t)) == "OK");
    CHECK(joined(take_events(*w)) == "");
    REQUIRE(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(joined(sorted(take_events(*w))) == "/txev/a|t;/txev/b|t");

    auto t2 = c.transaction_start();
    REQUIRE(outcome(t2) == "OK");
    REQUIRE(outcome(c.write("/txev/c", "3", *t2)) == "OK");
    REQUIRE(outcome(c.transaction_end(*t2, false)) == "OK");
    CHECK(joined(take_events(*w)) == "");
}

TEST_CASE("commit events for the committer's own watches come before the END reply") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.watch("/own", "t")) == "OK");
    REQUIRE(take_events(c).size() == 1);
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(c.write("/own/x", "1", *t)) == "OK");
    REQUIRE(take_events(c).empty());
    c.send_raw(raw_message(wire::kTransactionEnd, "T\0"s, 999, *t));
    auto first = c.receive(c.timeout);
    REQUIRE(first);
    CHECK(first->header.type == wire::kWatchEvent);
    CHECK(parse_event(*first) == Event{"/own/x", "t"});
    auto second = c.receive(c.timeout);
    REQUIRE(second);
    CHECK(second->header.type == wire::kTransactionEnd);
    CHECK(second->header.req_id == 999);
}

TEST_CASE("RM inside a transaction fires exact events for deleted nodes at commit") {
    Harness h;
    auto& c = h.client();
    auto w = h.connect();
    REQUIRE(outcome(c.write("/txrm/a/b", "1")) == "OK");
    REQUIRE(outcome(w->watch("/txrm/a/b", "leaf")) == "OK");
    REQUIRE(outcome(w->watch("/txrm", "top")) == "OK");
    REQUIRE(take_events(*w).size() == 2);
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(c.rm("/txrm/a", *t)) == "OK");
    CHECK(joined(take_events(*w)) == "");
    REQUIRE(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(joined(sorted(take_events(*w))) == "/txrm/a|top;/txrm/a/b|leaf");
}

TEST_CASE("a transaction that writes then removes a node commits without it") {
    Harness h;
    auto& c = h.client();
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(c.write("/wr/keep", "k", *t)) == "OK");
    REQUIRE(outcome(c.write("/wr/tmp/x", "t", *t)) == "OK");
    REQUIRE(outcome(c.rm("/wr/tmp", *t)) == "OK");
    REQUIRE(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(joined(c.directory("/wr")) == "keep");
    CHECK(outcome(c.read("/wr/tmp")) == "ENOENT");
}

// ---- the conflict rule ----

TEST_CASE("conflict rule: a read-only transaction always commits") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/ro/x", "1")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    CHECK(value(c.read("/ro/x", *t)) == "1");
    CHECK(joined(c.directory("/ro", *t)) == "x");
    REQUIRE(outcome(other->write("/ro/x", "2")) == "OK");
    REQUIRE(outcome(other->write("/ro/y", "")) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(value(c.read("/ro/x")) == "2");
}

TEST_CASE("conflict rule: a value read, changed by a commit, then a write -> EAGAIN") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/rmw/x", "a")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    CHECK(value(c.read("/rmw/x", *t)) == "a");
    REQUIRE(outcome(other->write("/rmw/x", "b")) == "OK");
    REQUIRE(outcome(c.write("/rmw/y", "from-tx", *t)) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "EAGAIN");
    // Nothing of it was applied, and the id is gone.
    CHECK(outcome(c.read("/rmw/y")) == "ENOENT");
    CHECK(value(c.read("/rmw/x")) == "b");
    CHECK(outcome(c.transaction_end(*t, true)) == "ENOENT");
}

TEST_CASE("conflict rule: the change may happen after the write too, before the commit") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/late/x", "a")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    CHECK(value(c.read("/late/x", *t)) == "a");
    REQUIRE(outcome(c.write("/late/x", "mine", *t)) == "OK");
    REQUIRE(outcome(other->write("/late/x", "theirs")) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "EAGAIN");
    CHECK(value(c.read("/late/x")) == "theirs");
}

TEST_CASE("conflict rule: a blind overwrite of a node someone else changed commits") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/blind/x", "a")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(c.write("/blind/x", "mine", *t)) == "OK");
    REQUIRE(outcome(other->write("/blind/x", "theirs")) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(value(c.read("/blind/x")) == "mine");
}

TEST_CASE("conflict rule: two transactions creating different children of one parent both commit") {
    Harness h;
    auto& c1 = h.client();
    auto c2 = h.connect();
    REQUIRE(outcome(c1.write("/par", "")) == "OK");
    auto t1 = c1.transaction_start();
    auto t2 = c2->transaction_start();
    REQUIRE(outcome(t1) == "OK");
    REQUIRE(outcome(t2) == "OK");
    REQUIRE(outcome(c1.write("/par/a", "1", *t1)) == "OK");
    REQUIRE(outcome(c2->write("/par/b", "2", *t2)) == "OK");
    CHECK(outcome(c1.transaction_end(*t1, true)) == "OK");
    CHECK(outcome(c2->transaction_end(*t2, true)) == "OK");
    CHECK(joined(c1.directory("/par")) == "a,b");
    CHECK(value(c1.read("/par/a")) == "1");
    CHECK(value(c1.read("/par/b")) == "2");
}

TEST_CASE("conflict rule: creating children concurrently under a new common parent both commit") {
    Harness h;
    auto& c1 = h.client();
    auto c2 = h.connect();
    REQUIRE(outcome(c1.write("/local/domain/7", "")) == "OK");
    auto t1 = c1.transaction_start();
    auto t2 = c2->transaction_start();
    REQUIRE(outcome(t1) == "OK");
    REQUIRE(outcome(t2) == "OK");
    REQUIRE(outcome(c1.write("/local/domain/7/device/vif/0/state", "1", *t1)) == "OK");
    REQUIRE(outcome(c2->write("/local/domain/7/control/shutdown", "", *t2)) == "OK");
    CHECK(outcome(c1.transaction_end(*t1, true)) == "OK");
    CHECK(outcome(c2->transaction_end(*t2, true)) == "OK");
    CHECK(joined(c1.directory("/local/domain/7")) == "control,device");
}

TEST_CASE("conflict rule: a transaction that listed the parent conflicts with a new child") {
    Harness h;
    auto& c1 = h.client();
    auto c2 = h.connect();
    REQUIRE(outcome(c1.write("/lst/x", "")) == "OK");
    auto t1 = c1.transaction_start();
    auto t2 = c2->transaction_start();
    REQUIRE(outcome(t1) == "OK");
    REQUIRE(outcome(t2) == "OK");
    CHECK(joined(c1.directory("/lst", *t1)) == "x");
    REQUIRE(outcome(c1.write("/lst/a", "1", *t1)) == "OK");
    REQUIRE(outcome(c2->write("/lst/b", "2", *t2)) == "OK");
    CHECK(outcome(c2->transaction_end(*t2, true)) == "OK");
    CHECK(outcome(c1.transaction_end(*t1, true)) == "EAGAIN");
    CHECK(joined(c1.directory("/lst")) == "b,x");
}

TEST_CASE("conflict rule: DIRECTORY_PART counts as listing the parent") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/lp/x", "")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    auto part = c.call(wire::kDirectoryPart, "/lp\0000\0"s, *t);
    REQUIRE(part);
    REQUIRE(!part->is_error());
    REQUIRE(outcome(c.write("/lp/mine", "", *t)) == "OK");
    REQUIRE(outcome(other->write("/lp/theirs", "")) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "EAGAIN");
}

TEST_CASE("conflict rule: a node read as absent that appeared -> EAGAIN") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    CHECK(outcome(c.read("/absent/m", *t)) == "ENOENT");
    REQUIRE(outcome(other->mkdir("/absent/m")) == "OK");
    REQUIRE(outcome(c.write("/absent/z", "x", *t)) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "EAGAIN");
    CHECK(outcome(c.read("/absent/z")) == "ENOENT");
}

TEST_CASE("conflict rule: an unrelated change does not conflict") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/unrel/mine", "1")) == "OK");
    REQUIRE(outcome(c.write("/unrel/theirs", "1")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    CHECK(value(c.read("/unrel/mine", *t)) == "1");
    REQUIRE(outcome(c.write("/unrel/mine", "2", *t)) == "OK");
    REQUIRE(outcome(other->write("/unrel/theirs", "2")) == "OK");
    REQUIRE(outcome(other->write("/elsewhere", "")) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(value(c.read("/unrel/mine")) == "2");
    CHECK(value(c.read("/unrel/theirs")) == "2");
}

// Upstream (XSA-440's test) expects EAGAIN for the second; by decision 4 its
// replies (RM of a node whose parent exists is OK) are unchanged, so it
// commits and removes nothing more.
TEST_CASE("conflict rule: two transactions removing the same nodes both commit") {
    Harness h;
    auto& c1 = h.client();
    auto c2 = h.connect();
    for (int i = 0; i < 50; ++i) REQUIRE(outcome(c1.write("/del/n" + std::to_string(i), "")) == "OK");
    auto t1 = c1.transaction_start();
    auto t2 = c2->transaction_start();
    REQUIRE(outcome(t1) == "OK");
    REQUIRE(outcome(t2) == "OK");
    for (int i = 0; i < 50; ++i) {
        REQUIRE(outcome(c1.rm("/del/n" + std::to_string(i), *t1)) == "OK");
        REQUIRE(outcome(c2->rm("/del/n" + std::to_string(i), *t2)) == "OK");
    }
    CHECK(outcome(c1.transaction_end(*t1, true)) == "OK");
    CHECK(outcome(c2->transaction_end(*t2, true)) == "OK");
    CHECK(joined(c1.directory("/del")) == "");
    CHECK(outcome(c1.control({"check"})) == "OK");
}

TEST_CASE("conflict rule: two blind writers of one node both commit, the later one wins") {
    Harness h;
    auto& c1 = h.client();
    auto c2 = h.connect();
    REQUIRE(outcome(c1.write("/two/x", "0")) == "OK");
    auto t1 = c1.transaction_start();
    auto t2 = c2->transaction_start();
    REQUIRE(outcome(t1) == "OK");
    REQUIRE(outcome(t2) == "OK");
    REQUIRE(outcome(c1.write("/two/x", "1", *t1)) == "OK");
    REQUIRE(outcome(c2->write("/two/x", "2", *t2)) == "OK");
    CHECK(outcome(c1.transaction_end(*t1, true)) == "OK");
    CHECK(outcome(c2->transaction_end(*t2, true)) == "OK");
    CHECK(value(c1.read("/two/x")) == "2");
}

TEST_CASE("test-xenstore's 'ta err' sequence: EAGAIN, outside value kept") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/taerr/a", "a")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    CHECK(value(c.read("/taerr/a", *t)) == "a");
    REQUIRE(outcome(c.write("/taerr/a", "b")) == "OK");
    CHECK(value(c.read("/taerr/a", *t)) == "a");
    REQUIRE(outcome(c.write("/taerr/a", "c", *t)) == "OK");
    CHECK(value(c.read("/taerr/a", *t)) == "c");
    CHECK(outcome(c.transaction_end(*t, true)) == "EAGAIN");
    CHECK(value(c.read("/taerr/a")) == "b");
}

TEST_CASE("a transaction on a closed connection is discarded") {
    Harness h;
    auto& c = h.client();
    {
        auto gone = h.connect();
        auto t = gone->transaction_start();
        REQUIRE(outcome(t) == "OK");
        REQUIRE(outcome(gone->write("/closedtx", "x", *t)) == "OK");
    }
    REQUIRE(sync(c));
    CHECK(outcome(c.read("/closedtx")) == "ENOENT");
}

// What a request observed is finer than "the node": a value, a child list,
// existence, permissions.

TEST_CASE("conflict rule: a listed parent whose value changed does not conflict") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/gran/p/a", "")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    CHECK(joined(c.directory("/gran/p", *t)) == "a");
    REQUIRE(outcome(c.write("/gran/y", "1", *t)) == "OK");
    REQUIRE(outcome(other->write("/gran/p", "new value")) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "OK");
}

TEST_CASE("conflict rule: a read node that got a new child does not conflict") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/gran/v", "same")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    CHECK(value(c.read("/gran/v", *t)) == "same");
    REQUIRE(outcome(c.write("/gran/z", "1", *t)) == "OK");
    REQUIRE(outcome(other->write("/gran/v/child", "")) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "OK");
}

TEST_CASE("conflict rule: permissions read with GET_PERMS and then changed -> EAGAIN") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/gran/perm", "")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    CHECK(joined(c.get_perms("/gran/perm", *t)) == "n0");
    REQUIRE(outcome(c.write("/gran/w", "1", *t)) == "OK");
    REQUIRE(outcome(other->set_perms("/gran/perm", {"n0", "r1"})) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "EAGAIN");
}

TEST_CASE("conflict rule: RM of a node whose value someone changed still commits") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.write("/gran/rmv", "a")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(c.rm("/gran/rmv", *t)) == "OK");
    REQUIRE(outcome(other->write("/gran/rmv", "b")) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(outcome(c.read("/gran/rmv")) == "ENOENT");
}
