// The rows of xsa.md's table 2 (robustness bugs without an advisory number)
// that a guest can trigger, one test each, named after the commits of the
// row. xsa_test.cpp has table 1; the harness checks the shared invariants
// at the end of each test.
#include <doctest/doctest.h>


#include <set>
#include <string>

#include "tests/integration/guests/domain_events.hpp"
#include "tests/integration/guests/frozen_daemon.hpp"
#include "tests/integration/guests/ring_access.hpp"
#include "tests/integration/guests/dom0_requests.hpp"
#include "tests/support/guest_harness.hpp"
#include "transport/ring.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;
using namespace guests;
namespace ring = xs::ring;
namespace wire = xs::wire;

namespace {


// Exactly one reply, with the request's id, for a raw request.
std::optional<xs::client::Message> one_reply(xs::client::Client& c, std::uint32_t type, std::string_view payload,
                                             std::uint32_t tx = 0) {
    std::uint32_t id = c.send(type, payload, tx);
    auto r = c.wait_reply(id);
    if (r) CHECK(r->header.req_id == id);
    return r;
}

}  // namespace

TEST_CASE("b9917457d5: a header with len 0 gets its reply at once, for every type, on the ring") {
    GuestHarness h;
    auto g = h.add_guest(5);
    for (std::uint32_t type = 0; type <= 26; ++type) {
        CAPTURE(type);
        auto r = one_reply(*g, type, ""s);
        REQUIRE(r);
        std::string s = summary(r);
        if (type == 15 || type == 16 || type == 20) CHECK(s == "ENOSYS");
        else if (type == wire::kTransactionStart) CHECK(r->header.type == type);  // payload ignored
        else if (type == wire::kResetWatches) CHECK(s == "OK");
        else if (type == wire::kGetFeature) CHECK(s == "15");
        else CHECK(r->header.type == wire::kError);
    }
    CHECK(load(g.page().error) == 0);
    CHECK(outcome(g->write("data/after", "ok")) == "OK");
}

TEST_CASE("0996bc07b9: malformed arguments from a guest are EINVAL and never read past the message") {
    GuestHarness h;
    auto g = h.add_guest(5);
    CHECK(summary(one_reply(*g, wire::kRead, "data"s)) == "EINVAL");  // no NUL
    CHECK(summary(one_reply(*g, wire::kRead, "data\0data\0"s)) == "EINVAL");
    CHECK(summary(one_reply(*g, wire::kWrite, "data/x"s)) == "EINVAL");
    CHECK(summary(one_reply(*g, wire::kSetPerms, "data\0"s)) == "EINVAL");
    CHECK(summary(one_reply(*g, wire::kWatch, "data\0"s)) == "EINVAL");
    CHECK(summary(one_reply(*g, wire::kUnwatch, "data\0"s)) == "EINVAL");
    CHECK(summary(one_reply(*g, wire::kDirectory, ""s)) == "EINVAL");
    CHECK(summary(one_reply(*g, wire::kDirectoryPart, "data\0"s)) == "EINVAL");
    CHECK(summary(one_reply(*g, wire::kTransactionEnd, "T"s)) == "EINVAL");
    CHECK(h.accounted(5, "watches") == 0u);
    CHECK(outcome(g->write("data/after", "ok")) == "OK");
}

TEST_CASE("625a82b59c: invalid watch paths from a guest are EINVAL and register nothing") {
    GuestHarness h;
    auto g = h.add_guest(5);
    const std::string bad[] = {"//", "/a/", "", "a//b", "/a b", "/a\x01", "/" + std::string(3072, 'l'), "data/"};
    for (const auto& p : bad) {
        CAPTURE(p.size());
        CHECK(outcome(g->watch(p, "t")) == "EINVAL");
        auto un = outcome(g->unwatch(p, "t"));
        CHECK((un == "EINVAL" || un == "ENOENT"));
    }
    CHECK(h.accounted(5, "watches") == 0u);
    CHECK(take_events(*g).empty());
}

