// What a store operation did, for the daemon: watch triggers and the change
// in every owner's node count and bytes.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "base/domid.hpp"
#include "store/node.hpp"
#include "store/perms.hpp"

namespace xs::store {

// One watch trigger. Watches on `path` or its ancestors match (subtree
// mode). For a removal, `removed` holds the old subtree so the watch layer
// can give exact events to watches on nodes that existed beneath `path`.
struct Change {
    std::string path;
    PermRef before;   // permissions before (null: the node did not exist)
    PermRef after;    // permissions after (null: the node was removed)
    PermRef parent;   // the parent's permissions (null for "/" and "@..." names)
    NodeRef removed;  // removals only
    // Creations only: the permissions of the existing node the new ones
    // hang under, and the length of the first new node's path (a WRITE
    // may create several nodes: "/a/b/c" beneath "/a" creates "/a/b" too).
    PermRef above;
    std::size_t first_new_len = 0;
};

struct OwnerDelta {
    DomId domid;
    std::int32_t nodes;
    std::int64_t bytes;
};

class Deltas {
public:
    Deltas() = default;
    // From sums that name each owner once (a Tally's).
    explicit Deltas(std::vector<OwnerDelta> distinct) : items_(std::move(distinct)) {}
    void add(DomId dom, std::int32_t nodes, std::int64_t bytes);
    void merge(const Deltas& other);
    const std::vector<OwnerDelta>& items() const { return items_; }
    OwnerDelta of(DomId dom) const;
    bool empty() const { return items_.empty(); }
    void clear() { items_.clear(); }

private:
    std::vector<OwnerDelta> items_;
};

struct Effects {
    std::vector<Change> changes;
    Deltas deltas;
};

// What the caller's domain may still consume; checked by an operation
// before it changes anything, so a refused operation changes nothing.
struct Budget {
    bool enforced = false;  // quotas apply (unprivileged callers)
    std::uint32_t node_size = 0;  // max record size of a written node; 0 = unlimited
    std::int64_t nodes_left = std::numeric_limits<std::int64_t>::max();
    std::int64_t memory_left = std::numeric_limits<std::int64_t>::max();
};

}  // namespace xs::store
