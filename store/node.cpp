#include "store/node.hpp"

#include "store/pool.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

namespace xs::store {

namespace {
const ChildMap kNoChildren;  // what a leaf's children() returns
}

const ChildMap& Node::children() const { return is_dir() ? dir()->children : kNoChildren; }

Node* Node::make(std::string_view name, std::string_view value, PermList* perms, const ChildMap* children,
                 std::uint64_t gen) {
    std::size_t dir = children ? sizeof(Dir) : 0;
    void* mem = pool_allocate(sizeof(Node) + dir + name.size() + value.size());
    Node* n = new (mem) Node();
    n->name_bits = static_cast<std::uint16_t>(name.size() | (children ? kDirFlag : 0));
    n->value_len = static_cast<std::uint16_t>(value.size());
    n->perms = perms;
    retain(perms);
    if (children) new (n->data) Dir{*children, gen};
    char* p = n->data + dir;
    if (!name.empty()) std::memcpy(p, name.data(), name.size());
    if (!value.empty()) std::memcpy(p + name.size(), value.data(), value.size());
    return n;
}

namespace {

// Work list entries: a node, or a block (tagged with the low bit).
using Item = std::uintptr_t;
constexpr Item kBlockTag = 1;

void destroy(Node* n) {
    std::size_t bytes = n->alloc_size();
    if (n->is_dir()) n->dir_children().~ChildMap();
    release(n->perms);
    n->~Node();
    pool_deallocate(n, bytes);
}

void free_node(Node* n, std::vector<Item>& work) {
    if (n->is_dir()) {
        if (ChildMap::Block* b = n->dir_children().release_root()) {
            if (--b->refs == 0) work.push_back(reinterpret_cast<Item>(b) | kBlockTag);
        }
    }
    destroy(n);
}

void free_block(ChildMap::Block* b, std::vector<Item>& work) {
    if (b->leaf) {
        auto* l = static_cast<detail::LeafBlock*>(b);
        for (std::uint16_t i = 0; i < l->count; ++i)
            if (--l->items[i]->refs == 0) work.push_back(reinterpret_cast<Item>(l->items[i]));
        detail::free_leaf(l);
    } else {
        auto* in = static_cast<detail::InnerBlock*>(b);
        for (std::uint16_t i = 0; i < in->count; ++i)
            if (--in->kids[i]->refs == 0) work.push_back(reinterpret_cast<Item>(in->kids[i]) | kBlockTag);
        delete in;
    }
}

void drain(std::vector<Item>& work) {
    while (!work.empty()) {
        Item it = work.back();
        work.pop_back();
        if (it & kBlockTag)
            free_block(reinterpret_cast<ChildMap::Block*>(it & ~kBlockTag), work);
        else
            free_node(reinterpret_cast<Node*>(it), work);
    }
}

}  // namespace

void release(Node* n) {
    if (--n->refs != 0) return;
    if (!n->is_dir() || n->children().empty()) {  // the common case needs no work list
        destroy(n);
        return;
    }
    std::vector<Item> work;
    work.push_back(reinterpret_cast<Item>(n));
    drain(work);
}

void release_block(ChildMap::Block* b) {
    if (--b->refs != 0) return;
    std::vector<Item> work;
    work.push_back(reinterpret_cast<Item>(b) | kBlockTag);
    drain(work);
}

std::uint32_t record_size(std::size_t nperms, std::size_t value_len, std::size_t children_bytes) {
    return static_cast<std::uint32_t>(16 + 8 * nperms + value_len + children_bytes);
}

std::uint32_t record_size(const Node& n) {
    return record_size(n.perms->size(), n.value_len, n.children().name_bytes());
}

}  // namespace xs::store