TEST_CASE("3e43914aa8: special names from a guest: node operations refuse them, watches on / never see them") {
    GuestHarness h;
    auto g = h.add_guest(5);
    CHECK(outcome(g->read("@releaseDomain")) == "EINVAL");
    CHECK(outcome(g->write("@foo", "x")) == "EINVAL");
    CHECK(outcome(g->rm("@introduceDomain")) == "EINVAL");
    CHECK(outcome(g->directory("@releaseDomain")) == "EINVAL");
    CHECK(outcome(g->mkdir("@releaseDomain")) == "EINVAL");
    auto root = h.connect();
    REQUIRE(outcome(root->watch("/", "root")) == "OK");
    (void)take_events(*root);
    h.create(6);
    REQUIRE(outcome(h.introduce(6)) == "OK");
    for (const auto& e : take_events(*root)) CHECK(!e.path.starts_with("@"));
    REQUIRE(outcome(g->watch("@releaseDomain", "r")) == "OK");
    CHECK(outcome(g->unwatch("@releaseDomain", "r")) == "OK");
    CHECK(outcome(g->unwatch("@releaseDomain", "r")) == "ENOENT");
}

TEST_CASE("8a2c11f876, aeaed47023: data across the ring's end, a reply that wraps, a consumer index ahead") {
    GuestHarness h;
    auto peer = h.add_guest(9);
    SUBCASE("a 60-byte request starting at offset 1000") {
        auto g = h.add_guest(1);
        move_indices(g.page(), 1000);
        put(g.page(), write_of_size(60, "data/at1000", 7));
        REQUIRE(g.ring->notify().has_value());
        CHECK(summary(g->wait_reply(7)) == "OK");
        CHECK(value(h.dom0().read("/local/domain/1/data/at1000")) == std::string(60 - 16 - 12, 'v'));
    }
    SUBCASE("a reply that wraps around the response ring") {
        auto g = h.add_guest(1);
        std::string v(500, 'r');
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>('a' + i % 26);
        REQUIRE(outcome(g->write("data/v", v)) == "OK");
        move_indices(g.page(), 0xFFFFFFBCu);  // offset 956 of the ring, 68 bytes before 2^32
        CHECK(value(g->read("data/v")) == v);
    }
    SUBCASE("the guest's response consumer ahead of the producer") {
        auto g = h.add_guest(1);
        store(g.page().rsp_cons, load(g.page().rsp_prod) + 1);
        g->send(wire::kRead, "data\0"s);
        CHECK(error_is(g, ring::kErrorRingIdx));
    }
    CHECK(outcome(peer->write("data/p", "fine")) == "OK");
}

TEST_CASE("674ad2be40: reconnection drops a half-written request, watches and transactions") {
    GuestHarness h;
    auto g = h.add_guest(5);
    REQUIRE(outcome(g->watch("data", "w")) == "OK");
    auto t = g->transaction_start();
    REQUIRE(t.has_value());
    put(g.page(), raw_message(wire::kWrite, "data/half\0value"s, 55).substr(0, 24));
    REQUIRE(g.ring->notify().has_value());
    REQUIRE(outcome(g.ring->reconnect(scaled(5000ms))) == "OK");
    CHECK(load(g.page().rsp_prod) == 0);
    g.client = std::make_unique<xs::client::Client>(xs::fakexen::ring_channel(g.ring));
    g->timeout = scaled(10000ms);
    CHECK(outcome(g->transaction_end(*t, false)) == "ENOENT");
    CHECK(h.accounted(5, "watches") == 0u);
    CHECK(outcome(g->read("data/half")) == "ENOENT");
    CHECK(outcome(g->write("data/whole", "ok")) == "OK");
}

