#include "daemon/watch/registry.hpp"

#include <cerrno>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "daemon/watch/components.hpp"

namespace xs::watch {

std::string_view reported_path(const Watch& w, std::string_view event_path) {
    if (w.strip == 0 || event_path.size() < w.strip) return event_path;
    return event_path.substr(w.strip);
}

namespace {

using Index = std::uint32_t;
constexpr Index kNone = UINT32_MAX;
constexpr Index kRoot = 0;

// Watches and trie nodes live in vectors and link to each other by index:
// no allocation per link, and both lists give O(1) unlink.
struct Entry {
    Watch w;
    Index node = kNone;
    Index node_prev = kNone, node_next = kNone;  // same trie node, registration order
    Index conn_prev = kNone, conn_next = kNone;  // same connection, registration order
};

struct Node {
    const std::string* name = nullptr;  // the key held by the children map
    Index parent = kNone;
    Index first_child = kNone, prev_sibling = kNone, next_sibling = kNone;
    Index first_watch = kNone, last_watch = kNone;
};

struct ConnList {
    Index first = kNone, last = kNone;
    std::size_t count = 0;
};

// Child lookup: one hash map for the whole trie, keyed by (parent, name).
struct ChildKey {
    Index parent;
    std::string name;
};
struct ChildRef {
    Index parent;
    std::string_view name;
};
struct ChildHash {
    using is_transparent = void;
    std::size_t operator()(ChildRef r) const noexcept {
        return std::hash<std::string_view>{}(r.name) ^ (std::size_t{r.parent} * 0x9E3779B97F4A7C15ull);
    }
    std::size_t operator()(const ChildKey& k) const noexcept { return (*this)(ChildRef{k.parent, k.name}); }
};
struct ChildEq {
    using is_transparent = void;
    static ChildRef ref(const ChildKey& k) { return {k.parent, k.name}; }
    static ChildRef ref(ChildRef r) { return r; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
        ChildRef x = ref(a), y = ref(b);
        return x.parent == y.parent && x.name == y.name;
    }
};

// Duplicate detection (conn + path + token): a set of entry indices hashed by
// (trie node, conn, token), so a registration does not scan the other
// watches on its path.
struct DupRef {
    Index node;
    ConnId conn;
    std::string_view token;
};

}  // namespace

struct Registry::Impl {
    std::vector<Entry> entries;
    std::vector<Index> free_entries;
    std::vector<Node> nodes;
    std::vector<Index> free_nodes;
    std::unordered_map<ChildKey, Index, ChildHash, ChildEq> children;
    std::unordered_map<ConnId, ConnList> conns;
    std::size_t live = 0;

    struct DupHash {
        using is_transparent = void;
        const std::vector<Entry>* entries;
        std::size_t operator()(const DupRef& r) const noexcept {
            std::size_t h = std::hash<std::string_view>{}(r.token);
            h ^= std::hash<ConnId>{}(r.conn) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
            return h ^ (std::size_t{r.node} * 0xC2B2AE3D27D4EB4Full);
        }
        std::size_t operator()(Index i) const noexcept { return (*this)(ref(i)); }
        DupRef ref(Index i) const noexcept {
            const Entry& e = (*entries)[i];
            return {e.node, e.w.conn, e.w.token};
        }
    };
    struct DupEq {
        using is_transparent = void;
        const std::vector<Entry>* entries;
        DupRef ref(Index i) const noexcept {
            const Entry& e = (*entries)[i];
            return {e.node, e.w.conn, e.w.token};
        }
        static DupRef ref(const DupRef& r) noexcept { return r; }
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept {
            DupRef x = ref(a), y = ref(b);
            return x.node == y.node && x.conn == y.conn && x.token == y.token;
        }
    };
    // Impl lives behind a unique_ptr, so `entries` never moves and the
    // functors' pointer to it stays valid.
    std::unordered_set<Index, DupHash, DupEq> dups{16, DupHash{&entries}, DupEq{&entries}};

