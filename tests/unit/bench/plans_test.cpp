#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

#include "bench/bigstore_plan.hpp"
#include "bench/bootstorm_plan.hpp"
#include "transport/wire.hpp"

using namespace xs::bench;

namespace {

std::string path_of(const std::string& payload) { return payload.substr(0, payload.find('\0')); }

bool valid_path(const std::string& p) {
    if (p.empty() || p[0] != '/' || p.back() == '/' || p.find("//") != std::string::npos) return false;
    return std::all_of(p.begin(), p.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '@';
    });
}

std::size_t count_type(const PlanGroup& g, std::uint32_t type) {
    return static_cast<std::size_t>(
        std::count_if(g.requests.begin(), g.requests.end(), [&](const PlanRequest& r) { return r.type == type; }));
}

}  // namespace

TEST_CASE("a domain's plan: one transaction for the domain and one per device, each with N writes") {
    DomainPlan p = make_domain_plan(1234, BootShape{30, 3});
    CHECK(p.domid == 1234);
    REQUIRE(p.create_groups <= p.groups.size());
    std::size_t tx_groups = 0;
    for (std::size_t i = 0; i < p.create_groups; ++i) {
        const PlanGroup& g = p.groups[i];
        if (!g.transaction) continue;
        ++tx_groups;
        CHECK(count_type(g, xs::wire::kWrite) == 30);
    }
    CHECK(tx_groups == 4);  // the domain and three devices
    CHECK(p.groups[0].label == "domain");
    CHECK(p.groups[1].label == "vif/0");
    CHECK(p.groups[2].label == "vbd/1");
}

TEST_CASE("more writes than the realistic list are padded, fewer are cut") {
    CHECK(count_type(make_domain_plan(7, BootShape{50, 1}).groups[0], xs::wire::kWrite) == 50);
    CHECK(count_type(make_domain_plan(7, BootShape{50, 1}).groups[1], xs::wire::kWrite) == 50);
    CHECK(count_type(make_domain_plan(7, BootShape{5, 1}).groups[1], xs::wire::kWrite) == 5);
}

TEST_CASE("every path is valid and lies in the domain's areas; watches pair with unwatches") {
    DomainPlan p = make_domain_plan(42, BootShape{40, 5});
    std::size_t watches = 0, unwatches = 0;
    for (const auto& g : p.groups) {
        for (const auto& r : g.requests) {
            std::string path = path_of(r.payload);
            INFO(path);
            CHECK(valid_path(path));
            bool ours = path.rfind("/local/domain/42", 0) == 0 || path.rfind("/libxl/42", 0) == 0 ||
                        path.rfind("/vm/", 0) == 0 || path.find("/backend/") != std::string::npos;
            CHECK(ours);
            if (path.find("/backend/") != std::string::npos) CHECK(path.find("/42") != std::string::npos);
            watches += r.type == xs::wire::kWatch;
            unwatches += r.type == xs::wire::kUnwatch;
        }
    }
    CHECK(watches == 5);
    CHECK(unwatches == 5);
}

TEST_CASE("creation is verified by a READ of the name; teardown removes it and checks it is gone") {
    DomainPlan p = make_domain_plan(9, BootShape{30, 2});
    const PlanGroup& verify = p.groups[p.create_groups - 1];
    REQUIRE(verify.requests.size() == 1);
    CHECK(verify.requests[0].expect == Expect::kValue);
    CHECK(verify.requests[0].value == "dom9");
    const PlanGroup& gone = p.groups.back();
    CHECK(gone.requests[0].expect == Expect::kEnoent);
    const PlanGroup& teardown = p.groups[p.groups.size() - 2];
    CHECK(teardown.transaction);
    CHECK(count_type(teardown, xs::wire::kRm) >= 4);
}

TEST_CASE("the big store plan creates exactly nodes() nodes beneath its root") {
    BigStorePlan plan("/r", 3000, 500);
    std::set<std::string> nodes;
    std::string payload;
    for (std::uint64_t i = 0; i < plan.writes(); ++i) {
        plan.write_payload(i, payload);
        std::string path = path_of(payload);
        REQUIRE(path.rfind("/r/", 0) == 0);
        REQUIRE(valid_path(path));
        for (std::size_t s = 3; s != std::string::npos; s = path.find('/', s + 1))
            if (s > 3) nodes.insert(path.substr(0, s));
        nodes.insert(path);
    }
    CHECK(nodes.size() == plan.nodes());
    CHECK(plan.nodes() >= 3000);
    CHECK(plan.nodes() < 3000 + plan.nodes_per_domain());
    std::size_t big = 0;
    for (const auto& n : nodes) big += n.rfind("/r/dir/", 0) == 0;
    CHECK(big == 500);
}

TEST_CASE("big directory children have names of equal length") {
    CHECK(BigStorePlan::child_name(0) == "c000000");
    CHECK(BigStorePlan::child_name(42) == "c000042");
    CHECK(BigStorePlan::child_name(999999).size() == 7);
}