TEST_CASE("1622101b19, 84aaf4530b: @releaseDomain on every path that removes a domain, once each") {
    GuestHarness h;
    guests::DomainEvents events(h);
    for (xs::DomId d = 1; d <= 4; ++d) {
        auto g = h.add_guest(d);
        g->send(wire::kRead, "data\0"s);  // something in flight
    }
    REQUIRE(outcome(h.dom0().request_string(wire::kRelease, {"1"})) == "OK");  // RELEASE
    h.destroy(2);                                                             // gone
    h.destroy(3, true);                                                       // dying
    {
        guests::FrozenDaemon frozen(h);
        h.destroy(4);
        h.create(4);  // a new domain with the id before the daemon looked
    }
    for (xs::DomId d = 1; d <= 4; ++d) REQUIRE(events.wait_release(d));
    events.barrier();
    for (xs::DomId d = 1; d <= 4; ++d) {
        CAPTURE(d);
        CHECK(events.releases(d) == 1);
        CHECK(introduced(h, d) == "F");
    }
}

TEST_CASE("d763fcc163, 88bea76202: a guest's transactions: exactly the quota, ids never 0 nor reused while open") {
    GuestHarness h;
    auto g = h.add_guest(5);
    std::set<std::uint32_t> ids;
    for (int i = 0; i < 10; ++i) {
        auto t = g->transaction_start();
        REQUIRE(t.has_value());
        CHECK(*t != 0);
        CHECK(ids.insert(*t).second);
    }
    CHECK(outcome(g->transaction_start()) == "ENOSPC");
    CHECK(summary(g->call(wire::kTransactionStart, ""s, *ids.begin())) == "EBUSY");
    CHECK(summary(g->call(wire::kTransactionEnd, "T\0"s, 0x7777)) == "ENOENT");
    CHECK(summary(g->call(wire::kTransactionEnd, "X\0"s, *ids.begin())) == "EINVAL");
    REQUIRE(outcome(g->transaction_end(*ids.begin(), false)) == "OK");
    auto again = g->transaction_start();
    REQUIRE(again.has_value());
    ids.erase(ids.begin());
    CHECK(ids.count(*again) == 0);
}

TEST_CASE("dc6d67804f, 45dee7d92b, 887b576ba9: transaction corner cases from a guest") {
    GuestHarness h;
    auto g = h.add_guest(5);
    SUBCASE("a missing node read in T1, created by T2: T1's commit is EAGAIN") {
        auto t1 = g->transaction_start();
        auto t2 = g->transaction_start();
        REQUIRE(t1.has_value());
        REQUIRE(t2.has_value());
        CHECK(outcome(g->read("data/a", *t1)) == "ENOENT");
        REQUIRE(outcome(g->mkdir("data/a", *t2)) == "OK");
        REQUIRE(outcome(g->transaction_end(*t2, true)) == "OK");
        REQUIRE(outcome(g->write("data/b", "", *t1)) == "OK");
        CHECK(outcome(g->transaction_end(*t1, true)) == "EAGAIN");
    }
    SUBCASE("write x/y then rm x in one transaction: one event for a watch on x/y, at commit") {
        REQUIRE(outcome(g->write("data/x/y", "0")) == "OK");
        auto watcher = h.connect();
        REQUIRE(outcome(watcher->watch("/local/domain/5/data/x/y", "xy")) == "OK");
        (void)take_events(*watcher);
        auto t = g->transaction_start();
        REQUIRE(t.has_value());
        REQUIRE(outcome(g->write("data/x/y", "1", *t)) == "OK");
        REQUIRE(outcome(g->rm("data/x", *t)) == "OK");
        CHECK(take_events(*watcher).empty());
        REQUIRE(outcome(g->transaction_end(*t, true)) == "OK");
        CHECK(joined(take_events(*watcher)) == "/local/domain/5/data/x/y|xy");
    }
    SUBCASE("at the node quota: a transaction deleting five and creating five commits") {
        for (int i = 0; i < 5; ++i) REQUIRE(outcome(g->write("data/old" + std::to_string(i), "")) == "OK");
        set_quota(h, 5, "nodes", 6);
        auto t = g->transaction_start();
        REQUIRE(t.has_value());
        for (int i = 0; i < 5; ++i) CHECK(outcome(g->rm("data/old" + std::to_string(i), *t)) == "OK");
        for (int i = 0; i < 5; ++i) CHECK(outcome(g->write("data/new" + std::to_string(i), "", *t)) == "OK");
        CHECK(outcome(g->transaction_end(*t, true)) == "OK");
        CHECK(h.accounted(5) == 6u);
    }
}

