// Nodes and bytes per owner, summed node by node: what a tree walk or a
// tree being built (a live update's restore) charges each domain. Kept
// apart from Deltas, whose linear search suits the few owners one
// operation touches, not the thousands a whole store may have.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "base/domid.hpp"
#include "store/effects.hpp"
#include "store/node.hpp"

namespace xs::store {

class Tally {
public:
    void add(DomId owner, std::int32_t nodes, std::int64_t bytes);
    // A whole node at a path of `path_len` bytes, counted (sign 1) or
    // taken back (sign -1).
    void node(const Node& n, std::size_t path_len, int sign = 1);
    void merge(const Deltas& d);
    Deltas deltas() const;

private:
    OwnerDelta& of(DomId owner);

    std::vector<OwnerDelta> sums_;
    std::unordered_map<DomId, std::uint32_t> index_;
    std::uint32_t last_ = 0;  // index of the last owner counted: nodes come in runs
};

// Every node from `top` down (`path_len`: top's path length), counted
// (sign 1) or taken back (sign -1). Iterative: stores can be deep.
void count_subtree(Tally& t, const Node& top, std::size_t path_len, int sign = 1);

}  // namespace xs::store
