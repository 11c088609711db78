// The live-update workload's pure parts: the spread of watches and nodes
// over connections, and the downtime figures from reply times.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench/liveupdate_plan.hpp"
#include "bench/options.hpp"

using namespace xs::bench;

namespace {

constexpr std::uint64_t kMs = 1'000'000;

}  // namespace

TEST_CASE("watches spread over connections add up, the first ones holding one more") {
    std::uint64_t total = 0;
    for (std::uint64_t c = 0; c < 7; ++c) total += lu_watches_of(c, 7, 100);
    CHECK(total == 100);
    CHECK(lu_watches_of(0, 7, 100) == 15);
    CHECK(lu_watches_of(1, 7, 100) == 15);
    CHECK(lu_watches_of(2, 7, 100) == 14);
    CHECK(lu_watches_of(3, 100, 0) == 0);
    CHECK(lu_watches_of(0, 0, 5) == 0);
    CHECK(lu_keys_of(0) == 4);
    CHECK(lu_keys_of(10) == 10);
}

TEST_CASE("median and maximum") {
    CHECK(spread_of({}).median == 0);
    CHECK(spread_of({3, 1, 2}).median == 2);
    CHECK(spread_of({3, 1, 2}).max == 3);
    CHECK(spread_of({4, 1, 2, 3}).median == doctest::Approx(2.5));
}

TEST_CASE("the gap that spans the update is the one counted, per connection") {
    DowntimeTracker t(3, 0);
    // Before the update: short gaps, not counted.
    t.reply(0, 1 * kMs);
    t.reply(1, 1 * kMs);
    t.reply(2, 1 * kMs);
    t.reply(0, 2 * kMs);
    CHECK_FALSE(t.open());
    t.begin(10 * kMs);
    CHECK(t.open());
    // Connection 0 waits from 2 ms to 40 ms: across the whole update.
    t.reply(1, 11 * kMs);  // 1 is answered once more before the exec
    t.end(30 * kMs);
    CHECK_FALSE(t.settled());
    t.reply(0, 40 * kMs);
    t.reply(1, 35 * kMs);
    t.reply(2, 32 * kMs);
    CHECK(t.settled());
    // Later replies start after the OK: they do not count.
    t.reply(2, 500 * kMs);
    auto g = t.close();
    CHECK_FALSE(t.open());
    CHECK(g.max_ms == doctest::Approx(38));         // 40 - 2
    CHECK(g.p50_ms == doctest::Approx(31));         // gaps 38, 24 (35 - 11), 31 (32 - 1)
}

TEST_CASE("a connection not yet answered after the OK keeps the update open") {
    DowntimeTracker t(2, 0);
    t.begin(5 * kMs);
    t.end(6 * kMs);
    t.reply(0, 7 * kMs);
    CHECK_FALSE(t.settled());
    t.reply(1, 9 * kMs);
    CHECK(t.settled());
    auto g = t.close();
    CHECK(g.max_ms == doctest::Approx(9));
    CHECK(g.p50_ms == doctest::Approx(8));
    // The next update starts from fresh figures.
    t.begin(20 * kMs);
    t.end(21 * kMs);
    t.reply(0, 22 * kMs);
    t.reply(1, 23 * kMs);
    g = t.close();
    CHECK(g.max_ms == doctest::Approx(15));  // 22 - 7
    CHECK(g.p50_ms == doctest::Approx(14.5));
}

TEST_CASE("liveupdate options: only when named, guests only with a fake host") {
    auto parse = [](std::vector<std::string> a) { return parse_options(a, "/s"); };
    auto o = parse({"liveupdate"});
    REQUIRE(o.has_value());
    CHECK(o->liveupdate.nodes == 100000);
    CHECK(o->liveupdate.conns == 100);
    CHECK(o->liveupdate.watches == 1000);
    CHECK(o->liveupdate.updates == 5);
    CHECK(o->liveupdate.guests_for(false) == 0);
    CHECK(o->liveupdate.guests_for(true) == 50);
    CHECK(std::find(workload_names().begin(), workload_names().end(), "liveupdate") == workload_names().end());

    o = parse({"liveupdate", "--smoke", "--lu-conns", "6", "--lu-guests", "2", "--fakexen", "/h", "--lu-version", "1",
               "--lu-binary", "/bin/x"});
    REQUIRE(o.has_value());
    CHECK(o->liveupdate.nodes == 300);
    CHECK(o->liveupdate.conns == 6);
    CHECK(o->liveupdate.guests_for(true) == 2);
    CHECK(o->liveupdate.version == 1u);
    CHECK(o->liveupdate.binary == "/bin/x");

    CHECK_FALSE(parse({"liveupdate", "--lu-guests", "2"}).has_value());  // no fake host
    CHECK_FALSE(parse({"liveupdate", "--fakexen", "/h", "--lu-conns", "2", "--lu-guests", "3"}).has_value());
    CHECK_FALSE(parse({"liveupdate", "--lu-updates", "0"}).has_value());
    CHECK_FALSE(parse({"liveupdate", "--lu-binary", "relative"}).has_value());
    CHECK_FALSE(parse({"liveupdate", "--lu-version", "0"}).has_value());
    CHECK_FALSE(parse({"liveupdate", "--lu-conns", "2", "--lu-watches", "300"}).has_value());
}