TEST_CASE("ed4f4bb739, 4ce275826b, c8b9670825: at its quota a guest still rewrites, re-creates and removes") {
    GuestHarness h;
    auto g = h.add_guest(5);
    REQUIRE(outcome(g->write("data/x", "1")) == "OK");
    REQUIRE(outcome(g->mkdir("data/d")) == "OK");
    set_quota(h, 5, "nodes", 3);
    CHECK(outcome(g->write("data/x", "2")) == "OK");
    CHECK(outcome(g->mkdir("data/d")) == "OK");
    CHECK(h.accounted(5) == 3u);
    CHECK(outcome(h.dom0().write("/local/domain/5/data/control/shutdown", "poweroff")) == "OK");
    // A parent over the node-size quota (dom0 wrote it) does not stop the
    // guest from removing its child.
    REQUIRE(outcome(h.dom0().write("/local/domain/5/data/p", std::string(4000, 'p'))) == "OK");
    REQUIRE(outcome(h.dom0().write("/local/domain/5/data/p/c", "")) == "OK");
    CHECK(outcome(g->rm("data/p/c")) == "OK");
    CHECK(outcome(g->write("data/p/c", "")) == "ENOSPC");  // over its node quota again
}

TEST_CASE("f8402a98b4: garbage domids are EINVAL and never mean dom0") {
    GuestHarness h;
    auto g = h.add_guest(5);
    for (const char* bad : {"abc", "70000", "-1", "7x", ""}) {
        CAPTURE(bad);
        CHECK(outcome(g->request_string(wire::kGetDomainPath, {bad})) == "EINVAL");
        CHECK(outcome(h.dom0().request_string(wire::kRelease, {bad})) == "EINVAL");
        CHECK(outcome(h.dom0().request_string(wire::kIsDomainIntroduced, {bad})) == "EINVAL");
        CHECK(outcome(h.dom0().request_string(wire::kSetTarget, {bad, "5"})) == "EINVAL");
    }
    auto port = std::to_string(h.store_port(5));
    CHECK(outcome(h.dom0().request_string(wire::kIntroduce, {"0", "1", port})) == "EINVAL");
    CHECK(outcome(h.dom0().request_string(wire::kIntroduce, {"32752", "1", port})) == "EINVAL");
    CHECK(introduced(h, 0) == "T");
    // dom0's own ring was left alone.
    auto ring0 = h.attach(0);
    ring0->timeout = scaled(3000ms);
    CHECK(outcome(ring0->write("/tool/ring0", "still here")) == "OK");
    CHECK(outcome(g->write("data/x", "fine")) == "OK");
}

TEST_CASE("122b52230a, bcdb352075: INTRODUCE twice is one connection; a guest may not INTRODUCE") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto g = h.add_guest(5);
    REQUIRE(outcome(h.introduce(5)) == "OK");
    REQUIRE(outcome(h.introduce(5)) == "OK");
    g.client = std::make_unique<xs::client::Client>(xs::fakexen::ring_channel(g.ring));
    g->timeout = scaled(10000ms);
    REQUIRE(outcome(g->watch("data", "once")) == "OK");
    REQUIRE(outcome(h.dom0().write("/local/domain/5/data/x", "1")) == "OK");
    CHECK(joined(take_events(*g)) == "data|once;data/x|once");
    events.poll();
    CHECK(events.introduces(5) == 1);
    h.create(6);
    auto info = h.store_port(6);
    CHECK(outcome(g->request_string(wire::kIntroduce, {"6", "1", std::to_string(info)})) == "EACCES");
    CHECK(introduced(h, 6) == "F");
}

