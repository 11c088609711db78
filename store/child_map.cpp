#include "store/child_map.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "store/node.hpp"
#include "store/pool.hpp"

namespace xs::store {

using detail::InnerBlock;
using detail::LeafBlock;
using Block = ChildMap::Block;

void detail::free_leaf(LeafBlock* l) {
    std::size_t bytes = leaf_bytes(l->cap);
    l->~LeafBlock();
    pool_deallocate(l, bytes);
}

namespace {

std::uint32_t entry_bytes(const Node* n) { return ChildMap::entry_size(n); }

LeafBlock* alloc_leaf(std::uint8_t cap) {
    void* mem = pool_allocate(detail::leaf_bytes(cap));
    auto* l = new (mem) LeafBlock();
    l->cap = cap;
    return l;
}

InnerBlock* alloc_inner() {
    auto* in = new InnerBlock();
    in->leaf = false;
    return in;
}

LeafBlock* as_leaf(Block* b) { return static_cast<LeafBlock*>(b); }
const LeafBlock* as_leaf(const Block* b) { return static_cast<const LeafBlock*>(b); }
InnerBlock* as_inner(Block* b) { return static_cast<InnerBlock*>(b); }
const InnerBlock* as_inner(const Block* b) { return static_cast<const InnerBlock*>(b); }

// Children and name bytes of a subtree: kept by inner blocks, counted for
// leaves (at most kLeafMax entries).
std::uint32_t block_size(const Block* b) { return b->leaf ? b->count : as_inner(b)->size; }
std::uint32_t block_bytes(const Block* b) {
    if (!b->leaf) return as_inner(b)->bytes;
    std::uint32_t n = 0;
    const LeafBlock* l = as_leaf(b);
    for (std::uint16_t i = 0; i < l->count; ++i) n += entry_bytes(l->items[i]);
    return n;
}

// Byte-wise "a < b". Names are short, so an inline loop beats a memcmp call.
inline bool name_less(std::string_view a, std::string_view b) {
    std::size_t n = a.size() < b.size() ? a.size() : b.size();
    for (std::size_t i = 0; i < n; ++i)
        if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
    return a.size() < b.size();
}

// Index of the kid of `in` whose range holds `name`.
std::uint16_t kid_index(const InnerBlock* in, std::string_view name) {
    std::uint16_t lo = 1, hi = in->count;  // first key > name, among keys[1..count)
    while (lo < hi) {
        std::uint16_t mid = static_cast<std::uint16_t>((lo + hi) / 2);
        if (!name_less(name, in->keys[mid])) lo = static_cast<std::uint16_t>(mid + 1);
        else hi = mid;
    }
    return static_cast<std::uint16_t>(lo - 1);
}

// First position in `l` whose name is >= name.
std::uint16_t leaf_lower_bound(const LeafBlock* l, std::string_view name) {
    std::uint16_t lo = 0, hi = l->count;
    while (lo < hi) {
        std::uint16_t mid = static_cast<std::uint16_t>((lo + hi) / 2);
        if (name_less(l->items[mid]->name(), name)) lo = static_cast<std::uint16_t>(mid + 1);
        else hi = mid;
    }
    return lo;
}

// Leaves up to this size are scanned by find() rather than searched.
constexpr std::uint16_t kScanMax = 16;

// Equal names, compared from the last byte: sibling names mostly differ at
// the end ("k12" and "k13", "vif/0" and "vif/1").
inline bool same_name(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = a.size(); i-- > 0;)
        if (a[i] != b[i]) return false;
    return true;
}

// Position of child `name` in `l`, or l->count when absent. A small leaf
// (most directories) is scanned: its children's headers load independently
// of each other, where each step of a binary search waits on the load and
// comparison before it and mispredicts about every other time (the
// profile's top symbol in the pipeline mixes before this).
std::uint16_t leaf_find(const LeafBlock* l, std::string_view name) {
    if (l->count <= kScanMax) {
        for (std::uint16_t i = 0; i < l->count; ++i)
            if (same_name(l->items[i]->name(), name)) return i;
        return l->count;
    }
    std::uint16_t pos = leaf_lower_bound(l, name);
    return pos < l->count && same_name(l->items[pos]->name(), name) ? pos : l->count;
}

void retotal(InnerBlock* t) {
    t->size = 0;
    t->bytes = 0;
    for (std::uint16_t i = 0; i < t->count; ++i) {
        t->kid_bytes[i] = block_bytes(t->kids[i]);
        t->size += block_size(t->kids[i]);
        t->bytes += t->kid_bytes[i];
    }
}

Block* clone(const Block* b) {
    if (b->leaf) {
        const LeafBlock* src = as_leaf(b);
        LeafBlock* l = alloc_leaf(src->cap);
        l->count = src->count;
        for (std::uint16_t i = 0; i < src->count; ++i) {
            l->items[i] = src->items[i];
            retain(l->items[i]);
        }
        return l;
    }
    const InnerBlock* src = as_inner(b);
    InnerBlock* in = alloc_inner();
    in->count = src->count;
    in->size = src->size;
    in->bytes = src->bytes;
    for (std::uint16_t i = 0; i < src->count; ++i) {
        in->kids[i] = src->kids[i];
        ++in->kids[i]->refs;
        in->keys[i] = src->keys[i];
        in->kid_bytes[i] = src->kid_bytes[i];
    }
    return in;
}

// Make `b` referenced only by its holder (copying it if shared).
void unshare(Block*& b) {
    if (b->refs == 1) return;
    Block* copy = clone(b);
    --b->refs;  // still referenced elsewhere, so never freed here
    b = copy;
}

std::string_view first_name(const Block* b) {
    while (!b->leaf) b = as_inner(b)->kids[0];
    return as_leaf(b)->items[0]->name();
}

// Insert into a leaf that has room (growing it when it is small).
void leaf_insert(LeafBlock*& l, std::uint16_t pos, Node* child) {
    if (l->count == l->cap) {
        auto cap = static_cast<std::uint8_t>(std::min<int>(l->cap * 2, ChildMap::kLeafMax));
        LeafBlock* grown = alloc_leaf(cap);
        grown->count = l->count;
        std::memcpy(grown->items, l->items, l->count * sizeof(Node*));
        free_leaf(l);  // unshared, so the items simply move
        l = grown;
    }
    std::memmove(&l->items[pos + 1], &l->items[pos], (l->count - pos) * sizeof(Node*));
    l->items[pos] = child;
    ++l->count;
}

// Split a full leaf in two halves; returns the new right half.
LeafBlock* split_leaf(LeafBlock* l) {
    std::uint16_t half = static_cast<std::uint16_t>(l->count / 2);
    LeafBlock* r = alloc_leaf(ChildMap::kLeafMax);
    r->count = static_cast<std::uint16_t>(l->count - half);
    std::memcpy(r->items, &l->items[half], r->count * sizeof(Node*));
    l->count = half;
    return r;
}

InnerBlock* split_inner(InnerBlock* in) {
    std::uint16_t half = static_cast<std::uint16_t>(in->count / 2);
    InnerBlock* r = alloc_inner();
    for (std::uint16_t i = half; i < in->count; ++i) {
        r->kids[i - half] = in->kids[i];
        r->keys[i - half] = std::move(in->keys[i]);
    }  // totals and kid_bytes: retotal below
    r->count = static_cast<std::uint16_t>(in->count - half);
    r->keys[0].clear();
    in->count = half;
    retotal(in);
    retotal(r);
    return r;
}

// Inserts into the (unshared) subtree `b`; returns a new right sibling when
// `b` had to split, else nullptr.
Block* insert_into(Block*& b, Node* child) {
    std::string_view name = child->name();
    if (b->leaf) {
        auto* l = as_leaf(b);
        std::uint16_t pos = leaf_lower_bound(l, name);
        if (l->count < ChildMap::kLeafMax) {
            leaf_insert(l, pos, child);
            b = l;
            return nullptr;
        }
        LeafBlock* r = split_leaf(l);
        if (pos <= l->count) leaf_insert(l, pos, child);
        else leaf_insert(r, static_cast<std::uint16_t>(pos - l->count), child);
        return r;
    }
    auto* in = as_inner(b);
    std::uint16_t k = kid_index(in, name);
    unshare(in->kids[k]);
    Block* right = insert_into(in->kids[k], child);
    // kid_index chose k with keys[k] <= name, so keys[k] stays the smallest
    // name of kids[k]; only a split needs a new key.
    ++in->size;
    in->bytes += entry_bytes(child);
    in->kid_bytes[k] += entry_bytes(child);
    if (!right) return nullptr;
    InnerBlock* target = in;
    InnerBlock* split = nullptr;
    if (in->count == ChildMap::kInnerMax) {
        split = split_inner(in);
        if (k >= in->count) {
            target = split;
            k = static_cast<std::uint16_t>(k - in->count);
        }
    }
    for (std::uint16_t i = target->count; i > k + 1; --i) {
        target->kids[i] = target->kids[i - 1];
        target->keys[i] = std::move(target->keys[i - 1]);
    }  // kid_bytes: retotal below
    target->kids[k + 1] = right;
    target->keys[k + 1] = std::string(first_name(right));
    ++target->count;
    retotal(in);
    if (split) retotal(split);
    return split;
}

// Appends to the (unshared) subtree `b` at its right edge; returns a new
// right sibling holding the child when `b` is full.
Block* append_into(Block*& b, Node* child) {
    std::uint32_t bytes = entry_bytes(child);
    if (b->leaf) {
        auto* l = as_leaf(b);
        if (l->count < ChildMap::kLeafMax) {
            leaf_insert(l, l->count, child);
            b = l;
            return nullptr;
        }
        LeafBlock* r = alloc_leaf(1);
        leaf_insert(r, 0, child);
        return r;
    }
    auto* in = as_inner(b);
    auto k = static_cast<std::uint16_t>(in->count - 1);
    unshare(in->kids[k]);
    Block* right = append_into(in->kids[k], child);
    if (!right) {
        ++in->size;
        in->bytes += bytes;
        in->kid_bytes[k] += bytes;
        return nullptr;
    }
    InnerBlock* target = in;
    if (in->count == ChildMap::kInnerMax) target = alloc_inner();  // a new right sibling for `right` alone
    std::uint16_t at = target->count++;
    target->kids[at] = right;
    if (at > 0) target->keys[at] = std::string(child->name());
    target->kid_bytes[at] = bytes;
    ++target->size;
    target->bytes += bytes;
    return target == in ? nullptr : target;
}

// Removes `name` from the (unshared) subtree; returns the child or nullptr.
Node* erase_from(Block*& b, std::string_view name) {
    if (b->leaf) {
        auto* l = as_leaf(b);
        std::uint16_t pos = leaf_lower_bound(l, name);
        if (pos == l->count || l->items[pos]->name() != name) return nullptr;
        Node* child = l->items[pos];
        std::memmove(&l->items[pos], &l->items[pos + 1], (l->count - pos - 1) * sizeof(Node*));
        --l->count;
        return child;
    }
    auto* in = as_inner(b);
    std::uint16_t k = kid_index(in, name);
    unshare(in->kids[k]);
    Node* child = erase_from(in->kids[k], name);
    if (!child) return nullptr;
    --in->size;
    in->bytes -= entry_bytes(child);
    in->kid_bytes[k] -= entry_bytes(child);
    if (block_size(in->kids[k]) == 0) {
        release_block(in->kids[k]);
        for (std::uint16_t i = k; i + 1 < in->count; ++i) {
            in->kids[i] = in->kids[i + 1];
            in->keys[i] = std::move(in->keys[i + 1]);
            in->kid_bytes[i] = in->kid_bytes[i + 1];
        }
        --in->count;
        in->keys[0].clear();
    } else if (k > 0) {
        in->keys[k] = std::string(first_name(in->kids[k]));
    }
    return child;
}

}  // namespace

