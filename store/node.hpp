// An immutable, reference-counted xenstore node.
//
// One allocation holds a 16-byte header, then (for a directory: a node that
// has or had children) its child map and generation, then the name and the
// value. Most nodes are leaves, so they carry neither: that is the larger
// part of what a node costs. A node is never changed while anything else
// references it: the tree copies it first. Freeing is iterative, so a
// 10,000-deep chain cannot exhaust the stack.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "store/child_map.hpp"
#include "store/perms.hpp"

namespace xs::store {

struct Node {
    // What a directory adds to the header.
    struct Dir {
        ChildMap children;
        std::uint64_t gen;  // generation of the last change to this node
    };

    std::uint32_t refs = 1;
    std::uint16_t name_bits = 0;  // name length, kDirFlag for a directory
    std::uint16_t value_len = 0;
    PermList* perms = nullptr;    // owned reference
    alignas(8) char data[];       // [Dir], name bytes, value bytes

    static constexpr std::uint16_t kDirFlag = 0x8000;

    bool is_dir() const { return name_bits & kDirFlag; }
    std::uint16_t name_len() const { return name_bits & ~kDirFlag; }
    std::string_view name() const { return {data + dir_size(), name_len()}; }
    std::string_view value() const { return {data + dir_size() + name_len(), value_len}; }
    const PermList& permissions() const { return *perms; }
    // Bytes of its allocation (what make() asked for).
    std::size_t alloc_size() const { return sizeof(Node) + dir_size() + name_len() + value_len; }
    DomId owner() const { return perms->owner().domid; }

    // Children (an empty map for a leaf) and generation (0 for a leaf: the
    // generation only matters to DIRECTORY_PART).
    const ChildMap& children() const;
    std::uint64_t gen() const { return is_dir() ? dir()->gen : 0; }
    // Directories only.
    ChildMap& dir_children() { return dir()->children; }
    void set_gen(std::uint64_t g) {
        if (is_dir()) dir()->gen = g;
    }

    // refs == 1; takes a new reference on `perms`. `children` null: a leaf;
    // otherwise a directory sharing that map.
    static Node* make(std::string_view name, std::string_view value, PermList* perms, const ChildMap* children,
                      std::uint64_t gen);

private:
    std::size_t dir_size() const { return is_dir() ? sizeof(Dir) : 0; }
    Dir* dir() { return reinterpret_cast<Dir*>(data); }
    const Dir* dir() const { return reinterpret_cast<const Dir*>(data); }
};
static_assert(sizeof(Node) == 16);

inline constexpr std::size_t kMaxValue = 0xFFFF;
inline constexpr std::size_t kMaxName = 0x7FFF;

inline void retain(Node* n) { ++n->refs; }
void release(Node* n);                  // frees iteratively when the last reference goes
void release_block(ChildMap::Block* b); // same, for a child-map block

// Owning handle.
class NodeRef {
public:
    NodeRef() = default;
    explicit NodeRef(Node* adopt) : n_(adopt) {}
    static NodeRef share(Node* n) {
        if (n) retain(n);
        return NodeRef(n);
    }
    NodeRef(const NodeRef& o) : n_(o.n_) { if (n_) retain(n_); }
    NodeRef(NodeRef&& o) noexcept : n_(o.n_) { o.n_ = nullptr; }
    NodeRef& operator=(NodeRef o) noexcept { std::swap(n_, o.n_); return *this; }
    ~NodeRef() { if (n_) release(n_); }
    Node* get() const { return n_; }
    Node* operator->() const { return n_; }
    Node& operator*() const { return *n_; }
    explicit operator bool() const { return n_ != nullptr; }
    Node*& raw() { return n_; }
    Node* detach() { Node* n = n_; n_ = nullptr; return n; }

private:
    Node* n_ = nullptr;
};

// Size of a node's record as the quotas count it (upstream's formula):
// 16-byte header, 8 bytes per permission, the value, the children's names.
std::uint32_t record_size(const Node& n);
std::uint32_t record_size(std::size_t nperms, std::size_t value_len, std::size_t children_bytes);

}  // namespace xs::store
