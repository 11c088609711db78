// The children of a node: a persistent (copy-on-write) B+tree of child
// nodes sorted by name.
//
// Blocks are reference counted. Copying a ChildMap shares its blocks; a
// mutation first unshares the blocks on its path (copying only those), so a
// change beneath a directory with 10,000 children copies O(log n) small
// blocks, never the whole list. A block nothing else references is changed in
// place. Inner blocks keep the number of children and the bytes of their
// names (each counted with its NUL) in their subtree; a leaf block (at most
// kLeafMax children) counts them when asked, so it carries an 8-byte header.
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
    // The same for a child whose name sorts after every name in the map (a
    // bulk load in name order): no search, and a full block at the right
    // edge gets a new right sibling instead of being split in half, so the
    // blocks stay full.
    void append(Node* child);
    // The last child in name order, or nullptr.
    const Node* last() const;
    // Its slot, as find_slot() gives it (blocks on the way unshared).
    Node** last_slot();
    // Removes child `name` and returns its reference, or nullptr.
    Node* erase(std::string_view name);

    // Children in name order; fn(const Node*) returns false to stop.
    template <class F>
    void for_each(F&& fn) const {
        if (root_) walk(root_, fn);
    }
    // The same, from the child whose entry (its name and a NUL, in the
    // concatenated list DIRECTORY returns) holds byte `offset`; fn gets
    // (const Node*, bytes of its entry before `offset`). O(log n) to start.
    template <class F>
    void for_each_from(std::uint32_t offset, F&& fn) const {
        if (root_) walk_from(root_, offset, fn);
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
    // A child's entry in the DIRECTORY list: its name and a NUL.
    static std::uint32_t entry_size(const Node* n);
    static constexpr std::uint16_t kInnerMax = 32;  // blocks per inner block

private:
    template <class F>
    static bool walk(const Block* b, F& fn);
    template <class F>
    static bool walk_from(const Block* b, std::uint32_t& offset, F& fn);

    Block* root_ = nullptr;
};

struct ChildMap::Block {
    std::uint32_t refs = 1;
    std::uint16_t count = 0;  // entries in this block
    std::uint8_t cap = 0;     // leaf capacity (leaf blocks grow by doubling)
    bool leaf = true;
};
static_assert(sizeof(ChildMap::Block) == 8);

namespace detail {

struct LeafBlock : ChildMap::Block {
    Node* items[];  // sorted by name
};

// A leaf block's allocation (from the node pool, store/pool.hpp).
inline std::size_t leaf_bytes(std::uint8_t cap) { return sizeof(LeafBlock) + cap * sizeof(Node*); }
void free_leaf(LeafBlock* l);

struct InnerBlock : ChildMap::Block {
    std::uint32_t size = 0;   // children in this subtree
    std::uint32_t bytes = 0;  // sum of (name length + 1) in this subtree
    std::uint32_t kid_bytes[ChildMap::kInnerMax];  // the same sum for each kid
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

template <class F>
bool ChildMap::walk_from(const Block* b, std::uint32_t& offset, F& fn) {
    if (b->leaf) {
        auto* l = static_cast<const detail::LeafBlock*>(b);
        for (std::uint16_t i = 0; i < l->count; ++i) {
            const Node* n = l->items[i];
            std::uint32_t entry = entry_size(n);
            if (offset >= entry) {
                offset -= entry;
                continue;
            }
            std::uint32_t skip = offset;
            offset = 0;
            if (!fn(n, skip)) return false;
        }
        return true;
    }
    auto* in = static_cast<const detail::InnerBlock*>(b);
    for (std::uint16_t i = 0; i < in->count; ++i) {
        if (offset >= in->kid_bytes[i]) {  // the whole kid lies before the offset
            offset -= in->kid_bytes[i];
            continue;
        }
        if (!walk_from(in->kids[i], offset, fn)) return false;
    }
    return true;
}

}  // namespace xs::store