std::uint32_t ChildMap::entry_size(const Node* n) { return static_cast<std::uint32_t>(n->name_len()) + 1; }

ChildMap::ChildMap(const ChildMap& other) : root_(other.root_) {
    if (root_) ++root_->refs;
}

ChildMap::~ChildMap() {
    if (root_) release_block(root_);
}

std::uint32_t ChildMap::size() const { return root_ ? block_size(root_) : 0; }
std::uint32_t ChildMap::name_bytes() const { return root_ ? block_bytes(root_) : 0; }
bool ChildMap::shared() const { return root_ && root_->refs > 1; }

Node* ChildMap::find(std::string_view name) const {
    const Block* b = root_;
    if (!b) return nullptr;
    while (!b->leaf) {
        const InnerBlock* in = as_inner(b);
        b = in->kids[kid_index(in, name)];
    }
    const LeafBlock* l = as_leaf(b);
    std::uint16_t pos = leaf_find(l, name);
    return pos < l->count ? l->items[pos] : nullptr;
}

Node** ChildMap::find_slot(std::string_view name) {
    if (!root_) return nullptr;
    Block** b = &root_;
    unshare(*b);
    while (!(*b)->leaf) {
        InnerBlock* in = as_inner(*b);
        b = &in->kids[kid_index(in, name)];
        unshare(*b);
    }
    LeafBlock* l = as_leaf(*b);
    std::uint16_t pos = leaf_find(l, name);
    return pos < l->count ? &l->items[pos] : nullptr;
}

