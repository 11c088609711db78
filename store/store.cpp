#include "store/store.hpp"

#include <cerrno>

namespace xs::store {

Store::Store(DomId priv) : tree_(Tree::initial(priv, generation_)) {}

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
    ++commits_;
    return e;
}

}  // namespace xs::store
