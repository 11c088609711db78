// Per-domain quotas, each enforced exactly at its value ("a quota of N
// allows exactly N", 0 = unlimited, ENOSPC; path-max EINVAL), including
// implicit parents and transactions (charged at commit); GET/SET_QUOTA;
// flow control (outstanding replies and events, memory) while other
// domains and dom0 keep full service; watch events expiring after
// -w watch-event=S.
#include <doctest/doctest.h>

#include <string>
#include <thread>

#include "tests/integration/guests/dom0_requests.hpp"
#include "tests/support/guest_harness.hpp"
#include "transport/ring.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;
using guests::introduced;
using guests::set_quota;
namespace ring = xs::ring;
namespace wire = xs::wire;

namespace {

std::uint32_t load(const std::uint32_t& field) { return __atomic_load_n(&field, __ATOMIC_ACQUIRE); }

// Queue requests `msg(i)` (i = first..last) into the guest's ring without
// reading any reply, until all are in or the daemon has stopped taking them
// for a while. Returns how many went in.
template <class Make>
std::uint32_t push_until_stalled(GuestConn& g, std::uint32_t first, std::uint32_t last, Make msg) {
    auto& page = g.page();
    std::uint32_t i = first;
    auto stalled_since = std::chrono::steady_clock::now();
    while (i <= last) {
        std::string m = msg(i);
        auto room = ring::writable(page, ring::Direction::kRequest);
        REQUIRE(room.has_value());
        if (*room >= m.size()) {
            REQUIRE(g.ring->write_raw(m) == m.size());
            ++i;
            stalled_since = std::chrono::steady_clock::now();
            continue;
        }
        if (std::chrono::steady_clock::now() - stalled_since > scaled(500ms)) break;
        g.ring->wait(20ms);
    }
    return i - first;
}

// Receive replies to requests first..last in order, writing the rest of
// them (msg(i) from `next`) as ring space allows.
template <class Make, class Check>
void drain_in_order(GuestConn& g, std::uint32_t first, std::uint32_t next, std::uint32_t last, Make msg,
                    Check check) {
    std::uint32_t expect = first;
    while (expect <= last) {
        if (next <= last) {
            std::string m = msg(next);
            auto room = ring::writable(g.page(), ring::Direction::kRequest);
            REQUIRE(room.has_value());
            if (*room >= m.size()) {
                REQUIRE(g.ring->write_raw(m) == m.size());
                ++next;
                continue;
            }
        }
        auto r = g->receive(scaled(5000ms));
        REQUIRE(r);
        CHECK(r->header.req_id == expect);
        check(*r);
        ++expect;
    }
}

}  // namespace

TEST_CASE("nodes: exactly N, through WRITE, MKDIR and implicit parents; freed nodes can be used again") {
    GuestHarness h;
    auto g = h.add_guest(5);
    REQUIRE(h.accounted(5) == 1u);  // data
    set_quota(h, 5, "nodes", 10);
    for (int i = 1; i <= 4; ++i) REQUIRE(outcome(g->write("data/n" + std::to_string(i), "")) == "OK");
    REQUIRE(outcome(g->mkdir("data/m1")) == "OK");
    REQUIRE(outcome(g->write("data/a/b/c", "")) == "OK");  // three at once
    CHECK(h.accounted(5) == 9u);
    CHECK(outcome(g->write("data/p/q", "")) == "ENOSPC");  // needs two
    CHECK(outcome(g->read("data/p")) == "ENOENT");
    CHECK(h.accounted(5) == 9u);
    CHECK(outcome(g->write("data/n5", "")) == "OK");  // the 10th
    CHECK(outcome(g->write("data/n6", "")) == "ENOSPC");
    CHECK(outcome(g->mkdir("data/m2")) == "ENOSPC");
    // At the quota, existing nodes still change and MKDIR of one is a no-op.
    CHECK(outcome(g->write("data/n1", "rewritten")) == "OK");
    CHECK(outcome(g->mkdir("data/m1")) == "OK");
    CHECK(h.accounted(5) == 10u);
    // dom0 is exempt, even when it creates nodes the guest will own.
    CHECK(outcome(h.dom0().write("/local/domain/5/data/control/shutdown", "poweroff")) == "OK");
    CHECK(h.accounted(5) == 12u);
    CHECK(outcome(g->rm("data/control")) == "OK");
    CHECK(outcome(g->rm("data/a")) == "OK");  // three back
    CHECK(outcome(g->write("data/x/y/z", "")) == "OK");
    CHECK(outcome(g->write("data/n7", "")) == "ENOSPC");
    // 0 lifts the limit.
    set_quota(h, 5, "nodes", 0);
    for (int i = 0; i < 20; ++i) REQUIRE(outcome(g->write("data/free" + std::to_string(i), "")) == "OK");
    CHECK(h.accounted(5) == 30u);
}

