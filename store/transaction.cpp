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
    : base_(base), view_(base), node_limit_(node_limit), pin_mark_(base.superseded()) {}

// The touched set and the bookkeeping bytes follow from the log, counted
// as the requests counted them when they ran.
Transaction::Transaction(Image image, std::uint32_t node_limit, std::uint64_t pin_mark)
    : view_(std::move(image.view)),
      node_limit_(node_limit),
      pin_mark_(pin_mark),
      failure_(image.failure),
      changed_(image.changed) {
    effects_.deltas = std::move(image.deltas);
    // Accepted under the limit in force then: not checked again.
    for (Logged& l : image.log) {
        note_touched(l.path);
        remember(std::move(l));
    }
}

void Transaction::remember(Logged entry) {
    memory_ += entry.path.size() + entry.value.size() + sizeof(Logged);
    log_.push_back(std::move(entry));
}

bool Transaction::note_touched(std::string_view path) {
    if (!touched_.emplace(path).second) return false;
    memory_ += path.size() + 32;
    return true;
}

// A path the transaction names: false, and the transaction poisoned, when
// a new one would exceed its node limit (the request is refused, ENOSPC;
// it is not taken, so naming it again is refused again, as upstream).
bool Transaction::touch(std::string_view path) {
    if (node_limit_ && touched_.size() >= node_limit_ && !touched_.count(std::string(path))) {
        failure_ = ENOSPC;
        return false;
    }
    note_touched(path);
    return true;
}

// A poisoned transaction still answers its requests (only its commit
// fails), as upstream's does.
Result<const Node*> Transaction::fetch(const OpContext& ctx, std::string_view path, std::uint8_t need,
                                       ReadKind kind) {
    if (!touch(path)) return fail(ENOSPC);
    Result<const Node*> r = view_.fetch(ctx, path, need);
    remember(Logged{Op::Fetch, need, kind, r ? 0 : r.error().code, r ? reply_digest(**r, kind) : 0,
                    std::string(path), {}, {}});
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
    if (!touch(entry.path)) return fail(ENOSPC);
    Result<Effects> r = run(view_, ctx, entry);
    entry.code = code_of(r);
    // A quota refusal inside a transaction makes its commit fail too.
    if (!failure_ && (entry.code == ENOSPC || entry.code == ENOMEM)) failure_ = entry.code;
    if (r && !r->changes.empty()) {
        changed_ = true;
        effects_.deltas.merge(r->deltas);
        for (auto& c : r->changes) effects_.changes.push_back(std::move(c));
    }
    remember(std::move(entry));
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

// Only the changes the client was told succeeded are made again: the view
// shows what the client believes it did. `changed_` stays as it was, for
// the same reason. The base becomes an empty tree, so the commit never
// installs the view as it is.
void Transaction::rebase(const Tree& current, const OpContext& ctx) {
    base_ = Tree();
    view_ = current;
    effects_ = Effects{};
    for (const Logged& l : log_) {
        if (l.op == Op::Fetch || l.code != 0) continue;
        Result<Effects> r = run(view_, ctx, l);
        if (r) effects_.deltas.merge(r->deltas);
    }
    pin_mark_ = current.superseded();
    ++rebases_;
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
