// WATCH, UNWATCH and RESET_WATCHES over the socket: initial events, match
// modes, depth, relative paths, ordering (cxenstored.md §4, §1.7).
#include <doctest/doctest.h>

#include <string>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

TEST_CASE("WATCH replies OK, then sends the initial event (even for a missing node)") {
    Harness h;
    auto& c = h.client();
    c.send_raw(raw_message(wire::kWatch, "/nowhere\0tok\0"s, 77));
    auto first = c.receive(c.timeout);
    REQUIRE(first);
    CHECK(first->header.type == wire::kWatch);
    CHECK(first->header.req_id == 77);
    CHECK(first->payload == "OK\0"s);
    auto second = c.receive(c.timeout);
    REQUIRE(second);
    CHECK(second->header.type == wire::kWatchEvent);
    CHECK(second->header.req_id == 0);
    CHECK(second->header.tx_id == 0);
    CHECK(second->payload == "/nowhere\0tok\0"s);
}

TEST_CASE("WATCH: the same path and token twice is EEXIST; another token is a new watch") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.watch("/dup", "t1")) == "OK");
    CHECK(outcome(c.watch("/dup", "t1")) == "EEXIST");
    CHECK(outcome(c.watch("/dup", "t1", 2u)) == "EEXIST");  // depth is not compared
    CHECK(outcome(c.watch("/dup", "t2")) == "OK");
    CHECK(joined(take_events(c)) == "/dup|t1;/dup|t2");
    // Another connection has its own watches.
    auto other = h.connect();
    CHECK(outcome(other->watch("/dup", "t1")) == "OK");
    // Only one event per watch.
    REQUIRE(outcome(c.write("/dup", "x")) == "OK");
    CHECK(joined(sorted(take_events(c))) == "/dup|t1;/dup|t2");
}

TEST_CASE("watches match the path and its descendants, not siblings with the same prefix") {
    Harness h;
    auto& c = h.client();
    auto w = h.connect();
    REQUIRE(outcome(w->watch("/s", "t")) == "OK");
    REQUIRE(take_events(*w).size() == 1);
    REQUIRE(outcome(c.write("/s", "")) == "OK");
    REQUIRE(outcome(c.write("/s/x/y", "")) == "OK");   // creates /s/x and /s/x/y: one event
    REQUIRE(outcome(c.write("/sx", "")) == "OK");       // not below /s
    REQUIRE(outcome(c.write("/s-x/y", "")) == "OK");
    REQUIRE(outcome(c.write("/", "")) == "OK");         // an ancestor: no event
    CHECK(joined(take_events(*w)) == "/s|t;/s/x/y|t");
}

TEST_CASE("a rewrite with the same value fires again; MKDIR of an existing node does not") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/same", "v")) == "OK");
    REQUIRE(outcome(c.watch("/same", "t")) == "OK");
    REQUIRE(take_events(c).size() == 1);
    REQUIRE(outcome(c.write("/same", "v")) == "OK");
    CHECK(joined(take_events(c)) == "/same|t");
    REQUIRE(outcome(c.mkdir("/same")) == "OK");
    CHECK(joined(take_events(c)) == "");
    REQUIRE(outcome(c.mkdir("/same/new")) == "OK");
    CHECK(joined(take_events(c)) == "/same/new|t");
}

TEST_CASE("events of one's own write come before the write's reply") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.watch("/mine", "t")) == "OK");
    REQUIRE(take_events(c).size() == 1);
    c.send_raw(raw_message(wire::kWrite, "/mine/a\0v"s, 4242));
    auto first = c.receive(c.timeout);
    REQUIRE(first);
    CHECK(first->header.type == wire::kWatchEvent);
    CHECK(parse_event(*first) == Event{"/mine/a", "t"});
    auto second = c.receive(c.timeout);
    REQUIRE(second);
    CHECK(second->header.type == wire::kWrite);
    CHECK(second->header.req_id == 4242);
}

