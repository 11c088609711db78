// The children of a node: a persistent (copy-on-write) B+tree of child
// nodes sorted by name.
//
// Blocks are reference counted. Copying a ChildMap shares its blocks; a
// mutation first unshares the blocks on its path (copying only those), so a
// change beneath a directory with 10,000 children copies O(log n) small
// blocks, never the whole list. A block nothing else references is changed in
// place. Every block keeps the number of children and the bytes of their
// names (each counted with its NUL) in its subtree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace xs::store {

struct Node;

class ChildMap {
public:
    struct Block;

    ChildMap() = default;
    ChildMap(const ChildMap& other);
    ChildMap(ChildMap&& other) noexcept : root_(other.root_) { other.root_ = nullptr; }
    ChildMap& operator=(ChildMap other) noexcept {
        std::swap(root_, other.root_);
        return *this;
    }
    ~ChildMap();

    bool empty() const { return root_ == nullptr; }
    std::uint32_t size() const;
    // Sum over children of (name length + 1): the DIRECTORY reply length.
    std::uint32_t name_bytes() const;
    // True when another map shares the top block (a change will copy).
    bool shared() const;
    bool same_as(const ChildMap& other) const { return root_ == other.root_; }

    Node* find(std::string_view name) const;
    // The slot holding child `name`, after unsharing every block on the
    // way, or nullptr when absent (blocks on the way may then have been
    // unshared for nothing, which changes no content). The caller may
    // replace *slot (keeping the name) and is responsible for the
    // references involved.
    Node** find_slot(std::string_view name);
    // Adds `child` (its reference is adopted). Its name must be absent.
    void insert(Node* child);
    // Removes child `name` and returns its reference, or nullptr.
    Node* erase(std::string_view name);

    // Children in name order; fn(const Node*) returns false to stop.
    template <class F>
    void for_each(F&& fn) const {
        if (root_) walk(root_, fn);
    }
    // Equal names, in order (the DIRECTORY replies of both would match).
    bool same_names(const ChildMap& other) const;
    // Structural self-check (sort order, totals, fill). Returns false and a
    // reason on the first violation.
    bool check(const char*& why) const;

    // Internal: the reaper frees blocks iteratively.
    Block* release_root() {
        Block* b = root_;
        root_ = nullptr;
        return b;
    }

    static constexpr std::uint16_t kLeafMax = 64;   // children per leaf block
    static constexpr std::uint16_t kInnerMax = 32;  // blocks per inner block

private:
    template <class F>
    static bool walk(const Block* b, F& fn);

    Block* root_ = nullptr;
};

struct ChildMap::Block {
    std::uint32_t refs = 1;
    std::uint32_t size = 0;   // children in this subtree
    std::uint32_t bytes = 0;  // sum of (name length + 1) in this subtree
    std::uint16_t count = 0;  // entries in this block
    std::uint16_t cap = 0;    // capacity (leaf blocks grow by doubling)
    bool leaf = true;
};

namespace detail {

struct LeafBlock : ChildMap::Block {
    Node* items[];  // sorted by name
};

struct InnerBlock : ChildMap::Block {
    // keys[i] (i >= 1) is the smallest name in kids[i]; keys[0] is unused.
    std::string keys[ChildMap::kInnerMax];
    ChildMap::Block* kids[ChildMap::kInnerMax];
};

}  // namespace detail

template <class F>
bool ChildMap::walk(const Block* b, F& fn) {
    if (b->leaf) {
        auto* l = static_cast<const detail::LeafBlock*>(b);
        for (std::uint16_t i = 0; i < l->count; ++i)
            if (!fn(static_cast<const Node*>(l->items[i]))) return false;
        return true;
    }
    auto* in = static_cast<const detail::InnerBlock*>(b);
    for (std::uint16_t i = 0; i < in->count; ++i)
        if (!walk(in->kids[i], fn)) return false;
    return true;
}

}  // namespace xs::store
