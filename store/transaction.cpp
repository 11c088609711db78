#include "store/transaction.hpp"

#include <cerrno>

namespace xs::store {

namespace {

struct Fnv {
    std::uint64_t h = 1469598103934665603ull;
    void add(std::string_view s) {
        for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    }
    void add_byte(unsigned char c) { h = (h ^ c) * 1099511628211ull; }
};

int code_of(const Result<Effects>& r) { return r ? 0 : r.error().code; }

}  // namespace

std::uint64_t reply_digest(const Node& n, ReadKind kind) {
    Fnv f;
    switch (kind) {
        case ReadKind::Value: f.add(n.value()); break;
        case ReadKind::Children:
            n.children().for_each([&](const Node* c) {
                f.add(c->name());
                f.add_byte(0);
                return true;
            });
            break;
        case ReadKind::Perms:
            for (const PermEntry& e : n.perms->entries()) {
                f.add_byte(static_cast<unsigned char>(e.domid & 0xFF));
                f.add_byte(static_cast<unsigned char>(e.domid >> 8));
                f.add_byte(e.access);
                f.add_byte(e.ignore);
            }
            break;
    }
    return f.h;
}

Transaction::Transaction(const Tree& base, std::uint32_t node_limit)
    : base_(base), view_(base), node_limit_(node_limit) {}

void Transaction::touch(std::string_view path) {
    auto [it, inserted] = touched_.emplace(path);
    if (!inserted) return;
    memory_ += path.size() + 32;
    if (node_limit_ && touched_.size() > node_limit_) failure_ = ENOSPC;
}

Result<const Node*> Transaction::fetch(const OpContext& ctx, std::string_view path, std::uint8_t need,
                                       ReadKind kind) {
    if (failure_) return fail(failure_);
    touch(path);
    if (failure_) return fail(failure_);
    Result<const Node*> r = view_.fetch(ctx, path, need);
    Logged l{Op::Fetch, need, kind, r ? 0 : r.error().code, r ? reply_digest(**r, kind) : 0, std::string(path),
             {}, {}};
    memory_ += l.path.size() + sizeof(Logged);
    log_.push_back(std::move(l));
    return r;
}

Result<Effects> Transaction::run(Tree& t, const OpContext& ctx, const Logged& l) const {
    switch (l.op) {
        case Op::Write: return t.write(ctx, l.path, l.value);
        case Op::Mkdir: return t.mkdir(ctx, l.path);
        case Op::Rm: return t.rm(ctx, l.path);
        case Op::SetPerms: return t.set_perms(ctx, l.path, l.perms);
        case Op::Fetch: break;
    }
    return fail(EINVAL);
}

Result<> Transaction::change(const OpContext& ctx, Logged entry) {
    if (failure_) return fail(failure_);
    touch(entry.path);
    if (failure_) return fail(failure_);
    Result<Effects> r = run(view_, ctx, entry);
    entry.code = code_of(r);
    // A quota refusal inside a transaction makes its commit fail too.
    if (entry.code == ENOSPC || entry.code == ENOMEM) failure_ = entry.code;
    if (r && !r->changes.empty()) {
        changed_ = true;
        effects_.deltas.merge(r->deltas);
        for (auto& c : r->changes) effects_.changes.push_back(std::move(c));
    }
    memory_ += entry.path.size() + entry.value.size() + sizeof(Logged);
    log_.push_back(std::move(entry));
    if (failure_) return fail(failure_);
    if (!r) return fail(r.error());
    return {};
}

Result<> Transaction::write(const OpContext& ctx, std::string_view path, std::string_view value) {
    return change(ctx, Logged{Op::Write, 0, ReadKind::Value, 0, 0, std::string(path), std::string(value), {}});
}

Result<> Transaction::mkdir(const OpContext& ctx, std::string_view path) {
    return change(ctx, Logged{Op::Mkdir, 0, ReadKind::Value, 0, 0, std::string(path), {}, {}});
}

Result<> Transaction::rm(const OpContext& ctx, std::string_view path) {
    return change(ctx, Logged{Op::Rm, 0, ReadKind::Value, 0, 0, std::string(path), {}, {}});
}

Result<> Transaction::set_perms(const OpContext& ctx, std::string_view path, PermRef perms) {
    return change(ctx, Logged{Op::SetPerms, 0, ReadKind::Value, 0, 0, std::string(path), {}, std::move(perms)});
}

Result<Effects> Transaction::replay(Tree& target, const OpContext& ctx) const {
    Effects all;
    for (const Logged& l : log_) {
        if (l.op == Op::Fetch) {
            Result<const Node*> r = target.fetch(ctx, l.path, l.need);
            int code = r ? 0 : r.error().code;
            if (code != l.code || (r && reply_digest(**r, l.kind) != l.digest)) return fail(EAGAIN);
            continue;
        }
        Result<Effects> r = run(target, ctx, l);
        if (code_of(r) != l.code) return fail(EAGAIN);
        if (!r) continue;
        all.deltas.merge(r->deltas);
        for (auto& c : r->changes) all.changes.push_back(std::move(c));
    }
    return all;
}

}  // namespace xs::store