TEST_CASE("watch depth limits how far below the path events match") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.watch("/dp", "d0", 0u)) == "OK");
    REQUIRE(outcome(c.watch("/dp", "d1", 1u)) == "OK");
    REQUIRE(outcome(c.watch("/dp", "d2", 2u)) == "OK");
    REQUIRE(outcome(c.watch("/dp", "all")) == "OK");
    REQUIRE(take_events(c).size() == 4);
    REQUIRE(outcome(c.write("/dp", "")) == "OK");
    CHECK(joined(sorted(take_events(c))) == "/dp|all;/dp|d0;/dp|d1;/dp|d2");
    REQUIRE(outcome(c.write("/dp/a", "")) == "OK");
    CHECK(joined(sorted(take_events(c))) == "/dp/a|all;/dp/a|d1;/dp/a|d2");
    REQUIRE(outcome(c.write("/dp/a/b", "")) == "OK");
    CHECK(joined(sorted(take_events(c))) == "/dp/a/b|all;/dp/a/b|d2");
    REQUIRE(outcome(c.write("/dp/a/b/c", "")) == "OK");
    CHECK(joined(take_events(c)) == "/dp/a/b/c|all");
}

TEST_CASE("a depth-1 watch on / sees children of / only") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.watch("/", "top", 1u)) == "OK");
    REQUIRE(take_events(c).size() == 1);
    REQUIRE(outcome(c.write("/x", "")) == "OK");
    REQUIRE(outcome(c.write("/x/y", "")) == "OK");
    CHECK(joined(take_events(c)) == "/x|top");
}

TEST_CASE("WATCH argument errors") {
    Harness h;
    auto& c = h.client();
    CHECK(summary(c.call(wire::kWatch, "/w\0"s)) == "EINVAL");             // one string
    CHECK(summary(c.call(wire::kWatch, "/w\0t"s)) == "EINVAL");            // token not terminated
    CHECK(summary(c.call(wire::kWatch, "/w\0t\0-1\0"s)) == "EINVAL");      // negative depth
    CHECK(summary(c.call(wire::kWatch, "/w\0t\0" "1\0x\0"s)) == "EINVAL"); // four strings
    CHECK(summary(c.call(wire::kWatch, "/w/\0t\0"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kWatch, "//\0t\0"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kWatch, "\0t\0"s)) == "EINVAL");
    // None of them registered a watch: no initial event, and a write is silent.
    REQUIRE(outcome(c.write("/w", "")) == "OK");
    CHECK(joined(take_events(c)) == "");
}

TEST_CASE("WATCH and UNWATCH ignore the header's tx_id") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kWatch, "/txw\0t\0"s, 0x1234);
    CHECK(summary(r) == "OK");
    CHECK(joined(take_events(c)) == "/txw|t");
    auto tx = c.transaction_start();
    REQUIRE(outcome(tx) == "OK");
    CHECK(summary(c.call(wire::kWatch, "/txw\0t2\0"s, *tx)) == "OK");
    CHECK(summary(c.call(wire::kUnwatch, "/txw\0t\0"s, 0xdead)) == "OK");
    CHECK(summary(c.call(wire::kUnwatch, "/txw\0t2\0"s, *tx)) == "OK");
    REQUIRE(outcome(c.transaction_end(*tx, false)) == "OK");
    REQUIRE(outcome(c.write("/txw", "")) == "OK");
    CHECK(joined(take_events(c)) == "/txw|t2");
}

TEST_CASE("relative watches are reported relative to /local/domain/0") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.watch("relw", "t")) == "OK");
    CHECK(joined(take_events(c)) == "relw|t");
    REQUIRE(outcome(c.write("/local/domain/0/relw/sub", "")) == "OK");
    CHECK(joined(take_events(c)) == "relw/sub|t");
    REQUIRE(outcome(c.write("relw", "")) == "OK");
    CHECK(joined(take_events(c)) == "relw|t");
    // An absolute watch on the same node reports absolute paths.
    REQUIRE(outcome(c.watch("/local/domain/0/relw", "abs")) == "OK");
    REQUIRE(take_events(c).size() == 1);
    REQUIRE(outcome(c.write("relw/x", "")) == "OK");
    CHECK(joined(sorted(take_events(c))) == "/local/domain/0/relw/x|abs;relw/x|t");
}

