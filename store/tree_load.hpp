// Building or patching a tree node by node, as a migration stream gives
// them (live update): every node with its full path, after its parent.
//
// No permission checks, no quotas, no watch triggers: the stream is the
// daemon's own state. Nodes another tree shares are copied first, so a
// loader may patch a snapshot (a transaction's view) without touching the
// tree it shares nodes with. Consecutive nodes under the same parent (the
// stream's depth-first order) reuse the walk to that parent.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "store/perms.hpp"
#include "store/tally.hpp"
#include "store/tree.hpp"

namespace xs::store {

class TreeLoader {
public:
    // `generation` numbers the directories created or changed.
    TreeLoader(Tree& tree, std::uint64_t& generation);

    // Create the node at `path`, or replace its value and permissions
    // (keeping its children). "/" and the special names only have theirs
    // replaced. EINVAL: not a canonical path, a name or value too long, no
    // permissions; ENOENT: its parent does not exist.
    Result<> put(std::string_view path, std::string_view value, std::span<const PermEntry> perms);
    // Remove the node at `path` with everything beneath it. ENOENT when it
    // does not exist, EINVAL for "/", a special name or a bad path.
    Result<> remove(std::string_view path);

    // What the puts and removes so far changed in each owner's nodes and
    // bytes: a restore adds it to the tally of the tree it started from
    // instead of walking the whole tree again.
    const Tally& changes() const { return changes_; }

private:
    bool acceptable(std::string_view path) const;
    Node* walk_to(std::string_view parent);
    void reset_walk();
    PermList* shared_perms(std::span<const PermEntry> perms, const Node* parent);

    Tree& tree_;
    std::uint64_t& generation_;
    // The unshared nodes from the root down to the parent of the last put,
    // and that parent's path.
    std::vector<Node*> chain_;
    std::string chain_path_;
    // The node the last put made (unshared, the last child of
    // chain_.back()) and its path: the next node is often its first child.
    Node* made_ = nullptr;
    std::string made_path_;
    // Set by the walk that went down to the node the last put made (the
    // last child of its parent): the one put that follows needs no search.
    Node* made_parent_ = nullptr;
    PermRef last_perms_;  // the last list made, reused by nodes that repeat it
    Tally changes_;
};

}  // namespace xs::store
