#include "bench/bigstore_plan.hpp"

#include <cstdio>
#include <set>

namespace xs::bench {

namespace {

// Nodes shared by every domain beneath the root, besides dir and small:
// local, local/domain, local/domain/0, .../backend, .../backend/vif, .../backend/vbd.
constexpr std::uint64_t kSharedNodes = 6;

const char* const kLeaves[] = {
    "local/domain/{}/name", "local/domain/{}/domid", "local/domain/{}/vm",
    "local/domain/{}/memory/target", "local/domain/{}/memory/static-max",
    "local/domain/{}/cpu/0/availability", "local/domain/{}/cpu/1/availability",
    "local/domain/{}/control/shutdown", "local/domain/{}/control/feature-poweroff",
    "local/domain/{}/control/feature-reboot", "local/domain/{}/store/port",
    "local/domain/{}/store/ring-ref", "local/domain/{}/console/port",
    "local/domain/{}/console/ring-ref", "local/domain/{}/console/type",
    "local/domain/{}/device/vif/0/backend", "local/domain/{}/device/vif/0/backend-id",
    "local/domain/{}/device/vif/0/state", "local/domain/{}/device/vif/0/handle",
    "local/domain/{}/device/vif/0/mac", "local/domain/{}/device/vbd/768/backend",
    "local/domain/{}/device/vbd/768/backend-id", "local/domain/{}/device/vbd/768/state",
    "local/domain/{}/device/vbd/768/virtual-device", "local/domain/{}/device/vbd/768/device-type",
    "local/domain/{}/data/updated", "local/domain/{}/attr/os",
    "local/domain/0/backend/vif/{}/0/frontend", "local/domain/0/backend/vif/{}/0/frontend-id",
    "local/domain/0/backend/vif/{}/0/online", "local/domain/0/backend/vif/{}/0/state",
    "local/domain/0/backend/vif/{}/0/mac", "local/domain/0/backend/vif/{}/0/bridge",
    "local/domain/0/backend/vif/{}/0/handle", "local/domain/0/backend/vif/{}/0/script",
    "local/domain/0/backend/vbd/{}/768/frontend", "local/domain/0/backend/vbd/{}/768/frontend-id",
    "local/domain/0/backend/vbd/{}/768/online", "local/domain/0/backend/vbd/{}/768/state",
    "local/domain/0/backend/vbd/{}/768/params", "local/domain/0/backend/vbd/{}/768/type",
    "local/domain/0/backend/vbd/{}/768/mode", "local/domain/0/backend/vbd/{}/768/dev",
};

std::string with_domid(const std::string& tmpl, std::uint64_t domid) {
    std::string s = tmpl;
    s.replace(s.find("{}"), 2, std::to_string(domid));
    return s;
}

// Count the nodes of one domain's leaves that lie at or below its domid
// component (the ones no other domain shares).
std::uint64_t count_domain_nodes(const std::vector<std::string>& leaves) {
    std::set<std::string> nodes;
    for (const auto& t : leaves) {
        std::string p = with_domid(t, 1);
        std::size_t own = t.find("{}");  // where the domain's own part begins
        for (std::size_t slash = p.find('/', own); ; slash = p.find('/', slash + 1)) {
            nodes.insert(p.substr(0, slash));
            if (slash == std::string::npos) break;
        }
    }
    return nodes.size();
}

}  // namespace

BigStorePlan::BigStorePlan(std::string root, std::uint64_t target_nodes, std::uint64_t children)
    : root_(std::move(root)), children_(children), leaves_(std::begin(kLeaves), std::end(kLeaves)) {
    per_domain_nodes_ = count_domain_nodes(leaves_);
    std::uint64_t fixed = 2 + children_ + kSmallChildren + kSharedNodes;  // dir, small and their children
    std::uint64_t rest = target_nodes > fixed ? target_nodes - fixed : 0;
    domains_ = (rest + per_domain_nodes_ - 1) / per_domain_nodes_;
    if (domains_ == 0) domains_ = 1;
}

std::uint64_t BigStorePlan::writes() const { return children_ + kSmallChildren + domains_ * leaves_.size(); }

std::uint64_t BigStorePlan::nodes() const {
    return 2 + children_ + kSmallChildren + kSharedNodes + domains_ * per_domain_nodes_;
}

std::string BigStorePlan::child_name(std::uint64_t i) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "c%06llu", static_cast<unsigned long long>(i));
    return buf;
}

void BigStorePlan::write_payload(std::uint64_t i, std::string& out) const {
    out = root_;
    out.push_back('/');
    if (i < children_) {
        out += "dir/" + child_name(i);
    } else if (i < children_ + kSmallChildren) {
        out += "small/" + child_name(i - children_);
    } else {
        std::uint64_t j = i - children_ - kSmallChildren;
        // Domain ids start at 1: domain 0 only hosts the backends.
        out += with_domid(leaves_[j % leaves_.size()], 1 + j / leaves_.size());
    }
    out.push_back('\0');
    out += "1";
}

}  // namespace xs::bench
