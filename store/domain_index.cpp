#include "store/domain_index.hpp"

#include <algorithm>
#include <utility>

#include "store/tree.hpp"

namespace xs::store {

namespace {

std::string child_path(std::string_view parent, std::string_view name) {
    std::string p(parent);
    if (p != "/") p.push_back('/');
    p.append(name);
    return p;
}

// The parent of the node at `path`, or nullptr for "/" and special names.
const Node* parent_node(const Tree& t, std::string_view path) {
    if (path == "/" || is_special(path)) return nullptr;
    return t.lookup(parent_of(path));
}

}  // namespace

std::vector<DomId> DomainIndex::named(const PermList* p) const {
    std::vector<DomId> out;
    if (!p) return out;
    for (const PermEntry& e : p->entries())
        if (tracks(e.domid) && std::find(out.begin(), out.end(), e.domid) == out.end()) out.push_back(e.domid);
    return out;
}

void DomainIndex::insert(DomId dom, std::string_view path) {
    if (!tracks(dom)) return;
    auto it = by_path_.find(path);
    if (it == by_path_.end()) it = by_path_.emplace(std::string(path), std::vector<DomId>{}).first;
    std::vector<DomId>& doms = it->second;
    if (std::find(doms.begin(), doms.end(), dom) != doms.end()) return;
    doms.push_back(dom);
    by_dom_[dom].insert(it->first);
    ++entries_;
}

void DomainIndex::erase(DomId dom, std::string_view path) {
    auto it = by_path_.find(path);
    if (it == by_path_.end()) return;
    std::vector<DomId>& doms = it->second;
    auto d = std::find(doms.begin(), doms.end(), dom);
    if (d == doms.end()) return;
    doms.erase(d);
    auto set = by_dom_.find(dom);
    set->second.erase(it->first);
    if (set->second.empty()) by_dom_.erase(set);
    if (doms.empty()) by_path_.erase(it);
    --entries_;
}

// Every entry at `top` or beneath it: a removed subtree.
void DomainIndex::erase_within(std::string_view top) {
    auto it = by_path_.lower_bound(top);
    while (it != by_path_.end() && within(it->first, top)) {
        for (DomId dom : it->second) {
            auto set = by_dom_.find(dom);
            set->second.erase(it->first);
            if (set->second.empty()) by_dom_.erase(set);
            --entries_;
        }
        it = by_path_.erase(it);
    }
}

void DomainIndex::forget(DomId dom) {
    auto set = by_dom_.find(dom);
    if (set == by_dom_.end()) return;
    for (std::string_view path : set->second) {
        auto it = by_path_.find(path);
        std::erase(it->second, dom);
        --entries_;
        if (it->second.empty()) by_path_.erase(it);
    }
    by_dom_.erase(set);
}

std::vector<std::string_view> DomainIndex::tops(DomId dom) const {
    auto set = by_dom_.find(dom);
    if (set == by_dom_.end()) return {};
    return {set->second.begin(), set->second.end()};
}

// Whether the node at `path` is a top of each of `doms`, as the tree is now.
void DomainIndex::recheck(const Tree& t, std::string_view path, const std::vector<DomId>& doms) {
    const Node* n = t.lookup(path);
    const Node* parent = n ? parent_node(t, path) : nullptr;
    for (DomId d : doms) {
        bool top = n && n->perms->names(d) && !(parent && parent->perms->names(d));
        if (top) insert(d, path);
        else erase(d, path);
    }
}

// The node at `path` stopped naming `lost`: those of its children that name
// one of them become its tops.
void DomainIndex::lost_at(const Tree& t, std::string_view path, const std::vector<DomId>& lost) {
    const Node* n = t.lookup(path);
    if (!n) return;
    n->children().for_each([&](const Node* c) {
        if (c->perms == n->perms) return true;
        for (DomId d : lost)
            if (c->perms->names(d) && !n->perms->names(d)) insert(d, child_path(path, c->name()));
        return true;
    });
}

void DomainIndex::apply(const Tree& t, const Effects& e) {
    for (const Change& c : e.changes) {
        if (!c.after) {
            erase_within(c.path);
        } else if (!c.before) {
            // New nodes share one list: only the first can be a top.
            if (c.after.get() == c.above.get()) continue;
            std::string_view first = c.first_new_len ? std::string_view(c.path).substr(0, c.first_new_len)
                                                     : std::string_view(c.path);
            for (DomId d : named(c.after.get()))
                if (!c.above || !c.above->names(d)) insert(d, first);
        } else if (c.before.get() != c.after.get()) {
            std::vector<DomId> before = named(c.before.get()), doms = named(c.after.get());
            std::vector<DomId> lost;
            for (DomId d : before) {
                if (std::find(doms.begin(), doms.end(), d) == doms.end()) lost.push_back(d);
            }
            doms.insert(doms.end(), lost.begin(), lost.end());
            recheck(t, c.path, doms);
            if (!lost.empty()) lost_at(t, c.path, lost);
        }
    }
}

// One walk; a node's path is built only when it is a top (a node with its
// parent's list, the common case, costs a pointer comparison).
void DomainIndex::rebuild(const Tree& t) {
    by_path_.clear();
    by_dom_.clear();
    entries_ = 0;
    struct Item {
        const Node* node;
        const PermList* parent;
        std::size_t parent_len;
    };
    std::string path;
    std::vector<Item> stack{{t.root(), nullptr, 0}};
    while (!stack.empty()) {
        Item it = stack.back();
        stack.pop_back();
        path.resize(it.parent_len);
        if (it.parent && it.parent_len > 1) path.push_back('/');
        if (it.parent) path.append(it.node->name());
        else path = "/";
        if (it.node->perms != it.parent) {
            for (DomId d : named(it.node->perms))
                if (!it.parent || !it.parent->names(d)) insert(d, path);
        }
        std::size_t len = path.size();
        it.node->children().for_each([&](const Node* c) {
            // A leaf with its parent's list (most nodes) names no one new.
            if (c->perms != it.node->perms || !c->children().empty()) stack.push_back(Item{c, it.node->perms, len});
            return true;
        });
    }
    for (std::string_view special : {kReleaseDomain, kIntroduceDomain})
        for (DomId d : named(t.lookup(special)->perms)) insert(d, special);
}

bool DomainIndex::check(const Tree& t, std::string& problems) const {
    std::size_t before = problems.size();
    DomainIndex fresh(untracked_);
    fresh.rebuild(t);
    for (const auto& [path, doms] : fresh.by_path_) {
        auto mine = by_path_.find(path);
        for (DomId d : doms)
            if (mine == by_path_.end() || std::find(mine->second.begin(), mine->second.end(), d) == mine->second.end())
                problems.append("domain index: ").append(path).append(": top of domain ")
                    .append(std::to_string(d)).append(" missing\n");
    }
    std::size_t count = 0;
    for (const auto& [path, doms] : by_path_) {
        const Node* n = t.lookup(path);
        for (DomId d : doms) {
            ++count;
            auto set = by_dom_.find(d);
            if (!n || !n->perms->names(d) || !tracks(d))
                problems.append("domain index: ").append(path).append(": domain ").append(std::to_string(d))
                    .append(" indexed but not named there\n");
            if (set == by_dom_.end() || !set->second.contains(std::string_view(path)))
                problems.append("domain index: ").append(path).append(": missing from domain ")
                    .append(std::to_string(d)).append("'s set\n");
        }
    }
    std::size_t by_dom_count = 0;
    for (const auto& [d, set] : by_dom_) by_dom_count += set.size();
    if (count != entries_ || by_dom_count != entries_) problems.append("domain index: entry counts differ\n");
    return problems.size() == before;
}

}  // namespace xs::store
