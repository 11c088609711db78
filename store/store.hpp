// The store: the committed tree, the global generation counter, and
// transaction commit.
#pragma once

#include <cstdint>
#include <memory>

#include "store/domain_index.hpp"
#include "store/transaction.hpp"
#include "store/tree.hpp"

namespace xs::store {

class Store {
public:
    explicit Store(DomId priv);

    // The committed tree. It changes through the members below only, which
    // keep the domain index in step with it.
    const Tree& tree() const { return tree_; }
    // Run `op(Tree&) -> Result<Effects>` on the committed tree.
    template <class Op>
    Result<Effects> edit(Op&& op) {
        Result<Effects> e = op(tree_);
        if (e) index_.apply(tree_, *e);
        return e;
    }
    // Tree::remove_domain, reaching the domain's nodes through the index:
    // the cost follows what the domain is named in, not the store's size.
    Effects remove_domain(DomId dom, bool keep_orphans);
    // A whole new committed tree (a live update's restore): the index is
    // built again from it.
    void install(Tree t);
    const DomainIndex& index() const { return index_; }
    // Compare the index with the tree (appending differences to
    // `problems`) and build it again if they differ.
    bool check_index(std::string& problems);
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
    DomId priv_;
    Tree tree_;
    DomainIndex index_;
    std::uint64_t generation_ = 0;
    std::uint64_t commits_ = 0;
};

}  // namespace xs::store