    Impl() { nodes.emplace_back(); }  // the virtual root

    Index child(Index parent, std::string_view name) const {
        auto it = children.find(ChildRef{parent, name});
        return it == children.end() ? kNone : it->second;
    }

    Index find_node(std::string_view path) const {
        Components c(path);
        std::string_view part;
        Index n = kRoot;
        while (n != kNone && c.next(part)) n = child(n, part);
        return n == kRoot ? kNone : n;
    }

    Index new_node(Index parent, std::string_view name) {
        Index n;
        if (!free_nodes.empty()) {
            n = free_nodes.back();
            free_nodes.pop_back();
            nodes[n] = Node{};
        } else {
            n = static_cast<Index>(nodes.size());
            nodes.emplace_back();
        }
        auto [it, inserted] = children.emplace(ChildKey{parent, std::string(name)}, n);
        (void)inserted;
        Node& node = nodes[n];
        node.name = &it->first.name;
        node.parent = parent;
        node.next_sibling = nodes[parent].first_child;
        if (node.next_sibling != kNone) nodes[node.next_sibling].prev_sibling = n;
        nodes[parent].first_child = n;
        return n;
    }

    Index find_or_create(std::string_view path) {
        Components c(path);
        std::string_view part;
        Index n = kRoot;
        while (c.next(part)) {
            Index next = child(n, part);
            n = next != kNone ? next : new_node(n, part);
        }
        return n;
    }

    // Remove empty nodes from `n` upwards.
    void prune(Index n) {
        while (n != kRoot && nodes[n].first_watch == kNone && nodes[n].first_child == kNone) {
            Node& node = nodes[n];
            Index parent = node.parent;
            if (node.prev_sibling != kNone) {
                nodes[node.prev_sibling].next_sibling = node.next_sibling;
            } else {
                nodes[parent].first_child = node.next_sibling;
            }
            if (node.next_sibling != kNone) nodes[node.next_sibling].prev_sibling = node.prev_sibling;
            children.erase(children.find(ChildRef{parent, *node.name}));
            node = Node{};
            free_nodes.push_back(n);
            n = parent;
        }
    }

    Index new_entry(Watch&& w, Index node) {
        Index i;
        if (!free_entries.empty()) {
            i = free_entries.back();
            free_entries.pop_back();
        } else {
            i = static_cast<Index>(entries.size());
            entries.emplace_back();
        }
        entries[i].w = std::move(w);
        entries[i].node = node;
        return i;
    }

    void link(Index i) {
        Entry& e = entries[i];
        Node& n = nodes[e.node];
        e.node_prev = n.last_watch;
        e.node_next = kNone;
        (n.last_watch != kNone ? entries[n.last_watch].node_next : n.first_watch) = i;
        n.last_watch = i;

        ConnList& c = conns[e.w.conn];
        e.conn_prev = c.last;
        e.conn_next = kNone;
        (c.last != kNone ? entries[c.last].conn_next : c.first) = i;
        c.last = i;
        ++c.count;
        ++live;
    }

    void unlink_conn(Index i) {
        Entry& e = entries[i];
        auto it = conns.find(e.w.conn);
        ConnList& c = it->second;
        (e.conn_prev != kNone ? entries[e.conn_prev].conn_next : c.first) = e.conn_next;
        (e.conn_next != kNone ? entries[e.conn_next].conn_prev : c.last) = e.conn_prev;
        if (--c.count == 0) conns.erase(it);
    }

    // Everything except the connection list: dedup set, trie node list, the
    // entry's storage, and pruning of the trie.
    void detach(Index i) {
        dups.erase(i);
        Entry& e = entries[i];
        Node& n = nodes[e.node];
        (e.node_prev != kNone ? entries[e.node_prev].node_next : n.first_watch) = e.node_next;
        (e.node_next != kNone ? entries[e.node_next].node_prev : n.last_watch) = e.node_prev;
        Index node = e.node;
        e = Entry{};  // releases the strings' memory
        free_entries.push_back(i);
        --live;
        prune(node);
    }