TEST_CASE("nodes in transactions are charged at commit") {
    GuestHarness h;
    auto g = h.add_guest(5);
    set_quota(h, 5, "nodes", 4);  // data + 3
    auto t1 = g->transaction_start();
    auto t2 = g->transaction_start();
    REQUIRE(t1.has_value());
    REQUIRE(t2.has_value());
    for (const char* p : {"data/t1a", "data/t1b", "data/t1c"}) REQUIRE(outcome(g->write(p, "", *t1)) == "OK");
    for (const char* p : {"data/t2a", "data/t2b"}) REQUIRE(outcome(g->write(p, "", *t2)) == "OK");
    CHECK(h.accounted(5) == 1u);  // nothing charged yet
    CHECK(outcome(g->transaction_end(*t1, true)) == "OK");
    CHECK(h.accounted(5) == 4u);
    CHECK(outcome(g->transaction_end(*t2, true)) == "ENOSPC");
    CHECK(outcome(g->read("data/t2a")) == "ENOENT");
    CHECK(h.accounted(5) == 4u);
    // One more than the quota, inside a transaction: refused, nothing lands.
    auto t4 = g->transaction_start();
    REQUIRE(t4.has_value());
    auto w = g->write("data/t4", "", *t4);
    auto end = g->transaction_end(*t4, true);
    CHECK((outcome(w) == "ENOSPC" || outcome(end) == "ENOSPC"));
    CHECK(outcome(end) != "OK");
    CHECK(outcome(g->read("data/t4")) == "ENOENT");
    CHECK(h.accounted(5) == 4u);
}

TEST_CASE("at the node quota, a transaction that deletes as many nodes as it creates commits") {
    GuestHarness h;
    auto g = h.add_guest(5);
    for (const char* p : {"data/old1", "data/old2"}) REQUIRE(outcome(g->write(p, "")) == "OK");
    set_quota(h, 5, "nodes", 3);  // data + 2: full
    auto t = g->transaction_start();
    REQUIRE(t.has_value());
    CHECK(outcome(g->rm("data/old1", *t)) == "OK");
    CHECK(outcome(g->rm("data/old2", *t)) == "OK");
    CHECK(outcome(g->write("data/new1", "", *t)) == "OK");
    CHECK(outcome(g->write("data/new2", "", *t)) == "OK");
    CHECK(outcome(g->transaction_end(*t, true)) == "OK");
    CHECK(joined(g->directory("data")) == "new1,new2");
    CHECK(h.accounted(5) == 3u);
}

