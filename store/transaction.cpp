#include "store/transaction.hpp"

#include <cerrno>

namespace xs::store {

Transaction::Transaction(const Tree& base, std::uint32_t node_limit)
    : base_(base), view_(base), node_limit_(node_limit) {}

Transaction::Touch& Transaction::touch(std::string_view path) {
    auto [it, inserted] = touched_.try_emplace(std::string(path));
    if (inserted) {
        memory_ += path.size() + 32;
        if (node_limit_ && touched_.size() > node_limit_) over_limit_ = true;
    }
    return it->second;
}

bool Transaction::under_removed(std::string_view path) const {
    for (const std::string& r : removed_roots_) {
        if (path.size() >= r.size() && path.compare(0, r.size(), r) == 0 &&
            (path.size() == r.size() || path[r.size()] == '/'))
            return true;
    }
    return false;
}

void Transaction::observed(std::string_view path, std::uint8_t aspects) {
    // What the transaction itself created, removed or overwrote does not
    // depend on the tree it started from; child lists always do.
    if (!removed_roots_.empty() && under_removed(path)) return;
    Touch& t = touch(path);
    if (t.written & kExists) return;
    t.observed |= aspects & ~(t.written & (kValue | kPerms));
}

void Transaction::wrote(std::string_view path, std::uint8_t aspects) { touch(path).written |= aspects; }

void Transaction::removed(std::string_view path) {
    touch(path).written |= kExists;
    removed_roots_.emplace_back(path);
    memory_ += path.size() + 32;
}

OpContext Transaction::with_me(const OpContext& ctx) {
    OpContext c = ctx;
    c.observer = this;
    return c;
}

Result<const Node*> Transaction::fetch(const OpContext& ctx, std::string_view path, std::uint8_t need,
                                       std::uint8_t aspects) {
    if (failure_) return fail(failure_);
    Result<const Node*> r = view_.fetch(with_me(ctx), path, need, aspects);
    if (over_limit_) failure_ = ENOSPC;
    if (failure_) return fail(failure_);
    return r;
}

Result<> Transaction::finish(Result<Effects> r, Logged entry) {
    if (over_limit_) failure_ = ENOSPC;
    if (!r && (r.error().code == ENOSPC || r.error().code == ENOMEM)) failure_ = r.error().code;
    if (failure_) return fail(failure_);
    if (!r) return std::unexpected(r.error());
    if (!r->changes.empty()) {  // a no-op (mkdir of an existing node) needs no replay
        memory_ += entry.path.size() + entry.value.size() + 48;
        log_.push_back(std::move(entry));
        effects_.deltas.merge(r->deltas);
        for (auto& c : r->changes) effects_.changes.push_back(std::move(c));
    }
    return {};
}

Result<> Transaction::write(const OpContext& ctx, std::string_view path, std::string_view value) {
    if (failure_) return fail(failure_);
    return finish(view_.write(with_me(ctx), path, value),
                  Logged{Op::Write, std::string(path), std::string(value), {}});
}

Result<> Transaction::mkdir(const OpContext& ctx, std::string_view path) {
    if (failure_) return fail(failure_);
    return finish(view_.mkdir(with_me(ctx), path), Logged{Op::Mkdir, std::string(path), {}, {}});
}

Result<> Transaction::rm(const OpContext& ctx, std::string_view path) {
    if (failure_) return fail(failure_);
    return finish(view_.rm(with_me(ctx), path), Logged{Op::Rm, std::string(path), {}, {}});
}

Result<> Transaction::set_perms(const OpContext& ctx, std::string_view path, PermRef perms) {
    if (failure_) return fail(failure_);
    PermRef logged = perms;
    return finish(view_.set_perms(with_me(ctx), path, std::move(perms)),
                  Logged{Op::SetPerms, std::string(path), {}, std::move(logged)});
}

namespace {

bool aspects_equal(const Node* a, const Node* b, std::uint8_t aspects) {
    if (a == b) return true;
    if (!a || !b) return false;  // existence differs
    if ((aspects & kValue) && a->value() != b->value()) return false;
    if ((aspects & kPerms) && !a->perms->same_as(b->perms->entries())) return false;
    if ((aspects & kChildren) && !a->children.same_names(b->children)) return false;
    return true;
}

}  // namespace

bool Transaction::still_valid(const Tree& live) const {
    for (const auto& [path, t] : touched_) {
        if (!t.observed) continue;
        if (!aspects_equal(base_.lookup(path), live.lookup(path), t.observed)) return false;
    }
    return true;
}

Result<Effects> Transaction::replay(Tree& target, const OpContext& ctx) const {
    Effects all;
    for (const Logged& l : log_) {
        Result<Effects> r = [&]() -> Result<Effects> {
            switch (l.op) {
                case Op::Write: return target.write(ctx, l.path, l.value);
                case Op::Mkdir: return target.mkdir(ctx, l.path);
                case Op::Rm: return target.rm(ctx, l.path);
                case Op::SetPerms: return target.set_perms(ctx, l.path, l.perms);
            }
            return fail(EINVAL);
        }();
        if (!r) return std::unexpected(r.error());
        all.deltas.merge(r->deltas);
        for (auto& c : r->changes) all.changes.push_back(std::move(c));
    }
    return all;
}

}  // namespace xs::store
