#include "store/store.hpp"

#include <cerrno>

namespace xs::store {

Store::Store(DomId priv) : priv_(priv), tree_(Tree::initial(priv, generation_)), index_(priv) {
    index_.rebuild(tree_);
}

Effects Store::remove_domain(DomId dom, bool keep_orphans) {
    if (!index_.tracks(dom)) {
        // The privileged domain is not indexed (it is named nearly
        // everywhere): walk the whole tree, then index it again.
        Effects e = tree_.remove_domain(dom, keep_orphans, priv_, generation_);
        index_.rebuild(tree_);
        return e;
    }
    std::vector<std::string_view> tops = index_.tops(dom);
    Tree::Mentions m = tree_.mentions(dom, tops);
    Effects e = tree_.remove_domain(dom, m, keep_orphans, priv_, generation_);
    // Other domains' tops only go with the removed subtrees: a node that
    // lost its entries naming `dom` names the others as before.
    index_.forget(dom);
    index_.apply(tree_, e);
    return e;
}

bool Store::check_index(std::string& problems) {
    if (index_.check(tree_, problems)) return true;
    index_.rebuild(tree_);
    return false;
}

void Store::install(Tree t) {
    // The count only grows: transactions compare against their marks.
    std::uint64_t superseded = tree_.superseded();
    tree_ = std::move(t);
    tree_.note_superseded(superseded);
    index_.rebuild(tree_);
}

namespace {

Result<> fits(const Effects& e, const Caller& caller, const Budget& budget) {
    if (!budget.enforced) return {};
    OwnerDelta d = e.deltas.of(caller.domid);
    if (d.nodes > 0 && d.nodes > budget.nodes_left) return fail(ENOSPC);
    if (d.bytes > 0 && d.bytes > budget.memory_left) return fail(ENOSPC);
    return {};
}

}  // namespace

Result<Effects> Store::commit(Transaction& t, const Caller& caller, const Budget& budget) {
    if (t.failure()) return fail(t.failure());
    if (t.read_only()) return Effects{};
    if (t.base().same_as(tree_)) {
        // Nothing was committed since it started: its view is the result.
        Result<> ok = fits(t.effects(), caller, budget);
        if (!ok) return fail(ok.error());
        tree_ = t.view();
        index_.apply(tree_, t.effects());
        ++commits_;
        return t.effects();
    }
    Tree next = tree_;
    // Replay onto a snapshot of the live tree (EAGAIN when a reply differs).
    // Per-request quotas were checked when the requests ran; the net growth
    // is checked below, as a whole.
    Budget replay_budget{budget.enforced, budget.node_size, Budget{}.nodes_left, Budget{}.memory_left};
    Result<Effects> e = t.replay(next, context(caller, replay_budget));
    if (!e) return e;
    Result<> ok = fits(*e, caller, budget);
    if (!ok) return fail(ok.error());
    tree_ = std::move(next);
    index_.apply(tree_, *e);
    ++commits_;
    return e;
}

}  // namespace xs::store