TEST_CASE("node-size: a record of exactly N bytes is allowed, including the parent's growing child list") {
    GuestHarness h;
    auto g = h.add_guest(5);
    set_quota(h, 5, "node-size", 200);
    // A record is 16 bytes + 8 per permission + value + child names with NULs.
    CHECK(outcome(g->write("data/v", std::string(176, 'x'))) == "OK");  // 16 + 8 + 176
    CHECK(outcome(g->write("data/v", std::string(177, 'x'))) == "ENOSPC");
    CHECK(value(g->read("data/v")) == std::string(176, 'x'));
    CHECK(outcome(g->write("data/w", std::string(177, 'x'))) == "ENOSPC");
    CHECK(outcome(g->read("data/w")) == "ENOENT");
    // data holds "v\0" (2); a 173-character name brings it to 16+8+2+174 = 200.
    CHECK(outcome(g->write("data/" + std::string(173, 'n'), "")) == "OK");
    CHECK(outcome(g->write("data/y", "")) == "ENOSPC");  // data would be 202
    CHECK(outcome(g->rm("data/v")) == "OK");              // removing never checks
    CHECK(outcome(g->write("data/y", "")) == "OK");       // 200 again
    // dom0 is not bound by it.
    CHECK(outcome(h.dom0().write("/local/domain/5/data/big", std::string(1000, 'd'))) == "OK");
}

TEST_CASE("watches: exactly N per domain") {
    GuestHarness h;
    auto g = h.add_guest(5);
    set_quota(h, 5, "watches", 3);
    for (int i = 1; i <= 3; ++i) REQUIRE(outcome(g->watch("data", "w" + std::to_string(i))) == "OK");
    CHECK(outcome(g->watch("data", "w4")) == "ENOSPC");
    CHECK(outcome(g->watch("data", "w1")) == "EEXIST");
    CHECK(h.accounted(5, "watches") == 3u);
    REQUIRE(outcome(g->unwatch("data", "w1")) == "OK");
    CHECK(outcome(g->watch("data", "w4")) == "OK");
    CHECK(outcome(g->watch("data", "w5")) == "ENOSPC");
    CHECK(h.accounted(5, "watches") == 3u);
}

TEST_CASE("transactions: exactly N open at once") {
    GuestHarness h;
    auto g = h.add_guest(5);
    set_quota(h, 5, "transactions", 3);
    std::vector<std::uint32_t> open;
    for (int i = 0; i < 3; ++i) {
        auto t = g->transaction_start();
        REQUIRE(t.has_value());
        open.push_back(*t);
    }
    CHECK(outcome(g->transaction_start()) == "ENOSPC");
    CHECK(h.accounted(5, "transactions") == 3u);
    REQUIRE(outcome(g->transaction_end(open[1], false)) == "OK");
    CHECK(outcome(g->transaction_start()) == "OK");
    CHECK(outcome(g->transaction_start()) == "ENOSPC");
}

TEST_CASE("node-permissions: exactly N entries in one SET_PERMS") {
    GuestHarness h;
    auto g = h.add_guest(5);
    REQUIRE(outcome(g->write("data/x", "")) == "OK");
    set_quota(h, 5, "node-permissions", 3);
    CHECK(outcome(g->set_perms("data/x", {"n5", "r0", "r1"})) == "OK");
    CHECK(outcome(g->set_perms("data/x", {"n5", "r0", "r1", "r2"})) == "ENOSPC");
    CHECK(joined(h.dom0().get_perms("/local/domain/5/data/x")) == "n5,r0,r1");
    CHECK(outcome(h.dom0().set_perms("/local/domain/5/data/x", {"n5", "r0", "r1", "r2", "r3", "r4", "r6"})) == "OK");
}

TEST_CASE("transaction-nodes: exactly N distinct nodes touched by one transaction") {
    GuestHarness h;
    auto g = h.add_guest(5);
    for (int i = 1; i <= 8; ++i) REQUIRE(outcome(g->write("data/r" + std::to_string(i), "v")) == "OK");
    set_quota(h, 5, "transaction-nodes", 5);
    auto t = g->transaction_start();
    REQUIRE(t.has_value());
    for (int i = 1; i <= 5; ++i) CHECK(outcome(g->read("data/r" + std::to_string(i), *t)) == "OK");
    CHECK(outcome(g->read("data/r1", *t)) == "OK");  // not a new one
    CHECK(outcome(g->read("data/r6", *t)) == "ENOSPC");
    CHECK(outcome(g->transaction_end(*t, true)) == "ENOSPC");
    // A transaction within the limit commits.
    auto t2 = g->transaction_start();
    REQUIRE(t2.has_value());
    for (int i = 1; i <= 5; ++i) CHECK(outcome(g->write("data/r" + std::to_string(i), "w", *t2)) == "OK");
    CHECK(outcome(g->transaction_end(*t2, true)) == "OK");
    CHECK(value(g->read("data/r5")) == "w");
}

