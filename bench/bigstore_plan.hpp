// The tree the big-store workload builds under its root: one directory
// with `children` children, a small directory, and as many domains as it
// takes to reach the target node count, each with a frontend tree under
// local/domain/<d> and vif and vbd backends under local/domain/0/backend.
// Every node is created by WRITEs of leaves; nodes() counts exactly the
// nodes (intermediate ones too) those writes create beneath the root.
// Pure code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xs::bench {

class BigStorePlan {
public:
    static constexpr std::uint64_t kSmallChildren = 4;

    BigStorePlan(std::string root, std::uint64_t target_nodes, std::uint64_t children);

    std::uint64_t writes() const;
    std::uint64_t nodes() const;
    std::uint64_t domains() const { return domains_; }
    std::uint64_t children() const { return children_; }
    // The payload ("path\0value") of write `i` < writes().
    void write_payload(std::uint64_t i, std::string& out) const;

    const std::string& root() const { return root_; }
    std::string big_dir() const { return root_ + "/dir"; }
    std::string small_dir() const { return root_ + "/small"; }
    // Child `i` of the big directory: "c000042" (names of equal length).
    static std::string child_name(std::uint64_t i);

    // Nodes of one domain that no other domain shares.
    std::uint64_t nodes_per_domain() const { return per_domain_nodes_; }

private:
    std::string root_;
    std::uint64_t children_;
    std::uint64_t domains_ = 0;
    std::uint64_t per_domain_nodes_ = 0;
    std::vector<std::string> leaves_;  // relative to the root, "{}" for the domid
};

}  // namespace xs::bench
