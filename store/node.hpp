// An immutable, reference-counted xenstore node.
//
// One allocation holds the header, the name and the value. A node is never
// changed while anything else references it: the tree copies it first (see
// Tree::unshare). Freeing is iterative, so a 10,000-deep chain cannot
// exhaust the stack.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "store/child_map.hpp"
#include "store/perms.hpp"

namespace xs::store {

struct Node {
    std::uint32_t refs = 1;
    std::uint16_t name_len = 0;
    std::uint16_t value_len = 0;
    std::uint64_t gen = 0;       // generation of the last change to this node
    PermList* perms = nullptr;   // owned reference
    ChildMap children;
    char data[];                 // name bytes, then value bytes

    std::string_view name() const { return {data, name_len}; }
    std::string_view value() const { return {data + name_len, value_len}; }
    const PermList& permissions() const { return *perms; }
    DomId owner() const { return perms->owner().domid; }

    // refs == 1; takes a new reference on `perms`, shares `children`.
    static Node* make(std::string_view name, std::string_view value, PermList* perms,
                      const ChildMap& children, std::uint64_t gen);
};

inline constexpr std::size_t kMaxValue = 0xFFFF;
inline constexpr std::size_t kMaxName = 0xFFFF;

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