TEST_CASE("path-max: exactly N characters after the domain's prefix, the whole path elsewhere") {
    GuestHarness h;
    auto g = h.add_guest(5);
    set_quota(h, 5, "path-max", 30);
    std::string at_limit = "data/" + std::string(25, 'p');
    CHECK(outcome(g->write(at_limit, "ok")) == "OK");
    CHECK(outcome(g->write(at_limit + "q", "")) == "EINVAL");
    CHECK(value(g->read("/local/domain/5/" + at_limit)) == "ok");
    CHECK(outcome(g->read("/local/domain/5/" + at_limit + "q")) == "EINVAL");
    CHECK(outcome(g->watch(at_limit + "q", "t")) == "EINVAL");
    REQUIRE(outcome(h.dom0().write("/t", "")) == "OK");
    REQUIRE(outcome(h.dom0().set_perms("/t", {"n0", "b5"})) == "OK");
    CHECK(outcome(g->write("/t/" + std::string(27, 'o'), "")) == "OK");
    CHECK(outcome(g->write("/t/" + std::string(28, 'o'), "")) == "EINVAL");
    // dom0 has no path limit.
    CHECK(outcome(h.dom0().write("/local/domain/5/" + at_limit + "/deeper", "")) == "OK");
    CHECK(outcome(g->read(at_limit + "/deeper")) == "EINVAL");
}

TEST_CASE("memory: a guest's usage never passes its quota") {
    GuestHarness h;
    auto g = h.add_guest(5);
    auto base = h.accounted(5, "memory");
    REQUIRE(base);
    std::uint64_t quota = *base + 2000;
    set_quota(h, 5, "memory", quota);
    CHECK(outcome(g->write("data/m1", std::string(1000, 'm'))) == "OK");
    CHECK(outcome(g->write("data/m2", std::string(1000, 'm'))) == "ENOSPC");
    CHECK(outcome(g->read("data/m2")) == "ENOENT");
    CHECK(outcome(g->write("data/m1", std::string(1990, 'm'))) == "ENOSPC");
    CHECK(value(g->read("data/m1")) == std::string(1000, 'm'));
    CHECK(outcome(g->write("data/s", "x")) == "OK");
    auto used = h.accounted(5, "memory");
    REQUIRE(used);
    CHECK(*used <= quota);
    CHECK(outcome(g->rm("data/m1")) == "OK");
    CHECK(outcome(g->write("data/m2", std::string(1000, 'm'))) == "OK");
}

