// Where each domain is named in the committed tree, so that a domain's
// death costs what the domain is named in, not a walk of the whole store.
//
// A node names domain d when one of its permission entries (the owner or
// another) is d. The index holds the "tops" of d: the nodes naming d whose
// parent does not ("/" and the special names have none). Every node naming
// d is then reached from a top of d by going down through nodes naming d
// only, since a node naming d beneath one that does not is a top itself.
//
// Invariants, for every tracked domain d (all but the privileged domain,
// which never dies):
//   coverage: every top of d is indexed;
//   validity: every indexed path exists and names d (so the index is never
//             larger than the number of permission entries in the tree).
// Redundant entries (an indexed node whose parent names d as well) may be
// left: they are valid and cost a duplicate visit only.
//
// Nodes inherit their parent's permission list by pointer, so a tree has
// few tops: a guest's home, its device directories, backends that grant it
// access. The index holds nothing per node and costs nothing when a node
// is written; it is kept for the committed tree only (a transaction's view
// is indexed when it commits, from its effects).
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/domid.hpp"
#include "store/effects.hpp"
#include "store/path.hpp"

namespace xs::store {

class Tree;

class DomainIndex {
public:
    explicit DomainIndex(DomId untracked) : untracked_(untracked) {}

    // From scratch: one walk of the whole tree.
    void rebuild(const Tree& t);
    // After `e` happened to `t` (`t` as it is now, after every change of
    // `e`: a transaction's changes are applied in order once it committed).
    void apply(const Tree& t, const Effects& e);
    // The domain is named nowhere any more.
    void forget(DomId dom);

    bool tracks(DomId dom) const { return dom != untracked_; }
    // The indexed paths of `dom`, in walk order.
    std::vector<std::string_view> tops(DomId dom) const;
    std::size_t entries() const { return entries_; }
    // Compares with a rebuild: false and the differences (missing tops,
    // entries that are not valid) appended to `problems`.
    bool check(const Tree& t, std::string& problems) const;

private:
    void insert(DomId dom, std::string_view path);
    void erase(DomId dom, std::string_view path);
    void erase_within(std::string_view top);
    void recheck(const Tree& t, std::string_view path, const std::vector<DomId>& doms);
    void lost_at(const Tree& t, std::string_view path, const std::vector<DomId>& lost);
    std::vector<DomId> named(const PermList* p) const;

    DomId untracked_;
    std::size_t entries_ = 0;
    // path -> the domains it is a top of; walk order, so a subtree is a range.
    std::map<std::string, std::vector<DomId>, WalkOrder> by_path_;
    // domain -> its tops (views of by_path_'s keys).
    std::unordered_map<DomId, std::set<std::string_view, WalkOrder>> by_dom_;
};

}  // namespace xs::store
