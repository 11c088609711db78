#include "store/effects.hpp"

namespace xs::store {

void Deltas::add(DomId dom, std::int32_t nodes, std::int64_t bytes) {
    for (auto& d : items_) {
        if (d.domid == dom) {
            d.nodes += nodes;
            d.bytes += bytes;
            return;
        }
    }
    items_.push_back(OwnerDelta{dom, nodes, bytes});
}

void Deltas::merge(const Deltas& other) {
    for (const auto& d : other.items_) add(d.domid, d.nodes, d.bytes);
}

OwnerDelta Deltas::of(DomId dom) const {
    for (const auto& d : items_)
        if (d.domid == dom) return d;
    return OwnerDelta{dom, 0, 0};
}

}  // namespace xs::store