TEST_CASE("GET_QUOTA and SET_QUOTA: names, global and per-domain values, 0 = unlimited") {
    GuestHarness h;
    auto& d0 = h.dom0();
    auto g5 = h.add_guest(5);
    auto g6 = h.add_guest(6);
    CHECK(value(d0.request_string(wire::kGetQuota, {})) ==
          "nodes watches outstanding memory soft-memory transactions transaction-nodes node-permissions path-max "
          "node-size");
    const std::pair<const char*, const char*> defaults[] = {
        {"nodes", "1000"}, {"watches", "128"}, {"outstanding", "20"}, {"memory", "2621440"},
        {"soft-memory", "2097152"}, {"transactions", "10"}, {"transaction-nodes", "1024"},
        {"node-permissions", "5"}, {"path-max", "2048"}, {"node-size", "2048"}};
    for (auto [name, v] : defaults) {
        CAPTURE(name);
        CHECK(value(d0.request_string(wire::kGetQuota, {name})) == v);
        CHECK(value(d0.request_string(wire::kGetQuota, {"5", name})) == v);
    }
    CHECK(outcome(d0.request_string(wire::kSetQuota, {"5", "nodes", "7"})) == "OK");
    CHECK(outcome(d0.request_string(wire::kSetQuota, {"nodes", "600"})) == "OK");
    CHECK(value(d0.request_string(wire::kGetQuota, {"5", "nodes"})) == "7");
    CHECK(value(d0.request_string(wire::kGetQuota, {"6", "nodes"})) == "600");
    CHECK(value(d0.request_string(wire::kGetQuota, {"nodes"})) == "600");
    CHECK(outcome(d0.request_string(wire::kSetQuota, {"nodes", "4294967295"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kSetQuota, {"bogus", "1"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kGetQuota, {"bogus"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kGetQuota, {"44", "nodes"})) == "ENOENT");
    CHECK(outcome(d0.request_string(wire::kSetQuota, {"44", "nodes", "1"})) == "ENOENT");
    CHECK(outcome(d0.request_string(wire::kGetQuota, {"5", "nodes", "x"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kSetQuota, {"5", "nodes", "x"})) == "EINVAL");
    // The per-domain value is the one enforced.
    for (int i = 1; i <= 6; ++i) REQUIRE(outcome(g5->write("data/n" + std::to_string(i), "")) == "OK");
    CHECK(outcome(g5->write("data/n7", "")) == "ENOSPC");
    CHECK(outcome(d0.request_string(wire::kSetQuota, {"5", "nodes", "0"})) == "OK");
    CHECK(outcome(g5->write("data/n7", "")) == "OK");
    CHECK(outcome(g6->write("data/x", "")) == "OK");
    auto text = d0.control({"quota", "5"});
    REQUIRE(text.has_value());
    CHECK(quota_row(*text, "nodes") == 8u);
}

TEST_CASE("outstanding: a guest that does not read its replies stops being read; others keep full service") {
    GuestHarness h;
    auto g = h.add_guest(5);
    auto peer = h.add_guest(6);
    std::string big(1000, 'B');
    REQUIRE(outcome(g->write("data/big", big)) == "OK");
    auto rss_before = h.daemon().rss();
    auto msg = [](std::uint32_t i) { return raw_message(wire::kRead, "data/big\0"s, i); };
    constexpr std::uint32_t kTotal = 300;
    std::uint32_t sent = push_until_stalled(g, 1, kTotal, msg);
    CHECK(sent < kTotal);
    // At most a ring of replies went out; the rest wait, within the quota.
    CHECK(load(g.page().rsp_prod) - load(g.page().rsp_cons) <= ring::kRingSize);
    auto outstanding = h.accounted(5, "outstanding");
    REQUIRE(outstanding);
    CHECK(*outstanding <= 20);
    CHECK(*outstanding >= 19);
    auto memory = h.accounted(5, "memory");
    REQUIRE(memory);
    CHECK(*memory <= 2621440u);
    // Everyone else is served as usual.
    for (int i = 0; i < 20; ++i) {
        REQUIRE(outcome(peer->write("data/p", std::to_string(i))) == "OK");
        REQUIRE(outcome(h.dom0().read("/local/domain/6/data/p")) == "OK");
    }
    auto rss_after = h.daemon().rss();
    if (rss_before && rss_after) CHECK(*rss_after < *rss_before + scaled_bytes(8u << 20));
    // Once it reads, everything arrives, in order.
    drain_in_order(g, 1, 1 + sent, kTotal, msg, [&](const xs::client::Message& m) { CHECK(m.payload == big); });
    CHECK(h.accounted(5, "outstanding") == 0u);
}

TEST_CASE("memory: queued replies count, and a guest over its memory quota is not read") {
    GuestHarness h;
    auto g = h.add_guest(5);
    std::string big(1000, 'M');
    REQUIRE(outcome(g->write("data/big", big)) == "OK");
    set_quota(h, 5, "outstanding", 0);
    auto base = h.accounted(5, "memory");
    REQUIRE(base);
    std::uint64_t quota = *base + 5000;
    set_quota(h, 5, "memory", quota);
    auto msg = [](std::uint32_t i) { return raw_message(wire::kRead, "data/big\0"s, i); };
    constexpr std::uint32_t kTotal = 100;
    std::uint32_t sent = push_until_stalled(g, 1, kTotal, msg);
    CHECK(sent < kTotal);
    auto used = h.accounted(5, "memory");
    REQUIRE(used);
    CHECK(*used >= quota);                              // that is why it stopped
    CHECK(*used <= quota + wire::kHeaderSize + 1000);  // by one reply at most
    drain_in_order(g, 1, 1 + sent, kTotal, msg, [&](const xs::client::Message& m) { CHECK(m.payload == big); });
}

TEST_CASE("events a guest's writes cause are its outstanding work until the watcher takes them") {
    GuestHarness h;
    auto writer = h.add_guest(5);
    auto watcher = h.add_guest(6);
    REQUIRE(outcome(writer->set_perms("data", {"n5", "r6"})) == "OK");
    REQUIRE(outcome(watcher->watch("/local/domain/5/data", "w")) == "OK");
    REQUIRE(wait_event(*watcher));
    // The watcher stops reading; the writer pipelines writes.
    constexpr std::uint32_t kWrites = 80;
    for (std::uint32_t i = 1; i <= kWrites; ++i) writer->send(wire::kWrite, "data/e" + std::to_string(i) + '\0' + "v");
    std::uint32_t replies = 0;
    while (writer->receive(scaled(500ms))) ++replies;
    CHECK(replies < kWrites);  // held back by the events it caused
    CHECK(h.accounted(5, "outstanding") >= 19u);
    CHECK(outcome(h.dom0().read("/local/domain/5/data")) == "OK");
    // The watcher reads: the writer goes on, and every event arrives.
    std::uint32_t events = 0;
    auto deadline = std::chrono::steady_clock::now() + scaled(20s);
    while ((events < kWrites || replies < kWrites) && std::chrono::steady_clock::now() < deadline) {
        while (watcher->next_event(10ms)) ++events;
        while (writer->receive(10ms)) ++replies;
    }
    CHECK(events == kWrites);
    CHECK(replies == kWrites);
}

TEST_CASE("-w watch-event=1: events a guest leaves unread are dropped after a second, and the writer goes on") {
    GuestHarness h(DaemonOptions::with_args({"-w", "watch-event=1"}));
    auto writer = h.add_guest(5);
    auto watcher = h.add_guest(6);
    REQUIRE(outcome(writer->set_perms("data", {"n5", "r6"})) == "OK");
    REQUIRE(outcome(watcher->watch("/local/domain/5/data", "w")) == "OK");
    REQUIRE(wait_event(*watcher));
    constexpr std::uint32_t kWrites = 80;
    for (std::uint32_t i = 1; i <= kWrites; ++i) writer->send(wire::kWrite, "data/e" + std::to_string(i) + '\0' + "v");
    std::this_thread::sleep_for(2s);
    std::uint32_t replies = 0;
    while (replies < kWrites && writer->receive(scaled(5000ms))) ++replies;
    CHECK(replies == kWrites);
    std::uint32_t events = 0;
    while (watcher->next_event(scaled(300ms))) ++events;
    CHECK(events > 0);
    CHECK(events < kWrites);  // what the ring held, not what expired
    // Fresh events are delivered as usual.
    REQUIRE(outcome(writer->write("data/after", "1")) == "OK");
    auto e = wait_event(*watcher);
    REQUIRE(e);
    CHECK(e->path == "/local/domain/5/data/after");
    CHECK(h.accounted(5, "outstanding") == 0u);
}