Node** ChildMap::last_slot() {
    if (!root_) return nullptr;
    Block** b = &root_;
    unshare(*b);
    while (!(*b)->leaf) {
        InnerBlock* in = as_inner(*b);
        b = &in->kids[in->count - 1];
        unshare(*b);
    }
    LeafBlock* l = as_leaf(*b);
    return &l->items[l->count - 1];
}

void ChildMap::insert(Node* child) {
    if (!root_) {
        LeafBlock* l = alloc_leaf(1);
        leaf_insert(l, 0, child);
        root_ = l;
        return;
    }
    unshare(root_);
    Block* right = insert_into(root_, child);
    if (!right) return;
    InnerBlock* top = alloc_inner();
    top->count = 2;
    top->kids[0] = root_;
    top->kids[1] = right;
    top->keys[1] = std::string(first_name(right));
    retotal(top);
    root_ = top;
}

void ChildMap::append(Node* child) {
    if (!root_) return insert(child);
    unshare(root_);
    Block* right = append_into(root_, child);
    if (!right) return;
    InnerBlock* top = alloc_inner();
    top->count = 2;
    top->kids[0] = root_;
    top->kids[1] = right;
    top->keys[1] = std::string(child->name());
    retotal(top);
    root_ = top;
}

const Node* ChildMap::last() const {
    const Block* b = root_;
    if (!b) return nullptr;
    while (!b->leaf) b = as_inner(b)->kids[as_inner(b)->count - 1];
    return as_leaf(b)->items[b->count - 1];
}