TEST_CASE("1f9d04fb02, f8c72b5261: RESET_WATCHES gives back every watch and transaction, with their counters") {
    GuestHarness h;
    auto g = h.add_guest(5);
    set_quota(h, 5, "watches", 5);
    for (int i = 0; i < 5; ++i) REQUIRE(outcome(g->watch("data", "w" + std::to_string(i))) == "OK");
    std::vector<std::uint32_t> txs;
    for (int i = 0; i < 3; ++i) txs.push_back(g->transaction_start().value_or(0));
    REQUIRE(summary(g->call(wire::kResetWatches, ""s)) == "OK");
    (void)take_events(*g);
    CHECK(h.accounted(5, "watches") == 0u);
    CHECK(h.accounted(5, "transactions") == 0u);
    for (auto t : txs) CHECK(outcome(g->transaction_end(t, true)) == "ENOENT");
    for (int i = 0; i < 5; ++i) CHECK(outcome(g->watch("data", "v" + std::to_string(i))) == "OK");
    CHECK(outcome(g->watch("data", "v5")) == "ENOSPC");
    for (int i = 0; i < 10; ++i) CHECK(g->transaction_start().has_value());
}

TEST_CASE("dbc84d2983: unknown and forbidden message types from a guest are ENOSYS, with the same req_id") {
    GuestHarness h;
    auto g = h.add_guest(5);
    for (std::uint32_t type : {15u, 16u, 20u, 27u, 100u, 65534u, 65535u, 0x7FFFFFFFu}) {
        CAPTURE(type);
        CHECK(summary(one_reply(*g, type, "data\0"s)) == "ENOSYS");
    }
    CHECK(outcome(g->write("data/after", "ok")) == "OK");
}

TEST_CASE("36c80e29e3: CONTROL from a guest is EACCES whatever its payload") {
    GuestHarness h;
    auto g = h.add_guest(5);
    CHECK(summary(one_reply(*g, wire::kControl, ""s)) == "EACCES");
    CHECK(summary(one_reply(*g, wire::kControl, std::string(16, '\0'))) == "EACCES");
    CHECK(summary(one_reply(*g, wire::kControl, "check\0"s)) == "EACCES");
    CHECK(summary(one_reply(*g, wire::kControl, "quota\0set\0nodes\0" "1\0"s)) == "EACCES");
    CHECK(value(h.dom0().request_string(wire::kGetQuota, {"nodes"})) == "1000");
}

TEST_CASE("1b4e935f45, 49dd52fb13, f3365a6bfd: the xenstore domain is not the privileged one; socket clients and guests are served") {
    // Upstream crashed when a socket connection had no domain object (the
    // xenstore domain being unprivileged). Here socket clients act as the
    // privileged domain, whichever domain the daemon runs in.
    const std::vector<std::vector<std::string>> configs = {
        {"--master-domid", "1", "--priv-domid", "0"},  // xenstore domain 1, control domain 0
        {"--priv-domid", "7"},                         // control domain 7, which the hypervisor lacks
    };
    for (const auto& args : configs) {
        CAPTURE(args[1]);
        GuestHarness h(DaemonOptions::with_args(args));
        auto& d0 = h.dom0();
        CHECK(outcome(d0.write("/split/x", "socket")) == "OK");
        CHECK(value(d0.read("/split/x")) == "socket");
        auto other = h.connect();
        CHECK(outcome(other->write("/split/y", "second socket")) == "OK");
        CHECK(outcome(other->rm("/split/y")) == "OK");
        if (args[1] == "1")  // the daemon's own domain is never introduced
            CHECK(outcome(other->request_string(wire::kIntroduce, {"1", "1", "1"})) == "EINVAL");
        auto g = h.add_guest(5);
        CHECK(outcome(g->write("data/x", "guest")) == "OK");
        CHECK(outcome(g->read("/split/x")) == "EACCES");
        CHECK(outcome(g->request_string(wire::kIsDomainIntroduced, {"5"})) == "EACCES");
        REQUIRE(h.daemon().alive());
    }
}
