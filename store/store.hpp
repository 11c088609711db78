// The store: the committed tree, the global generation counter, and
// transaction commit.
#pragma once

#include <cstdint>
#include <memory>

#include "store/transaction.hpp"
#include "store/tree.hpp"

namespace xs::store {

class Store {
public:
    explicit Store(DomId priv);

    const Tree& tree() const { return tree_; }
    Tree& tree() { return tree_; }
    std::uint64_t& generation() { return generation_; }
    std::uint64_t commits() const { return commits_; }

    OpContext context(const Caller& caller, const Budget& budget) { return OpContext{caller, budget, &generation_}; }

    std::unique_ptr<Transaction> begin(std::uint32_t node_limit) {
        return std::make_unique<Transaction>(tree_, node_limit);
    }

    // Commit `t` for `caller`. EAGAIN when a reply it gave would differ now; ENOSPC when the net node or memory growth does not
    // fit `budget` (quotas are charged at commit), or the error that poisoned
    // it. On success the tree holds its changes and the returned effects
    // say what changed.
    Result<Effects> commit(Transaction& t, const Caller& caller, const Budget& budget);

private:
    Tree tree_;
    std::uint64_t generation_ = 0;
    std::uint64_t commits_ = 0;
};

}  // namespace xs::store
