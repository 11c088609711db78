// What differs between two trees that share structure (the committed tree
// and a transaction's view), as the list of node puts and removals that
// turns one into the other (the pending nodes of a migration stream).
#pragma once

#include <functional>
#include <string_view>

#include "store/tree.hpp"

namespace xs::store {

// Calls fn(path, node) for every node of `to` that `from` lacks or holds with
// another value or other permissions, and fn(path, nullptr) for the top of
// every subtree that `from` has and `to` lacks. Parents come before their
// children, so applying the calls to a copy of `from` with a TreeLoader
// (put / remove) gives `to`. Subtrees both trees share are skipped: the cost
// follows the difference, not the size of the trees.
void diff(const Tree& from, const Tree& to, const std::function<void(std::string_view, const Node*)>& fn);

}  // namespace xs::store
