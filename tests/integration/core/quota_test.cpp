// GET_QUOTA and SET_QUOTA over the socket (cxenstored.md §6.6; a quota of N
// allows exactly N, 0 = unlimited; the socket itself is exempt).
#include <doctest/doctest.h>

#include <string>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

namespace {

std::string get_quota(Client& c, const std::vector<std::string>& args) {
    return value(c.request_string(wire::kGetQuota, args));
}

}  // namespace

TEST_CASE("GET_QUOTA without arguments lists every name") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kGetQuota, ""s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kGetQuota);
    CHECK(r->payload ==
          "nodes watches outstanding memory soft-memory transactions transaction-nodes "
          "node-permissions path-max node-size\0"s);
}

TEST_CASE("GET_QUOTA <name>: upstream's defaults") {
    Harness h;
    auto& c = h.client();
    const std::vector<std::pair<std::string, std::string>> defaults = {
        {"nodes", "1000"},         {"watches", "128"},          {"outstanding", "20"},
        {"memory", "2621440"},     {"soft-memory", "2097152"},  {"transactions", "10"},
        {"transaction-nodes", "1024"}, {"node-permissions", "5"}, {"path-max", "2048"},
        {"node-size", "2048"},
    };
    for (const auto& [name, val] : defaults) {
        CAPTURE(name);
        CHECK(get_quota(c, {name}) == val);
    }
}

TEST_CASE("GET_QUOTA <domid> <name> for dom0") {
    Harness h;
    auto& c = h.client();
    CHECK(get_quota(c, {"0", "nodes"}) == "1000");
    CHECK(get_quota(c, {"0", "soft-memory"}) == "2097152");
}

TEST_CASE("GET_QUOTA errors") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.request_string(wire::kGetQuota, {"bogus"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kGetQuota, {"soft-nodes"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kGetQuota, {"0", "bogus"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kGetQuota, {"abc", "nodes"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kGetQuota, {"0", "nodes", "x"})) == "EINVAL");
}

TEST_CASE("-Q at start sets the global value") {
    Harness h(DaemonOptions::with_args({"-Q", "nodes=50", "-Q", "watches=7"}));
    auto& c = h.client();
    CHECK(get_quota(c, {"nodes"}) == "50");
    CHECK(get_quota(c, {"watches"}) == "7");
    CHECK(get_quota(c, {"transactions"}) == "10");
}

TEST_CASE("SET_QUOTA <name> <value> changes the global value") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kSetQuota, "nodes\0" "500\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kSetQuota);
    CHECK(r->payload == "OK\0"s);
    CHECK(get_quota(c, {"nodes"}) == "500");
    CHECK(outcome(c.request_string(wire::kSetQuota, {"soft-memory", "1000"})) == "OK");
    CHECK(get_quota(c, {"soft-memory"}) == "1000");
    // 0 disables a check and is allowed.
    CHECK(outcome(c.request_string(wire::kSetQuota, {"watches", "0"})) == "OK");
    CHECK(get_quota(c, {"watches"}) == "0");
}

TEST_CASE("SET_QUOTA <domid> <name> <value> overrides one domain only") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.request_string(wire::kSetQuota, {"0", "nodes", "77"})) == "OK");
    CHECK(get_quota(c, {"0", "nodes"}) == "77");
    CHECK(get_quota(c, {"nodes"}) == "1000");
}

TEST_CASE("SET_QUOTA errors change nothing") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.request_string(wire::kSetQuota, {"bogus", "5"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kSetQuota, {"nodes", "-1"})) == "EINVAL");  // UINT_MAX is reserved
    CHECK(outcome(c.request_string(wire::kSetQuota, {"nodes"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kSetQuota, {"0", "nodes", "5", "x"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kSetQuota, {"abc", "nodes", "5"})) == "EINVAL");
    CHECK(summary(c.call(wire::kSetQuota, ""s)) == "EINVAL");
    CHECK(get_quota(c, {"nodes"}) == "1000");
}

TEST_CASE("the privileged socket is exempt from quotas") {
    Harness h(DaemonOptions::with_args({"-Q", "nodes=3", "-Q", "watches=2", "-Q", "transactions=1"}));
    auto& c = h.client();
    for (int i = 0; i < 10; ++i) REQUIRE(outcome(c.write("/ex/n" + std::to_string(i), "")) == "OK");
    for (int i = 0; i < 5; ++i) REQUIRE(outcome(c.watch("/ex", "t" + std::to_string(i))) == "OK");
    auto t1 = c.transaction_start();
    auto t2 = c.transaction_start();
    auto t3 = c.transaction_start();
    CHECK(outcome(t1) == "OK");
    CHECK(outcome(t2) == "OK");
    CHECK(outcome(t3) == "OK");
}
