// The node tree: lookups with upstream's permission rules and error
// masking, and copy-on-write mutations.
//
// Copying a Tree is an O(1) snapshot (it shares every node). A mutation
// unshares only the nodes on the path it changes; nodes nobody else holds
// are changed in place. Special nodes ("@introduceDomain",
// "@releaseDomain") live beside the tree, in no children list.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/effects.hpp"
#include "store/node.hpp"
#include "store/perms.hpp"
#include "base/result.hpp"

namespace xs::store {

struct OpContext {
    Caller caller;
    Budget budget;
    std::uint64_t* generation = nullptr;  // global counter, bumped per change
};

inline constexpr std::string_view kIntroduceDomain = "@introduceDomain";
inline constexpr std::string_view kReleaseDomain = "@releaseDomain";

class Tree {
public:
    // "/", "/local", "/local/domain", "/tool", "/tool/xenstored" owned by
    // `priv` with perms n<priv>; "@introduceDomain" n<priv>;
    // "@releaseDomain" n<priv> r<DOMID_ANY> (any domain may watch it).
    static Tree initial(DomId priv, std::uint64_t& generation);
    // Only "/" and the special nodes, with the permissions initial() gives
    // them: what a migration stream's nodes are loaded into.
    static Tree bare(DomId priv, std::uint64_t& generation);

    const Node* root() const { return root_.get(); }
    bool same_as(const Tree& o) const {
        return root_.get() == o.root_.get() && intro_.get() == o.intro_.get() &&
               release_.get() == o.release_.get();
    }
    // Any canonical path, special names included; nullptr when absent.
    const Node* lookup(std::string_view path) const;

    // The node, if the caller has `need` (kAccess* bits) on it; else EACCES,
    // or ENOENT/EACCES for a missing node by upstream's masking rule.
    Result<const Node*> fetch(const OpContext& ctx, std::string_view path, std::uint8_t need) const;

    Result<Effects> write(const OpContext& ctx, std::string_view path, std::string_view value);
    Result<Effects> mkdir(const OpContext& ctx, std::string_view path);
    Result<Effects> rm(const OpContext& ctx, std::string_view path);
    // `perms` already parsed and checked against the permission-count quota.
    Result<Effects> set_perms(const OpContext& ctx, std::string_view path, PermRef perms);

    // The nodes that name a domain, in for_each_node's order: those it owns,
    // and those with another entry naming it.
    struct Mentions {
        std::vector<std::string> owned, named;
    };
    // By a walk of the whole tree.
    Mentions mentions(DomId dom) const;
    // From the nodes `tops` (a DomainIndex's), going down through nodes
    // naming `dom` only: what they name it in, and their children.
    Mentions mentions(DomId dom, std::span<const std::string_view> tops) const;

    // A domain went away: delete every node it owns with its subtree (or,
    // with keep_orphans, give them to `priv`), and drop non-owner entries
    // naming it from every node, special ones included. `m`: where it is
    // named (the whole tree is walked for them without it).
    Effects remove_domain(DomId dom, const Mentions& m, bool keep_orphans, DomId priv, std::uint64_t& generation);
    Effects remove_domain(DomId dom, bool keep_orphans, DomId priv, std::uint64_t& generation) {
        return remove_domain(dom, mentions(dom), keep_orphans, priv, generation);
    }

    // What every owner holds (nodes, and bytes as the quotas count them),
    // specials included: one pass, no paths built.
    Deltas tally() const;
    // Walk every node (specials included) with its full path length.
    void for_each_node(const std::function<void(std::string_view path, const Node&)>& fn) const;
    // Structural check of every node and child map; appends problems.
    bool check(std::string& problems) const;

    // Bytes this tree has let go of while something else (a transaction's
    // snapshot) still held them: nodes copied because they were shared,
    // and removed subtrees, as record bytes plus path. Only grows; a
    // snapshot pins at most what it grew by since the snapshot was taken.
    std::uint64_t superseded() const { return superseded_; }
    void note_superseded(std::uint64_t bytes) { superseded_ += bytes; }

private:
    friend class TreeLoader;
    struct Resolved {
        const Node* node = nullptr;      // the node, if it exists
        const Node* ancestor = nullptr;  // else its closest existing ancestor
        std::size_t ancestor_len = 0;    // length of the ancestor's path
    };
    Resolved resolve(std::string_view path) const;
    Result<> masked_error(const OpContext& ctx, const Resolved& r, std::uint8_t need) const;
    Node** mutable_slot(std::string_view path);
    Node** mutable_existing(std::string_view path, const Node** parent);
    Result<Effects> create(const OpContext& ctx, std::string_view path, std::string_view value,
                           const Resolved& r);
    Effects remove_subtree(std::string_view path, std::uint64_t& generation);
    // edit::unshare, counting a copy as superseded bytes.
    void unshare_counted(Node*& n, std::size_t path_len);

    NodeRef root_;
    NodeRef intro_;
    NodeRef release_;
    std::uint64_t superseded_ = 0;
};

// Full path length of a child of a node whose path has length `parent_len`.
inline std::size_t child_path_len(std::size_t parent_len, std::size_t name_len) {
    return (parent_len == 1 ? 1 : parent_len + 1) + name_len;
}

// Bytes a node counts against its owner's memory quota: its record plus its path.
inline std::int64_t charged_bytes(const Node& n, std::size_t path_len) {
    return static_cast<std::int64_t>(record_size(n) + path_len);
}

}  // namespace xs::store
