// Per-domain usage counters with the maximum ever seen, for CONTROL
// "quota <domid>" and "quota max". Pure code.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "quota/items.hpp"

namespace xs::quota {

struct Usage {
    // Only Nodes, Watches, Outstanding, Memory and Transactions have a
    // meaningful current value; the size-like items (transaction-nodes,
    // node-permissions, path-max, node-size) only record their maximum.
    std::array<std::int64_t, kItemCount> current{};
    std::array<std::int64_t, kItemCount> max_seen{};

    // Change a count; the maximum follows it upwards.
    void add(Item item, std::int64_t delta) {
        auto& c = current[index(item)];
        c += delta;
        observe(item, c);
    }
    // Record a value seen by a check (a path length, a node size, or another
    // domain's count when this Usage holds global maxima).
    void observe(Item item, std::int64_t value) {
        auto& m = max_seen[index(item)];
        m = std::max(m, value);
    }
    void reset_max() { max_seen = current; }

    std::int64_t operator[](Item item) const { return current[index(item)]; }
};

}  // namespace xs::quota
