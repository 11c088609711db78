// Resource bounds past their values (docs/security.md, "Resource bounds";
// docs/operations.md): the documented refusal for the domain over the
// limit, and for everyone else no change at all. Open transactions whose
// snapshots would keep old versions of the tree alive (--transaction-pin);
// each per-domain quota with another guest beside it; --write-rate and
// --write-burst with another guest writing at the same time.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/integration/guests/dom0_requests.hpp"
#include "tests/support/guest_harness.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;
using guests::set_quota;
namespace wire = xs::wire;

namespace {

struct MemReport {
    unsigned long long node_bytes = 0;  // nodes alive: pool chunks in use + large nodes
    unsigned long long rebases = 0;     // transactions rebased so far
};

MemReport memreport(GuestHarness& h) {
    auto text = h.dom0().control({"memreport"});
    REQUIRE(text.has_value());
    MemReport m;
    unsigned long long slabs = 0, used = 0, large = 0, superseded = 0;
    auto pool = text->find("node pool: ");
    REQUIRE(pool != std::string::npos);
    REQUIRE(std::sscanf(text->c_str() + pool, "node pool: %llu bytes in slabs, %llu in use, %llu in large nodes",
                        &slabs, &used, &large) == 3);
    m.node_bytes = used + large;
    auto tx = text->find("transaction snapshots: ");
    REQUIRE(tx != std::string::npos);
    REQUIRE(std::sscanf(text->c_str() + tx, "transaction snapshots: %llu bytes superseded since start, %llu rebases",
                        &superseded, &m.rebases) == 2);
    return m;
}

// dom0 writes every node of /big with `value`, pipelined.
void rewrite_big(GuestHarness& h, int nodes, const std::string& value) {
    std::vector<std::uint32_t> ids;
    for (int i = 0; i < nodes; ++i)
        ids.push_back(h.dom0().send(wire::kWrite, "/big/n" + std::to_string(i) + '\0' + value));
    for (auto id : ids) REQUIRE(summary(h.dom0().wait_reply(id)) == "OK");
}

struct PinRun {
    unsigned long long growth = 0;  // node bytes alive at the end beyond those before the rounds
    unsigned long long rebases = 0;
};

// A guest keeps transactions open (the 10 its quota allows, one more
// started before each round) while dom0 rewrites a 300 KB subtree 8
// times. Unbounded, every round's transaction keeps the version it saw.
// The commit outcomes must not depend on the bound.
PinRun pinned_rounds(const std::string& pin) {
    GuestHarness h(DaemonOptions::with_args({"--transaction-pin", pin}));
    auto g = h.add_guest(5);
    constexpr int kNodes = 200, kRounds = 8;
    for (const char* p : {"data/a", "data/c"}) REQUIRE(outcome(g->write(p, "1")) == "OK");
    rewrite_big(h, kNodes, std::string(1500, '0'));
    MemReport before = memreport(h);

    // One that reads a node dom0 will change, one that only writes, and
    // one that reads a node nobody changes.
    auto reads_changed = g->transaction_start();
    auto blind = g->transaction_start();
    REQUIRE(reads_changed.has_value());
    REQUIRE(blind.has_value());
    CHECK(value(g->read("data/a", *reads_changed)) == "1");
    REQUIRE(outcome(g->write("data/x", "rc", *reads_changed)) == "OK");
    REQUIRE(outcome(g->write("data/b", "blind", *blind)) == "OK");
    std::vector<std::uint32_t> rounds;
    for (int r = 0; r < kRounds; ++r) {
        auto t = g->transaction_start();
        REQUIRE(t.has_value());
        CHECK(value(g->read("data/c", *t)) == "1");
        REQUIRE(outcome(g->write("data/r" + std::to_string(r), "v", *t)) == "OK");
        rounds.push_back(*t);
        rewrite_big(h, kNodes, std::string(1500, static_cast<char>('a' + r)));
    }
    REQUIRE(outcome(h.dom0().write("/local/domain/5/data/a", "dom0")) == "OK");
    MemReport after = memreport(h);

    // Reads after a rebase see newer data; the guest's own writes stay.
    CHECK(value(g->read("data/r0", rounds[0])) == "v");
    CHECK(outcome(g->transaction_end(*reads_changed, true)) == "EAGAIN");
    CHECK(outcome(g->read("data/x")) == "ENOENT");
    CHECK(outcome(g->transaction_end(*blind, true)) == "OK");
    CHECK(value(g->read("data/b")) == "blind");
    for (int r = 0; r < kRounds; ++r) CHECK(outcome(g->transaction_end(rounds[r], true)) == "OK");
    CHECK(value(g->read("data/r7")) == "v");
    CHECK(value(h.dom0().read("/big/n0")) == std::string(1500, 'h'));
    PinRun run;
    run.growth = after.node_bytes > before.node_bytes ? after.node_bytes - before.node_bytes : 0;
    run.rebases = after.rebases - before.rebases;
    return run;
}

}  // namespace

