// In-place edits of a tree's nodes, shared by the tree's operations and the
// loader: each makes the node in a slot private first (a copy when another
// tree shares it) and may replace the slot's node.
#pragma once

#include <cstdint>
#include <string_view>

#include "store/node.hpp"
#include "store/perms.hpp"

namespace xs::store::edit {

// Make `n` referenced only by its holder (copying it if shared). The copy
// shares the permissions and the child map, so it is O(1).
void unshare(Node*& n);
// Give the (unshared) node in `slot` a new value; `gen` for a directory.
void set_value(Node*& slot, std::string_view value, std::uint64_t gen);
// Give the (unshared) node new permissions.
void set_perms(Node* n, PermRef perms, std::uint64_t gen);
// The children of the (unshared) node in `slot`, making it a directory
// first if it is a leaf.
ChildMap& children_of(Node*& slot);

}  // namespace xs::store::edit
