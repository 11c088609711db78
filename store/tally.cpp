#include "store/tally.hpp"

#include "store/tree.hpp"

namespace xs::store {

OwnerDelta& Tally::of(DomId owner) {
    if (last_ < sums_.size() && sums_[last_].domid == owner) return sums_[last_];
    auto [it, fresh] = index_.try_emplace(owner, static_cast<std::uint32_t>(sums_.size()));
    if (fresh) sums_.push_back(OwnerDelta{owner, 0, 0});
    last_ = it->second;
    return sums_[last_];
}

void Tally::add(DomId owner, std::int32_t nodes, std::int64_t bytes) {
    OwnerDelta& d = of(owner);
    d.nodes += nodes;
    d.bytes += bytes;
}

void Tally::node(const Node& n, std::size_t path_len, int sign) {
    add(n.owner(), sign, sign * charged_bytes(n, path_len));
}

void Tally::merge(const Deltas& d) {
    for (const OwnerDelta& o : d.items()) add(o.domid, o.nodes, o.bytes);
}

Deltas Tally::deltas() const { return Deltas(sums_); }

void count_subtree(Tally& t, const Node& top, std::size_t path_len, int sign) {
    std::vector<std::pair<const Node*, std::size_t>> stack{{&top, path_len}};
    while (!stack.empty()) {
        auto [n, len] = stack.back();
        stack.pop_back();
        t.node(*n, len, sign);
        n->children().for_each([&](const Node* c) {
            stack.emplace_back(c, child_path_len(len, c->name_len()));
            return true;
        });
    }
}

}  // namespace xs::store