TEST_CASE("special watches: initial event, SET_PERMS fires them, / never matches them") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.watch("@introduceDomain", "i")) == "OK");
    REQUIRE(outcome(c.watch("@releaseDomain", "r")) == "OK");
    REQUIRE(outcome(c.watch("/", "root")) == "OK");
    CHECK(joined(take_events(c)) == "@introduceDomain|i;@releaseDomain|r;/|root");
    REQUIRE(outcome(c.set_perms("@introduceDomain", {"n0"})) == "OK");
    CHECK(joined(take_events(c)) == "@introduceDomain|i");
    CHECK(outcome(c.watch("@releaseDomain/5", "r5")) == "OK");
    CHECK(joined(take_events(c)) == "@releaseDomain/5|r5");
}

TEST_CASE("events go to every connection that watches, with that connection's token") {
    Harness h;
    auto& c = h.client();
    auto a = h.connect();
    auto b = h.connect();
    REQUIRE(outcome(a->watch("/multi", "ta")) == "OK");
    REQUIRE(outcome(b->watch("/multi/x", "tb")) == "OK");
    REQUIRE(take_events(*a).size() == 1);
    REQUIRE(take_events(*b).size() == 1);
    REQUIRE(outcome(c.write("/multi/x", "1")) == "OK");
    CHECK(joined(take_events(*a)) == "/multi/x|ta");
    CHECK(joined(take_events(*b)) == "/multi/x|tb");
    CHECK(joined(take_events(c)) == "");
}

TEST_CASE("tokens are opaque bytes") {
    Harness h;
    auto& c = h.client();
    std::string token = "tok with spaces/and:symbols*\x01\xff";
    REQUIRE(outcome(c.watch("/tokn", token)) == "OK");
    REQUIRE(outcome(c.write("/tokn", "")) == "OK");
    auto ev = take_events(c);
    REQUIRE(ev.size() == 2);
    CHECK(ev[1].token == token);
    CHECK(outcome(c.unwatch("/tokn", token)) == "OK");
}

TEST_CASE("UNWATCH removes exactly that watch") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.watch("/uw", "a")) == "OK");
    REQUIRE(outcome(c.watch("/uw", "b")) == "OK");
    REQUIRE(take_events(c).size() == 2);
    auto r = c.call(wire::kUnwatch, "/uw\0a\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kUnwatch);
    CHECK(r->payload == "OK\0"s);
    REQUIRE(outcome(c.write("/uw", "")) == "OK");
    CHECK(joined(take_events(c)) == "/uw|b");
    CHECK(outcome(c.unwatch("/uw", "a")) == "ENOENT");
    // The token must match too.
    CHECK(outcome(c.unwatch("/uw", "zzz")) == "ENOENT");
    // After UNWATCH the same watch can be registered again.
    CHECK(outcome(c.watch("/uw", "a")) == "OK");
}

TEST_CASE("UNWATCH matches the canonical path: relative and absolute forms are the same watch") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.watch("relu", "t")) == "OK");
    CHECK(outcome(c.unwatch("/local/domain/0/relu", "t")) == "OK");
    REQUIRE(outcome(c.watch("/local/domain/0/relu2", "t")) == "OK");
    CHECK(outcome(c.unwatch("relu2", "t")) == "OK");
    take_events(c);
    REQUIRE(outcome(c.write("relu/x", "")) == "OK");
    REQUIRE(outcome(c.write("relu2/x", "")) == "OK");
    CHECK(joined(take_events(c)) == "");
}