    void visit_node(Index n, WatchFn fn) const {
        for (Index i = nodes[n].first_watch; i != kNone; i = entries[i].node_next) fn(entries[i].w);
    }
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;

Result<> Registry::add(Watch w) {
    if (!is_canonical(w.path) || w.depth < -1 || w.strip > w.path.size()) return fail(EINVAL);
    Impl& m = *impl_;
    Index node = m.find_or_create(w.path);
    if (m.dups.find(DupRef{node, w.conn, w.token}) != m.dups.end()) return fail(EEXIST);
    Index i = m.new_entry(std::move(w), node);
    m.link(i);
    m.dups.insert(i);
    return {};
}

Result<> Registry::remove(ConnId conn, std::string_view path, std::string_view token) {
    Impl& m = *impl_;
    Index node = m.find_node(path);
    if (node == kNone) return fail(ENOENT);
    auto it = m.dups.find(DupRef{node, conn, token});
    if (it == m.dups.end()) return fail(ENOENT);
    Index i = *it;
    m.unlink_conn(i);
    m.detach(i);
    return {};
}

std::size_t Registry::remove_all(ConnId conn) {
    Impl& m = *impl_;
    auto it = m.conns.find(conn);
    if (it == m.conns.end()) return 0;
    Index i = it->second.first;
    std::size_t n = it->second.count;
    m.conns.erase(it);
    while (i != kNone) {
        Index next = m.entries[i].conn_next;
        m.detach(i);
        i = next;
    }
    return n;
}

std::size_t Registry::count(ConnId conn) const {
    auto it = impl_->conns.find(conn);
    return it == impl_->conns.end() ? 0 : it->second.count;
}

std::size_t Registry::total() const { return impl_->live; }

std::size_t Registry::node_count() const { return impl_->nodes.size() - 1 - impl_->free_nodes.size(); }

void Registry::visit_subtree(std::string_view path, WatchFn fn) const {
    const Impl& m = *impl_;
    // The path's depth matters only to a watch with a depth limit, met on
    // the way: counted then, not for every change (most meet no watch).
    long below_top = -1;
    Components c(path);
    std::string_view part;
    Index n = kRoot;
    for (std::size_t level = 0; c.next(part); ++level) {
        n = m.child(n, part);
        if (n == kNone) return;
        Index first = m.nodes[n].first_watch;
        if (first == kNone) continue;
        if (below_top < 0) below_top = static_cast<long>(levels_below_top(path));
        const long extra = below_top - static_cast<long>(level);
        for (Index i = first; i != kNone; i = m.entries[i].node_next) {
            const Watch& w = m.entries[i].w;
            if (w.depth < 0 || extra <= w.depth) fn(w);
        }
    }
}

void Registry::visit_exact(std::string_view path, WatchFn fn) const {
    Index n = impl_->find_node(path);
    if (n != kNone) impl_->visit_node(n, fn);
}

void Registry::visit_below(std::string_view path, WatchFn fn) const {
    const Impl& m = *impl_;
    const Index top = m.find_node(path);
    if (top == kNone) return;
    // Pre-order walk without a stack: trees can be thousands of levels deep.
    Index n = m.nodes[top].first_child;
    while (n != kNone) {
        m.visit_node(n, fn);
        if (m.nodes[n].first_child != kNone) {
            n = m.nodes[n].first_child;
            continue;
        }
        while (n != top && m.nodes[n].next_sibling == kNone) n = m.nodes[n].parent;
        if (n == top) break;
        n = m.nodes[n].next_sibling;
    }
}

void Registry::visit_conn(ConnId conn, WatchFn fn) const {
    const Impl& m = *impl_;
    auto it = m.conns.find(conn);
    if (it == m.conns.end()) return;
    for (Index i = it->second.first; i != kNone; i = m.entries[i].conn_next) fn(m.entries[i].w);
}

}  // namespace xs::watch
