#include "store/tree.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "store/node_edit.hpp"
#include "store/path.hpp"
#include "store/tally.hpp"

namespace xs::store {

using edit::children_of;
using edit::set_value;
using edit::unshare;

namespace {

// The slot of child `name` of the unshared node `n`, or nullptr.
Node** child_slot(Node* n, std::string_view name) {
    return n->is_dir() ? n->dir_children().find_slot(name) : nullptr;
}

// Permissions for a node created by `caller` beneath `inherited`: the same
// list, except that an unprivileged creator becomes the owner.
PermRef creation_perms(const Caller& caller, PermList* inherited) {
    if (caller.privileged || inherited->owner().domid == caller.domid) return PermRef::share(inherited);
    std::vector<PermEntry> e(inherited->entries().begin(), inherited->entries().end());
    e[0].domid = caller.domid;
    e[0].ignore = false;
    return make_perms(e);
}

// Add (sign +1) or remove (-1) every node of a subtree to the accounting.
void account_subtree(const Node* top, std::size_t top_len, Deltas& d, int sign) {
    std::vector<std::pair<const Node*, std::size_t>> stack{{top, top_len}};
    while (!stack.empty()) {
        auto [n, len] = stack.back();
        stack.pop_back();
        d.add(n->owner(), sign, sign * charged_bytes(*n, len));
        n->children().for_each([&](const Node* c) {
            stack.emplace_back(c, child_path_len(len, c->name_len()));
            return true;
        });
    }
}

PermRef share_perms(const Node* n) { return n ? PermRef::share(n->perms) : PermRef(); }

}  // namespace

Tree Tree::bare(DomId priv, std::uint64_t& generation) {
    PermRef owner_only = make_perms({PermEntry{priv, kAccessNone, false}});
    PermRef release_perms = make_perms({PermEntry{priv, kAccessNone, false},
                                        PermEntry{kDomidAny, kAccessRead, false}});
    Tree t;
    ChildMap none;
    t.root_ = NodeRef(Node::make("", "", owner_only.get(), &none, ++generation));
    t.intro_ = NodeRef(Node::make(kIntroduceDomain, "", owner_only.get(), nullptr, ++generation));
    t.release_ = NodeRef(Node::make(kReleaseDomain, "", release_perms.get(), nullptr, ++generation));
    return t;
}

Tree Tree::initial(DomId priv, std::uint64_t& generation) {
    Tree t = bare(priv, generation);
    OpContext ctx{Caller{priv, true, std::nullopt}, Budget{}, &generation};
    // As the C daemon: only /tool/xenstored. /local/domain appears when the
    // toolstack writes the first domain's home (xen-init-dom0 does, for dom0).
    (void)t.mkdir(ctx, "/tool/xenstored");
    return t;
}

const Node* Tree::lookup(std::string_view path) const {
    if (is_special(path)) {
        if (path == kIntroduceDomain) return intro_.get();
        if (path == kReleaseDomain) return release_.get();
        return nullptr;
    }
    const Node* cur = root_.get();
    Components c(path);
    std::string_view comp;
    while (cur && c.next(comp)) cur = cur->children().find(comp);
    return cur;
}

Tree::Resolved Tree::resolve(std::string_view path) const {
    Resolved r;
    if (is_special(path)) {
        r.node = lookup(path);
        if (!r.node) {  // the root stands as the parent of special names
            r.ancestor = root_.get();
            r.ancestor_len = 1;
        }
        return r;
    }
    const Node* cur = root_.get();
    std::size_t len = 1;
    Components c(path);
    std::string_view comp;
    while (c.next(comp)) {
        const Node* next = cur->children().find(comp);
        if (!next) {
            r.ancestor = cur;
            r.ancestor_len = len;
            return r;
        }
        cur = next;
        len = child_path_len(len, comp.size());
    }
    r.node = cur;
    return r;
}

Result<> Tree::masked_error(const OpContext& ctx, const Resolved& r, std::uint8_t need) const {
    std::uint8_t acc = access_for(ctx.caller, r.ancestor->permissions());
    return fail((acc & need & kAccessBoth) ? ENOENT : EACCES);
}

Result<const Node*> Tree::fetch(const OpContext& ctx, std::string_view path, std::uint8_t need) const {
    Resolved r = resolve(path);
    if (!r.node) return fail(masked_error(ctx, r, need).error());
    if ((access_for(ctx.caller, r.node->permissions()) & need) != need) return fail(EACCES);
    return r.node;
}

// A shared node stays with its other holders when copied here: what a
// snapshot keeps alive grows by its size.
void Tree::unshare_counted(Node*& n, std::size_t path_len) {
    if (n->refs > 1) superseded_ += static_cast<std::uint64_t>(charged_bytes(*n, path_len));
    unshare(n);
}

Node** Tree::mutable_slot(std::string_view path) {
    Node** slot;
    if (path == kIntroduceDomain) {
        slot = &intro_.raw();
    } else if (path == kReleaseDomain) {
        slot = &release_.raw();
    } else {
        // Every node on the way is unshared before its child map changes.
        slot = &root_.raw();
        std::size_t len = 1;
        unshare_counted(*slot, len);
        Components c(path);
        std::string_view comp;
        while (c.next(comp)) {
            slot = child_slot(*slot, comp);
            len = child_path_len(len, comp.size());
            unshare_counted(*slot, len);
        }
        return slot;
    }
    unshare_counted(*slot, path.size());
    return slot;
}

// The slot of the existing node at `path`, every node on the way unshared,
// and its parent; nullptr when it does not exist (the existing part of the
// path may then have been unshared, which changes no content).
Node** Tree::mutable_existing(std::string_view path, const Node** parent) {
    Node** slot = &root_.raw();
    std::size_t len = 1;
    unshare_counted(*slot, len);
    const Node* up = nullptr;
    Components c(path);
    std::string_view comp;
    while (c.next(comp)) {
        Node** next = child_slot(*slot, comp);
        if (!next) return nullptr;
        up = *slot;
        slot = next;
        len = child_path_len(len, comp.size());
        unshare_counted(*slot, len);
    }
    *parent = up;
    return slot;
}

// One walk for the common case, an overwrite: the node is found (and made
// writable) first, its rights checked before anything changes.
Result<Effects> Tree::write(const OpContext& ctx, std::string_view path, std::string_view value) {
    if (is_special(path) || value.size() > kMaxValue) return fail(EINVAL);
    const Node* parent_node = nullptr;
    Node** slot = mutable_existing(path, &parent_node);
    if (!slot) {
        Resolved r = resolve(path);
        Result<> masked = masked_error(ctx, r, kAccessWrite);
        if (masked.error().code != ENOENT) return fail(masked.error());
        return create(ctx, path, value, r);
    }
    const Node& n = **slot;
    if (!(access_for(ctx.caller, n.permissions()) & kAccessWrite)) return fail(EACCES);
    std::int64_t growth = static_cast<std::int64_t>(value.size()) - n.value_len;
    if (ctx.budget.enforced) {
        std::uint32_t size = record_size(n.perms->size(), value.size(), n.children().name_bytes());
        if (ctx.budget.node_size && size > ctx.budget.node_size) return fail(ENOSPC);
        if (n.owner() == ctx.caller.domid && growth > ctx.budget.memory_left) return fail(ENOSPC);
    }
    Effects e;
    // An overwrite with a value of the same length (the common rewrite of a
    // state or counter) changes nobody's figures: no entry, no allocation.
    if (growth != 0) e.deltas.add(n.owner(), 0, growth);
    set_value(*slot, value, ++*ctx.generation);
    PermRef perms = share_perms(*slot);
    e.changes.push_back(Change{std::string(path), perms, perms, share_perms(parent_node), {}, {}, 0});
    return e;
}

Result<Effects> Tree::mkdir(const OpContext& ctx, std::string_view path) {
    if (is_special(path)) return fail(EINVAL);
    Resolved r = resolve(path);
    if (r.node) {
            if (!(access_for(ctx.caller, r.node->permissions()) & kAccessWrite)) return fail(EACCES);
        return Effects{};
    }
    Result<> masked = masked_error(ctx, r, kAccessWrite);
    if (masked.error().code != ENOENT) return fail(masked.error());
    return create(ctx, path, "", r);
}

Result<Effects> Tree::create(const OpContext& ctx, std::string_view path, std::string_view value,
                             const Resolved& r) {
    // The missing components beneath the closest existing ancestor.
    std::vector<std::string_view> names;
    Components c(r.ancestor_len == 1 ? path : path.substr(r.ancestor_len));
    for (std::string_view comp; c.next(comp);) names.push_back(comp);
    const Node* anc = r.ancestor;
    PermRef perms = creation_perms(ctx.caller, anc->perms);
    DomId owner = perms->owner().domid;
    const auto k = static_cast<std::int32_t>(names.size());

    // What the new nodes will cost, checked before anything changes.
    std::int64_t new_bytes = 0;
    std::size_t len = r.ancestor_len;
    bool too_big = false;
    for (std::size_t i = 0; i < names.size(); ++i) {
        len = child_path_len(len, names[i].size());
        bool last = i + 1 == names.size();
        std::uint32_t size = record_size(perms->size(), last ? value.size() : 0,
                                         last ? 0 : names[i + 1].size() + 1);
        too_big |= ctx.budget.node_size && size > ctx.budget.node_size;
        new_bytes += size + static_cast<std::int64_t>(len);
    }
    std::int64_t anc_growth = static_cast<std::int64_t>(names[0].size()) + 1;
    if (ctx.budget.enforced) {
        too_big |= ctx.budget.node_size && record_size(*anc) + anc_growth > ctx.budget.node_size;
        if (too_big) return fail(ENOSPC);
        if (owner == ctx.caller.domid) {
            std::int64_t mine = new_bytes + (anc->owner() == owner ? anc_growth : 0);
            if (k > ctx.budget.nodes_left || mine > ctx.budget.memory_left) return fail(ENOSPC);
        }
    }

    // Build the new chain bottom-up, then hang it under the ancestor.
    Node* chain = nullptr;  // the new leaf, then directories above it
    for (std::size_t i = names.size(); i-- > 0;) {
        ChildMap kids;
        if (chain) kids.insert(chain);
        chain = Node::make(names[i], i + 1 == names.size() ? value : std::string_view(), perms.get(),
                           chain ? &kids : nullptr, ++*ctx.generation);
    }
    std::string_view anc_path = path.substr(0, r.ancestor_len);
    Node** aslot = mutable_slot(anc_path);
    DomId anc_owner = (*aslot)->owner();
    children_of(*aslot).insert(chain);
    (*aslot)->set_gen(++*ctx.generation);

    Effects e;
    e.deltas.add(owner, k, new_bytes);
    e.deltas.add(anc_owner, 0, anc_growth);
    PermRef parent = names.size() > 1 ? perms : PermRef::share((*aslot)->perms);
    std::size_t first_len = child_path_len(r.ancestor_len, names[0].size());
    e.changes.push_back(
        Change{std::string(path), PermRef(), perms, parent, {}, PermRef::share((*aslot)->perms), first_len});
    return e;
}

Effects Tree::remove_subtree(std::string_view path, std::uint64_t& generation) {
    std::string_view name = basename_of(path);
    Node** pslot = mutable_slot(parent_of(path));
    NodeRef removed((*pslot)->dir_children().erase(name));
    (*pslot)->set_gen(++generation);
    Effects e;
    e.deltas.add((*pslot)->owner(), 0, -static_cast<std::int64_t>(name.size() + 1));
    // Nodes beneath may be shared with a snapshot even when the top is not:
    // the whole subtree counts as superseded.
    Deltas gone;
    account_subtree(removed.get(), path.size(), gone, -1);
    for (const OwnerDelta& d : gone.items()) superseded_ += static_cast<std::uint64_t>(-d.bytes);
    e.deltas.merge(gone);
    PermRef before = share_perms(removed.get());
    e.changes.push_back(Change{std::string(path), before, PermRef(), share_perms(*pslot), std::move(removed), {}, 0});
    return e;
}

Result<Effects> Tree::rm(const OpContext& ctx, std::string_view path) {
    if (is_special(path)) return fail(EINVAL);
    Resolved r = resolve(path);
    if (!r.node) {
        Result<> masked = masked_error(ctx, r, kAccessWrite);
        if (masked.error().code != ENOENT) return fail(masked.error());
        // Removing a missing node is fine when its parent exists.
        if (r.ancestor_len == parent_of(path).size()) return Effects{};
        return fail(ENOENT);
    }
    if (!(access_for(ctx.caller, r.node->permissions()) & kAccessWrite)) return fail(EACCES);
    // The root stays; only a caller that may write it learns so (upstream
    // checks the permission first: a guest gets EACCES).
    if (path == "/") return fail(EINVAL);
    Effects e = remove_subtree(path, *ctx.generation);
    return e;
}

Result<Effects> Tree::set_perms(const OpContext& ctx, std::string_view path, PermRef perms) {
    if (!perms || perms->size() == 0) return fail(EINVAL);
    if (perms->owner().ignore) return fail(ENOENT);
    Resolved r = resolve(path);
    if (!r.node) return fail(masked_error(ctx, r, kAccessWrite).error());
    const Node& n = *r.node;
    constexpr std::uint8_t kNeed = kAccessWrite | kAccessOwner;
    if ((access_for(ctx.caller, n.permissions()) & kNeed) != kNeed) return fail(EACCES);
    DomId old_owner = n.owner(), new_owner = perms->owner().domid;
    if (!ctx.caller.privileged && new_owner != old_owner) return fail(EPERM);
    std::size_t len = path.size();
    std::int64_t old_bytes = charged_bytes(n, len);
    std::int64_t new_bytes = record_size(perms->size(), n.value_len, n.children().name_bytes()) +
                             static_cast<std::int64_t>(len);
    if (ctx.budget.enforced) {
        if (ctx.budget.node_size && new_bytes - static_cast<std::int64_t>(len) > ctx.budget.node_size)
            return fail(ENOSPC);
        if (new_owner == ctx.caller.domid && new_bytes - old_bytes > ctx.budget.memory_left)
            return fail(ENOSPC);
    }
    Effects e;
    e.deltas.add(old_owner, -1, -old_bytes);
    e.deltas.add(new_owner, 1, new_bytes);
    PermRef before = share_perms(&n);
    PermRef after = perms;
    Node** slot = mutable_slot(path);
    edit::set_perms(*slot, std::move(perms), ++*ctx.generation);
    PermRef parent = is_special(path) ? share_perms(root_.get())
                     : path == "/"    ? PermRef()
                                      : share_perms(lookup(parent_of(path)));
    e.changes.push_back(Change{std::string(path), before, after, parent, {}, {}, 0});
    return e;
}

void Tree::for_each_node(const std::function<void(std::string_view, const Node&)>& fn) const {
    std::vector<std::pair<const Node*, std::string>> stack;
    stack.emplace_back(root_.get(), "/");
    while (!stack.empty()) {
        auto [n, path] = std::move(stack.back());
        stack.pop_back();
        fn(path, *n);
        // Push in reverse so children are visited in name order.
        std::vector<const Node*> kids;
        n->children().for_each([&](const Node* c) {
            kids.push_back(c);
            return true;
        });
        for (auto it = kids.rbegin(); it != kids.rend(); ++it) {
            std::string child = path == "/" ? "/" : path + "/";
            child.append((*it)->name());
            stack.emplace_back(*it, std::move(child));
        }
    }
    fn(kReleaseDomain, *release_);
    fn(kIntroduceDomain, *intro_);
}

Deltas Tree::tally() const {
    Tally t;
    count_subtree(t, *root_, 1);
    t.node(*intro_, kIntroduceDomain.size());
    t.node(*release_, kReleaseDomain.size());
    return t.deltas();
}

namespace {

void note_mention(Tree::Mentions& m, DomId dom, std::string_view path, const Node& n) {
    auto e = n.perms->entries();
    if (e[0].domid == dom) m.owned.emplace_back(path);
    for (std::size_t i = 1; i < e.size(); ++i) {
        if (e[i].domid == dom) {
            m.named.emplace_back(path);
            break;
        }
    }
}

void sort_unique(std::vector<std::string>& paths) {
    std::sort(paths.begin(), paths.end(), walk_order);
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
}

}  // namespace

Tree::Mentions Tree::mentions(DomId dom) const {
    Mentions m;
    for_each_node([&](std::string_view path, const Node& n) { note_mention(m, dom, path, n); });
    return m;
}

Tree::Mentions Tree::mentions(DomId dom, std::span<const std::string_view> tops) const {
    Mentions m;
    std::vector<std::pair<const Node*, std::string>> stack;
    for (std::string_view top : tops) {
        if (const Node* n = lookup(top)) stack.emplace_back(n, std::string(top));
        while (!stack.empty()) {
            auto [n, path] = std::move(stack.back());
            stack.pop_back();
            note_mention(m, dom, path, *n);
            n->children().for_each([&](const Node* c) {
                if (c->perms->names(dom)) {
                    std::string child = path == "/" ? "/" : path + "/";
                    child.append(c->name());
                    stack.emplace_back(c, std::move(child));
                }
                return true;
            });
        }
    }
    // Tops may lie beneath one another: the same node is then met twice.
    sort_unique(m.owned);
    sort_unique(m.named);
    return m;
}

Effects Tree::remove_domain(DomId dom, const Mentions& m, bool keep_orphans, DomId priv,
                            std::uint64_t& generation) {
    const std::vector<std::string>& owned = m.owned;
    const std::vector<std::string>& strip = m.named;
    Effects all;
    // Drop entries naming the domain first, while every path still exists.
    for (const std::string& p : strip) {
        const Node* n = lookup(p);
        std::vector<PermEntry> keep;
        for (std::size_t i = 0; i < n->perms->size(); ++i)
            if (i == 0 || n->perms->entries()[i].domid != dom) keep.push_back(n->perms->entries()[i]);
        std::int64_t shrink = 8 * static_cast<std::int64_t>(n->perms->size() - keep.size());
        all.deltas.add(n->owner(), 0, -shrink);
        Node** slot = mutable_slot(p);
        edit::set_perms(*slot, make_perms(keep), ++generation);
    }
    for (const std::string& p : owned) {
        const Node* n = lookup(p);
        if (!n) continue;  // inside a subtree removed just before
        // "/" and the special names cannot go: they pass to the privileged
        // domain, or a domain that reuses the domid would own them.
        if (keep_orphans || p == "/" || is_special(p)) {
            std::vector<PermEntry> e(n->perms->entries().begin(), n->perms->entries().end());
            e[0].domid = priv;
            std::int64_t bytes = charged_bytes(*n, p.size());
            all.deltas.add(dom, -1, -bytes);
            all.deltas.add(priv, 1, bytes);
            Node** slot = mutable_slot(p);
            edit::set_perms(*slot, make_perms(e), ++generation);
        } else {
            Effects e = remove_subtree(p, generation);
            all.deltas.merge(e.deltas);
            for (auto& c : e.changes) all.changes.push_back(std::move(c));
        }
    }
    return all;
}

bool Tree::check(std::string& problems) const {
    auto problem = [&](std::string_view path, std::string_view what) {
        problems.append(path).append(": ").append(what).append("\n");
    };
    for_each_node([&](std::string_view path, const Node& n) {
        if (n.refs == 0) problem(path, "node without references");
        if (!n.perms || n.perms->size() == 0) problem(path, "node without permissions");
        if (path != "/" && n.name() != basename_of(path)) problem(path, "name differs from its key");
        const char* why = nullptr;
        if (!n.children().check(why)) problem(path, why);
    });
    return problems.empty();
}

}  // namespace xs::store