TEST_CASE("UNWATCH errors") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.unwatch("/never", "t")) == "ENOENT");
    CHECK(summary(c.call(wire::kUnwatch, "/never\0"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kUnwatch, "/never\0t"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kUnwatch, "/never/\0t\0"s)) == "EINVAL");
    // Another connection's watch cannot be removed.
    auto other = h.connect();
    REQUIRE(outcome(other->watch("/theirs", "t")) == "OK");
    CHECK(outcome(c.unwatch("/theirs", "t")) == "ENOENT");
    take_events(*other);
    REQUIRE(outcome(c.write("/theirs", "")) == "OK");
    CHECK(joined(take_events(*other)) == "/theirs|t");
}

TEST_CASE("RESET_WATCHES removes every watch of the connection, and only of it") {
    Harness h;
    auto& c = h.client();
    auto other = h.connect();
    REQUIRE(outcome(c.watch("/rw1", "a")) == "OK");
    REQUIRE(outcome(c.watch("/rw2", "b", 1u)) == "OK");
    REQUIRE(outcome(other->watch("/rw1", "o")) == "OK");
    take_events(c);
    take_events(*other);
    auto r = c.call(wire::kResetWatches, ""s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kResetWatches);
    CHECK(r->payload == "OK\0"s);
    REQUIRE(outcome(c.write("/rw1", "")) == "OK");
    REQUIRE(outcome(c.write("/rw2", "")) == "OK");
    CHECK(joined(take_events(c)) == "");
    CHECK(joined(take_events(*other)) == "/rw1|o");
    // The same watches can be registered again.
    CHECK(outcome(c.watch("/rw1", "a")) == "OK");
    CHECK(outcome(c.unwatch("/rw2", "b")) == "ENOENT");
}

TEST_CASE("RESET_WATCHES also ends the connection's transactions") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/rtx-exists", "v")) == "OK");
    auto t1 = c.transaction_start();
    auto t2 = c.transaction_start();
    REQUIRE(outcome(t1) == "OK");
    REQUIRE(outcome(t2) == "OK");
    REQUIRE(outcome(c.write("/rtx", "lost", *t1)) == "OK");
    CHECK(summary(c.call(wire::kResetWatches, "ignored payload\0"s)) == "OK");
    REQUIRE(outcome(c.read("/rtx-exists")) == "OK");
    CHECK(outcome(c.read("/rtx-exists", *t1)) == "ENOENT");  // the transaction is gone
    CHECK(outcome(c.transaction_end(*t1, true)) == "ENOENT");
    CHECK(outcome(c.transaction_end(*t2, true)) == "ENOENT");
    CHECK(outcome(c.read("/rtx")) == "ENOENT");
    // New transactions work.
    auto t3 = c.transaction_start();
    REQUIRE(outcome(t3) == "OK");
    CHECK(outcome(c.transaction_end(*t3, true)) == "OK");
}

TEST_CASE("a closed connection's watches are gone") {
    Harness h;
    auto& c = h.client();
    {
        auto gone = h.connect();
        REQUIRE(outcome(gone->watch("/closed", "t")) == "OK");
    }
    // Many writes under the dead watch: the daemon must not queue events for it forever.
    for (int i = 0; i < 200; ++i) REQUIRE(outcome(c.write("/closed/n", std::to_string(i))) == "OK");
    auto fresh = h.connect();
    CHECK(outcome(fresh->watch("/closed", "t")) == "OK");
}

TEST_CASE("a relative watch with a depth") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.watch("reld", "t", 1u)) == "OK");
    CHECK(joined(take_events(c)) == "reld|t");
    REQUIRE(outcome(c.write("reld/a", "")) == "OK");
    REQUIRE(outcome(c.write("reld/a/b", "")) == "OK");
    CHECK(joined(take_events(c)) == "reld/a|t");
}

TEST_CASE("UNWATCH takes exactly two strings") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.watch("/u3", "t", 1u)) == "OK");
    CHECK(summary(c.call(wire::kUnwatch, "/u3\0t\0" "1\0"s)) == "EINVAL");
    CHECK(outcome(c.unwatch("/u3", "t")) == "OK");
}
