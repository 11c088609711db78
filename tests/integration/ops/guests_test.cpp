// What an operator sees of guests: rings and domains in CONTROL stats, a
// quota refusal counted and logged, a guest over its soft memory quota
// warned about, domain introduction and release in the log.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/guests/dom0_requests.hpp"
#include "tests/support/guest_harness.hpp"
#include "tools/top/json.hpp"

using namespace xs::testing;
using guests::set_quota;

namespace {

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

xs::top::Json stats_json(xs::client::Client& c) {
    auto r = c.control({"stats", "-j"});
    REQUIRE(r);
    auto j = xs::top::parse_json(*r);
    REQUIRE_MESSAGE(j, *r);
    return *j;
}

// The daemon's log, once it contains `needle` (or after the wait).
std::string log_with(GuestHarness& h, const std::string& needle) {
    auto end = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(5));
    std::string log = h.daemon().stderr_text();
    while (!has(log, needle) && std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        log = h.daemon().stderr_text();
    }
    return log;
}

const xs::top::Json* domain_row(const xs::top::Json& j, double domid) {
    for (const xs::top::Json& d : j.at("per_domain")->items)
        if (d.num("domid", -1) == domid) return &d;
    return nullptr;
}

}  // namespace

TEST_CASE("stats counts guests' rings and domains; a quota refusal is counted and logged") {
    GuestHarness h;
    auto g = h.add_guest(5);
    CHECK(has(log_with(h, "domain 5 introduced"), "domain 5 introduced (port "));
    xs::top::Json before = stats_json(h.dom0());
    CHECK(before.num("connections.rings") >= 1);
    CHECK(before.num("domains") >= 2);
    CHECK(before.num("quota_refusals") == 0);
    REQUIRE(domain_row(before, 5));

    set_quota(h, 5, "nodes", 2);
    REQUIRE(outcome(g->write("data/a", "")) == "OK");
    CHECK(outcome(g->write("data/b", "")) == "ENOSPC");
    xs::top::Json after = stats_json(h.dom0());
    CHECK(after.num("quota_refusals") == 1);
    REQUIRE(domain_row(after, 5));
    CHECK(domain_row(after, 5)->num("nodes") == 2);
    CHECK(has(log_with(h, "quota reached"), "domain 5: quota reached: WRITE refused (ENOSPC)"));
    auto text = h.dom0().control({"stats"});
    CHECK(has(text.value_or(""), "\nquota refusals: 1\n"));
}

TEST_CASE("a guest over its soft memory quota is warned about, not refused") {
    GuestHarness h;
    auto g = h.add_guest(6);
    set_quota(h, 6, "soft-memory", 100);
    CHECK(outcome(g->write("data/big", std::string(300, 'x'))) == "OK");
    CHECK(has(log_with(h, "over the soft quota"), "domain 6: memory "));
    CHECK(stats_json(h.dom0()).num("quota_refusals") == 0);
}