// A sanitizer build sends every node to malloc and the pool counts
// nothing: only the rebases and the outcomes are checked there.
TEST_CASE("--transaction-pin: a guest's open transactions keep at most the bound of old versions alive") {
    SUBCASE("bounded at 64 KiB: rebased, node memory grows by about the bound, outcomes unchanged") {
        PinRun run = pinned_rounds("65536");
        CAPTURE(run.growth);
        CHECK(run.rebases >= 8);
        // The bound, plus one node copied past it, plus the transactions'
        // own nodes (a few small ones each).
        CHECK(run.growth < 65536 + 32768);
    }
    SUBCASE("0 (off): every round's transaction keeps its own version of /big") {
        PinRun run = pinned_rounds("0");
        CAPTURE(run.growth);
        CHECK(run.rebases == 0);
        if (!sanitized()) CHECK(run.growth > 7 * 200 * 1500);
    }
}

TEST_CASE("every per-domain quota past its value: ENOSPC/EINVAL for that guest, another guest unaffected") {
    GuestHarness h;
    auto over = h.add_guest(5);
    auto other = h.add_guest(6);
    // Each quota is lowered for guest 5 only, exceeded by it, and the same
    // request is then made by guest 6 (default quotas).
    SUBCASE("nodes") {
        set_quota(h, 5, "nodes", 2);  // data + 1
        REQUIRE(outcome(over->write("data/n1", "")) == "OK");
        CHECK(outcome(over->write("data/n2", "")) == "ENOSPC");
        for (int i = 1; i <= 20; ++i) CHECK(outcome(other->write("data/n" + std::to_string(i), "")) == "OK");
    }
    SUBCASE("memory") {
        auto base = h.accounted(5, "memory");
        REQUIRE(base);
        set_quota(h, 5, "memory", *base + 500);
        CHECK(outcome(over->write("data/m", std::string(1000, 'm'))) == "ENOSPC");
        CHECK(outcome(other->write("data/m", std::string(1000, 'm'))) == "OK");
        CHECK(outcome(other->write("data/m2", std::string(2000, 'm'))) == "OK");
    }
    SUBCASE("node-size") {
        set_quota(h, 5, "node-size", 100);
        CHECK(outcome(over->write("data/v", std::string(200, 'x'))) == "ENOSPC");
        CHECK(outcome(other->write("data/v", std::string(200, 'x'))) == "OK");
    }
    SUBCASE("watches") {
        set_quota(h, 5, "watches", 1);
        REQUIRE(outcome(over->watch("data", "w1")) == "OK");
        CHECK(outcome(over->watch("data", "w2")) == "ENOSPC");
        for (int i = 1; i <= 5; ++i) CHECK(outcome(other->watch("data", "w" + std::to_string(i))) == "OK");
    }
    SUBCASE("transactions") {
        set_quota(h, 5, "transactions", 1);
        REQUIRE(over->transaction_start().has_value());
        CHECK(outcome(over->transaction_start()) == "ENOSPC");
        for (int i = 0; i < 5; ++i) CHECK(outcome(other->transaction_start()) == "OK");
    }
    SUBCASE("transaction-nodes") {
        set_quota(h, 5, "transaction-nodes", 2);
        auto t = over->transaction_start();
        REQUIRE(t.has_value());
        REQUIRE(outcome(over->write("data/t1", "", *t)) == "OK");
        REQUIRE(outcome(over->write("data/t2", "", *t)) == "OK");
        CHECK(outcome(over->write("data/t3", "", *t)) == "ENOSPC");
        CHECK(outcome(over->transaction_end(*t, true)) == "ENOSPC");
        auto t6 = other->transaction_start();
        REQUIRE(t6.has_value());
        for (int i = 1; i <= 5; ++i) CHECK(outcome(other->write("data/t" + std::to_string(i), "", *t6)) == "OK");
        CHECK(outcome(other->transaction_end(*t6, true)) == "OK");
    }
    SUBCASE("node-permissions") {
        set_quota(h, 5, "node-permissions", 2);
        CHECK(outcome(over->set_perms("data", {"n5", "r0", "r1"})) == "ENOSPC");
        CHECK(outcome(other->set_perms("data", {"n6", "r0", "r1", "r2"})) == "OK");
    }
    SUBCASE("path-max") {
        set_quota(h, 5, "path-max", 10);
        CHECK(outcome(over->write("data/" + std::string(10, 'p'), "")) == "EINVAL");
        CHECK(outcome(other->write("data/" + std::string(10, 'p'), "")) == "OK");
    }
    // Guest 5 still has its own nodes and is still served; dom0 is too.
    CHECK(outcome(over->read("data")) == "OK");
    CHECK(outcome(h.dom0().write("/tool/after", "x")) == "OK");
}

