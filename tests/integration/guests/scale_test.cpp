// Fifty guests at once, each in its own thread through its own ring:
// writes, a watch and a transaction each, while dom0 works over the
// socket; then all fifty die together. Per-guest work is small: this is
// about many rings and event channels served side by side, not volume.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "tests/integration/guests/domain_events.hpp"
#include "tests/integration/guests/ring_access.hpp"
#include "tests/support/guest_harness.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;
namespace wire = xs::wire;

namespace {

constexpr xs::DomId kGuests = 50;
constexpr int kWrites = 10;

// Problems seen by the guest threads, checked by the main thread.
struct Problems {
    std::mutex m;
    std::vector<std::string> list;
    void add(xs::DomId d, const std::string& what) {
        std::lock_guard<std::mutex> lock(m);
        list.push_back("guest " + std::to_string(d) + ": " + what);
    }
};

// One guest's session. Returns early at the first failure.
void guest_work(GuestConn& g, Problems& problems, std::atomic<int>& ready) {
    auto& c = *g;
    xs::DomId d = g.domid;
    auto expect = [&](bool ok, const std::string& what) {
        if (!ok) problems.add(d, what);
        return ok;
    };
    if (!expect(outcome(c.watch("data/ping", "p")) == "OK", "WATCH")) return;
    auto initial = c.next_event(scaled(10s));
    if (!expect(initial && parse_event(*initial).path == "data/ping", "initial event")) return;
    ++ready;
    for (int j = 0; j < kWrites; ++j) {
        std::string v = std::to_string(d) + "-" + std::to_string(j);
        if (!expect(outcome(c.write("data/k" + std::to_string(j), v)) == "OK", "WRITE")) return;
        if (!expect(value(c.read("data/k" + std::to_string(j))) == v, "READ back")) return;
    }
    bool committed = false;
    for (int attempt = 0; attempt < 20 && !committed; ++attempt) {
        auto t = c.transaction_start();
        if (!expect(t.has_value(), "TRANSACTION_START")) return;
        if (!expect(value(c.read("data/k0", *t)) == std::to_string(d) + "-0", "READ in transaction")) return;
        if (!expect(outcome(c.write("data/tx/a", "a", *t)) == "OK", "WRITE in transaction")) return;
        if (!expect(outcome(c.write("data/tx/b", "b", *t)) == "OK", "WRITE in transaction")) return;
        auto end = c.transaction_end(*t, true);
        committed = end.has_value();
        if (!committed && !expect(outcome(end) == "EAGAIN", "TRANSACTION_END: " + outcome(end))) return;
    }
    if (!expect(committed, "no commit in 20 attempts")) return;
    if (!expect(outcome(c.mkdir("data/dir")) == "OK", "MKDIR")) return;
    if (!expect(joined(c.directory("data/tx")) == "a,b", "DIRECTORY")) return;
    // dom0 pings every guest once all are ready.
    auto ping = c.next_event(scaled(30s));
    expect(ping && parse_event(*ping).path == "data/ping", "no ping event");
}

}  // namespace

TEST_CASE("50 guests work through their rings at the same time as dom0; then they all die") {
    GuestHarness h;
    guests::DomainEvents events(h);
    std::vector<GuestConn> gs;
    for (xs::DomId d = 1; d <= kGuests; ++d) gs.push_back(h.add_guest(d));
    Problems problems;
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (auto& g : gs) threads.emplace_back([&g, &problems, &ready] { guest_work(g, problems, ready); });

    // dom0's own work meanwhile, over the socket.
    auto& d0 = h.dom0();
    int dom0_failures = 0;
    for (int i = 0; i < 200; ++i) {
        std::string p = "/tool/scale/n" + std::to_string(i % 20);
        if (outcome(d0.write(p, std::to_string(i))) != "OK") ++dom0_failures;
        if (value(d0.read(p)) != std::to_string(i)) ++dom0_failures;
    }
    CHECK(eventually([&] { return ready.load() == kGuests; }, 30000ms));
    for (xs::DomId d = 1; d <= kGuests; ++d)
        if (outcome(d0.write("/local/domain/" + std::to_string(d) + "/data/ping", "go")) != "OK") ++dom0_failures;
    for (auto& t : threads) t.join();
    CHECK(dom0_failures == 0);
    for (const auto& p : problems.list) FAIL_CHECK(p);

    for (xs::DomId d = 1; d <= kGuests; ++d) {
        CAPTURE(d);
        std::string home = "/local/domain/" + std::to_string(d);
        CHECK(value(d0.read(home + "/data/k9")) == std::to_string(d) + "-9");
        CHECK(value(d0.read(home + "/data/tx/b")) == "b");
        // data, 10 values, tx with a and b, dir, ping
        CHECK(h.accounted(d) == 1u + kWrites + 3 + 1 + 1);
        CHECK(h.accounted(d, "watches") == 1u);
    }
    h.check_accounting();

    // All fifty die.
    for (auto& g : gs) g.reset();
    for (xs::DomId d = 1; d <= kGuests; ++d) h.destroy(d);
    CHECK(eventually([&] {
        events.poll();
        for (xs::DomId d = 1; d <= kGuests; ++d)
            if (events.releases(d) == 0) return false;
        return true;
    }, 30000ms));
    events.barrier();
    for (xs::DomId d = 1; d <= kGuests; ++d) {
        CAPTURE(d);
        CHECK(events.releases(d) == 1);
        CHECK(outcome(d0.read("/local/domain/" + std::to_string(d) + "/data")) == "ENOENT");
    }
    auto tree = h.owned_nodes();
    for (xs::DomId d = 1; d <= kGuests; ++d) CHECK(tree.count(d) == 0);
}

TEST_CASE("30 full request rings kicked at once: more than one turn's worth of guest work, every request answered in order") {
    // 480 WRITEs waiting at once: the daemon serves rings for a bounded time
    // per turn (so a dom0 request never waits behind them all), and the
    // rings it did not reach must keep their place for the next turn.
    GuestHarness h;
    std::vector<GuestConn> gs;
    for (xs::DomId d = 1; d <= 30; ++d) gs.push_back(h.add_guest(d));
    for (auto& g : gs) {
        std::string all;
        for (std::uint32_t i = 0; i < 16; ++i) all += guests::write_of_size(64, "data/f" + std::to_string(10 + i), 100 + i);
        guests::put(g.page(), all);
    }
    for (auto& g : gs) REQUIRE(g.ring->notify().has_value());
    // dom0 is answered meanwhile.
    CHECK(outcome(h.dom0().write("/dom0-meanwhile", "1")) == "OK");
    for (auto& g : gs) {
        CAPTURE(g.domid);
        for (std::uint32_t i = 0; i < 16; ++i) {
            auto r = g->receive(scaled(10s));
            CAPTURE(i);
            REQUIRE(r);
            CHECK(r->header.req_id == 100 + i);  // in the order they were written
            CHECK(summary(r) == "OK");
        }
        auto listing = h.dom0().directory("/local/domain/" + std::to_string(g.domid) + "/data");
        REQUIRE(listing.has_value());
        CHECK(listing->size() == 16);
    }
}