Node* ChildMap::erase(std::string_view name) {
    if (!find(name)) return nullptr;
    unshare(root_);
    Node* child = erase_from(root_, name);
    // Collapse inner roots with a single kid, then an emptied map.
    while (root_ && !root_->leaf && as_inner(root_)->count == 1) {
        Block* only = as_inner(root_)->kids[0];
        as_inner(root_)->count = 0;
        delete as_inner(root_);
        root_ = only;
    }
    if (root_ && block_size(root_) == 0) {
        release_block(root_);
        root_ = nullptr;
    }
    return child;
}

bool ChildMap::same_names(const ChildMap& other) const {
    if (root_ == other.root_) return true;
    if (size() != other.size()) return false;
    // Walk this map with for_each and `other` with an explicit cursor,
    // comparing names pairwise.
    bool equal = true;
    struct Cursor {
        const Block* stack[16];
        std::uint16_t pos[16];
        int depth = -1;
        void push(const Block* b) {
            ++depth;
            stack[depth] = b;
            pos[depth] = 0;
        }
        const Node* next() {
            while (depth >= 0) {
                const Block* b = stack[depth];
                if (b->leaf) {
                    const LeafBlock* l = as_leaf(b);
                    if (pos[depth] < l->count) return l->items[pos[depth]++];
                    --depth;
                } else {
                    const InnerBlock* in = as_inner(b);
                    if (pos[depth] < in->count) push(in->kids[pos[depth]++]);
                    else --depth;
                }
            }
            return nullptr;
        }
    } cur;
    if (other.root_) cur.push(other.root_);
    for_each([&](const Node* n) {
        const Node* m = cur.next();
        if (!m || m->name() != n->name()) {
            equal = false;
            return false;
        }
        return true;
    });
    return equal;
}

namespace {

bool check_block(const Block* b, std::string_view lo, std::string_view hi, bool has_hi,
                 const char*& why, std::uint32_t& size, std::uint32_t& bytes) {
    size = 0;
    bytes = 0;
    if (b->refs == 0) return (why = "block with zero references"), false;
    if (b->leaf) {
        const LeafBlock* l = as_leaf(b);
        if (l->count == 0) return (why = "empty leaf block"), false;
        if (l->count > l->cap) return (why = "leaf over capacity"), false;
        for (std::uint16_t i = 0; i < l->count; ++i) {
            std::string_view n = l->items[i]->name();
            if (n < lo || (has_hi && n >= hi)) return (why = "child outside its block's range"), false;
            if (i > 0 && !(l->items[i - 1]->name() < n)) return (why = "children not sorted"), false;
            ++size;
            bytes += entry_bytes(l->items[i]);
        }
        return true;
    }
    const InnerBlock* in = as_inner(b);
    if (in->count == 0) return (why = "inner block without kids"), false;
    for (std::uint16_t i = 0; i < in->count; ++i) {
        std::string_view klo = i == 0 ? lo : std::string_view(in->keys[i]);
        bool khas = i + 1 < in->count || has_hi;
        std::string_view khi = i + 1 < in->count ? std::string_view(in->keys[i + 1]) : hi;
        std::uint32_t s, by;
        if (!check_block(in->kids[i], klo, khi, khas, why, s, by)) return false;
        if (i > 0 && first_name(in->kids[i]) != in->keys[i]) return (why = "stale separator key"), false;
        if (by != in->kid_bytes[i]) return (why = "kid byte total disagrees with its contents"), false;
        size += s;
        bytes += by;
    }
    if (size != in->size || bytes != in->bytes) return (why = "block totals disagree with contents"), false;
    return true;
}

}  // namespace

bool ChildMap::check(const char*& why) const {
    if (!root_) return true;
    if (!root_->leaf && as_inner(root_)->count < 2) return (why = "inner root with one kid"), false;
    std::uint32_t s, by;
    return check_block(root_, std::string_view(), std::string_view(), false, why, s, by);
}

}  // namespace xs::store