TEST_CASE("--write-rate/--write-burst: a guest over its rate waits while another guest is served at once") {
    GuestHarness h(DaemonOptions::with_args({"--write-rate", "5", "--write-burst", "3"}));
    auto fast = h.add_guest(5);
    auto other = h.add_guest(6);
    auto t = h.dom0().transaction_start();  // the limit applies while any transaction is open
    REQUIRE(t.has_value());
    constexpr std::uint32_t kWrites = 30;
    auto t0 = std::chrono::steady_clock::now();
    for (std::uint32_t i = 0; i < kWrites; ++i) fast->send(wire::kWrite, "data/f" + std::to_string(i) + '\0' + "v");
    std::uint32_t replies = 0;
    while (replies < 3 && fast->receive(scaled(5000ms))) ++replies;
    CHECK(replies == 3);  // the burst goes through at once
    // The other guest's burst is its own: served while the first one waits.
    for (int i = 0; i < 3; ++i) CHECK(outcome(other->write("data/o" + std::to_string(i), "v")) == "OK");
    CHECK(outcome(h.dom0().write("/tool/d0", "v")) == "OK");
    // Whatever else comes within a while: at most the rate.
    auto window_end = std::chrono::steady_clock::now() + 600ms;
    while (std::chrono::steady_clock::now() < window_end)
        if (fast->receive(50ms)) ++replies;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CAPTURE(secs);
    CAPTURE(replies);
    // burst + rate * elapsed, plus one write taken into debt, one read
    // before the debt was seen, and rounding.
    CHECK(replies <= 3 + static_cast<std::uint32_t>(5 * secs) + 3);
    if (secs < 4) CHECK(replies < kWrites);
    // With no transaction open the rest go through.
    REQUIRE(outcome(h.dom0().transaction_end(*t, false)) == "OK");
    auto deadline = std::chrono::steady_clock::now() + scaled(10s);
    while (replies < kWrites && std::chrono::steady_clock::now() < deadline)
        if (fast->receive(200ms)) ++replies;
    CHECK(replies == kWrites);
    CHECK(value(other->read("data/o2")) == "v");
}
