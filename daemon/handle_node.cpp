// Node requests: READ, WRITE, MKDIR, RM, DIRECTORY, DIRECTORY_PART,
// GET_PERMS, SET_PERMS.
#include <cerrno>

#include "daemon/daemon.hpp"
#include "store/path.hpp"

namespace xs::daemon {

using store::kAccessRead;
using store::kAccessWrite;

Result<std::string_view> Daemon::canonical(Request& r, std::string_view raw, bool special) {
    store::PathRules rules;
    rules.home = r.conn.domid();
    rules.allow_special = special;
    if (!exempt(r.conn)) rules.path_max = limit(r.conn, quota::Item::PathMax);
    return store::canonicalize(path_buf_, raw, rules).map([&] {
        if (!exempt(r.conn)) {
            std::size_t len = path_buf_.size() - store::local_prefix_len(path_buf_);
            domains_.get(r.conn.domid()).usage.observe(quota::Item::PathMax, static_cast<std::int64_t>(len));
        }
        return std::string_view(path_buf_);
    });
}

store::OpContext Daemon::context(const Connection& c, const store::Transaction* tx) {
    return store_.context(c.caller(), budget(c, tx));
}

Result<const store::Node*> Daemon::fetch(Request& r, std::string_view path, std::uint8_t need,
                                         store::ReadKind kind) {
    store::OpContext ctx = context(r.conn, r.tx);
    if (r.tx) {
        std::size_t before = r.tx->memory();
        auto n = r.tx->fetch(ctx, path, need, kind);
        charge_memory(r.conn, static_cast<std::int64_t>(r.tx->memory() - before));
        return n;
    }
    return store_.tree().fetch(ctx, path, need);
}

// The node named by the request's only argument, read with `kind`.
Result<const store::Node*> Daemon::fetch_arg(Request& r, bool special, store::ReadKind kind) {
    auto arg = one_arg(r.payload);
    if (!arg) return fail(EINVAL);
    return canonical(r, *arg, special).and_then(
        [&](std::string_view path) { return fetch(r, path, kAccessRead, kind); });
}

// Run a change on the committed tree (applying its effects now) or inside
// the request's transaction (effects wait for the commit).
template <class TreeOp, class TxOp>
Result<> Daemon::change(Request& r, TreeOp tree_op, TxOp tx_op) {
    store::OpContext ctx = context(r.conn, r.tx);
    if (r.tx) {
        std::size_t before = r.tx->memory();
        Result<> res = tx_op(*r.tx, ctx);
        charge_memory(r.conn, static_cast<std::int64_t>(r.tx->memory() - before));
        if (!exempt(r.conn))
            domains_.get(r.conn.domid()).usage.observe(quota::Item::TransactionNodes,
                                                        static_cast<std::int64_t>(r.tx->touched()));
        return res;
    }
    return store_.edit([&](store::Tree& t) { return tree_op(t, ctx); }).map([&](const store::Effects& e) {
        apply(e, r.conn);
    });
}

Result<> Daemon::on_read(Request& r) {
    return fetch_arg(r, false, store::ReadKind::Value).map([&](const store::Node* n) { r.out.assign(n->value()); });
}

Result<> Daemon::on_write(Request& r) {
    std::size_t nul = r.payload.find('\0');
    if (nul == std::string_view::npos) return fail(EINVAL);
    std::string_view value = r.payload.substr(nul + 1);
    auto path = canonical(r, r.payload.substr(0, nul), false);
    if (!path) return fail(path.error());
    std::string_view p = *path;
    return change(
               r, [&](store::Tree& t, const store::OpContext& ctx) { return t.write(ctx, p, value); },
               [&](store::Transaction& t, const store::OpContext& ctx) { return t.write(ctx, p, value); })
        .map([&] { r.out.assign("OK", 3); });
}

// MKDIR and RM: one path argument, a change, "OK".
template <class TreeOp, class TxOp>
Result<> Daemon::path_change(Request& r, TreeOp tree_op, TxOp tx_op) {
    auto arg = one_arg(r.payload);
    if (!arg) return fail(EINVAL);
    auto path = canonical(r, *arg, false);
    if (!path) return fail(path.error());
    std::string_view p = *path;
    return change(
               r, [&](store::Tree& t, const store::OpContext& ctx) { return tree_op(t, ctx, p); },
               [&](store::Transaction& t, const store::OpContext& ctx) { return tx_op(t, ctx, p); })
        .map([&] { r.out.assign("OK", 3); });
}

Result<> Daemon::on_mkdir(Request& r) {
    return path_change(
        r, [](store::Tree& t, const store::OpContext& ctx, std::string_view p) { return t.mkdir(ctx, p); },
        [](store::Transaction& t, const store::OpContext& ctx, std::string_view p) { return t.mkdir(ctx, p); });
}

Result<> Daemon::on_rm(Request& r) {
    return path_change(
        r, [](store::Tree& t, const store::OpContext& ctx, std::string_view p) { return t.rm(ctx, p); },
        [](store::Transaction& t, const store::OpContext& ctx, std::string_view p) { return t.rm(ctx, p); });
}

Result<> Daemon::on_directory(Request& r) {
    auto n = fetch_arg(r, false, store::ReadKind::Children);
    if (!n) return fail(n.error());
    if ((*n)->children().name_bytes() > wire::kPayloadMax) return fail(E2BIG);
    (*n)->children().for_each([&](const store::Node* c) {
        r.out.append(c->name());
        r.out.push_back('\0');
        return true;
    });
    return {};
}

// "<gen>\0" then the children list (names each with a NUL) from byte
// `offset`, whole names only, within the payload limit; a final chunk ends
// with an extra NUL.
Result<> Daemon::on_directory_part(Request& r) {
    if (count_nuls(r.payload) != 2) return fail(EINVAL);
    Strings args = split_strings(r.payload);
    auto offset = parse_u32(args[1]);
    if (!offset) return fail(EINVAL);
    auto path = canonical(r, args[0], false);
    if (!path) return fail(path.error());
    auto n = fetch(r, *path, kAccessRead, store::ReadKind::Children);
    if (!n) return fail(n.error());
    r.out = std::to_string((*n)->gen());
    // Upstream's bound: names are added while their total stays below
    // 4094 - strlen(gen), which keeps the reply within the payload limit.
    const std::size_t budget = wire::kPayloadMax - 2 - r.out.size();
    r.out.push_back('\0');
    std::size_t taken = 0;
    bool complete = true;
    (*n)->children().for_each_from(*offset, [&](const store::Node* c, std::uint32_t skip) {
        std::string_view name = c->name().substr(std::min<std::size_t>(skip, c->name_len()));
        if (taken + name.size() >= budget) {
            complete = false;
            return false;
        }
        r.out.append(name);
        r.out.push_back('\0');
        taken += name.size() + 1;
        return true;
    });
    if (complete) r.out.push_back('\0');
    return {};
}

Result<> Daemon::on_get_perms(Request& r) {
    return fetch_arg(r, true, store::ReadKind::Perms).map([&](const store::Node* n) {
        for (const store::PermEntry& e : n->perms->entries()) {
            store::append_perm(r.out, e);
            r.out.push_back('\0');
        }
    });
}

Result<> Daemon::on_set_perms(Request& r) {
    std::size_t nuls = count_nuls(r.payload);
    if (nuls < 2) return fail(EINVAL);
    std::size_t count = nuls - 1;
    if (!exempt(r.conn)) {
        std::uint32_t max = limit(r.conn, quota::Item::NodePermissions);
        domains_.get(r.conn.domid()).usage.observe(quota::Item::NodePermissions, static_cast<std::int64_t>(count));
        if (!quota::within(max, count)) return fail(ENOSPC);
    }
    std::size_t nul = r.payload.find('\0');
    std::string_view raw_path = r.payload.substr(0, nul);
    std::vector<store::PermEntry> entries;
    entries.reserve(count);
    std::string_view rest = r.payload.substr(nul + 1);
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t end = rest.find('\0');
        auto e = store::parse_perm(rest.substr(0, end));
        if (!e) return fail(e.error());
        entries.push_back(*e);
        rest.remove_prefix(end + 1);
    }
    // Then the domains, as upstream: a malformed list gives no domain a
    // record. A grant to a domain that does not exist is kept but inactive,
    // so a later domain reusing the id gets nothing from it.
    for (store::PermEntry& e : entries) e.ignore = !perm_domain_valid(e.domid, r.conn);
    // An owner that does not exist: ENOENT before the path is looked at, as
    // upstream (found by the differential run).
    if (entries[0].ignore) return fail(ENOENT);
    auto path = canonical(r, raw_path, true);
    if (!path) return fail(path.error());
    std::string_view p = *path;
    store::PermRef perms = store::make_perms(entries);
    return change(
               r, [&](store::Tree& t, const store::OpContext& ctx) { return t.set_perms(ctx, p, perms); },
               [&](store::Transaction& t, const store::OpContext& ctx) { return t.set_perms(ctx, p, perms); })
        .map([&] { r.out.assign("OK", 3); });
}

}  // namespace xs::daemon
