#include "store/tree_load.hpp"

#include <algorithm>
#include <cerrno>

#include "store/node_edit.hpp"
#include "store/path.hpp"

namespace xs::store {

namespace {

// A stream's path must be one the daemon could have made: canonical,
// absolute or one of the special names, each name short enough for a node.
bool acceptable(std::string_view path) {
    if (is_special(path)) return path == kIntroduceDomain || path == kReleaseDomain;
    return is_canonical_absolute(path, kMaxName);
}

// Number of leading names two canonical absolute paths share
// ("/a/b", "/a/c" -> 1), in one pass.
std::size_t common_depth(std::string_view a, std::string_view b) {
    std::size_t n = std::min(a.size(), b.size()), i = 1, depth = 0;
    for (; i < n && a[i] == b[i]; ++i)
        if (a[i] == '/') ++depth;
    bool a_ends = i == a.size() || a[i] == '/';
    bool b_ends = i == b.size() || b[i] == '/';
    return depth + (i > 1 && a_ends && b_ends ? 1 : 0);
}

}  // namespace

TreeLoader::TreeLoader(Tree& tree, std::uint64_t& generation) : tree_(tree), generation_(generation) {
    edit::unshare(tree_.root_.raw());
    reset_walk();
}

// The permission list for a node: its parent's or the last one made when
// equal (most nodes repeat one of them), else a new one.
PermList* TreeLoader::shared_perms(std::span<const PermEntry> perms, const Node* parent) {
    if (parent && parent->perms->same_as(perms)) return parent->perms;
    if (!last_perms_ || !last_perms_->same_as(perms)) last_perms_ = make_perms(perms);
    return last_perms_.get();
}

// The unshared node at `parent`, or nullptr when it does not exist. The
// walk starts from the deepest node of the last walk that is also an
// ancestor of `parent`.
Node* TreeLoader::walk_to(std::string_view parent) {
    // A stream is depth-first: most nodes are a sibling of the last one
    // (same parent) or the first child of the node just made.
    made_parent_ = nullptr;
    if (parent == chain_path_) return chain_.back();
    if (made_ && parent == made_path_) {
        made_parent_ = made_;
        chain_.push_back(made_);
        chain_path_.assign(parent);
        made_ = nullptr;
        return chain_.back();
    }
    // Up to an ancestor of the last parent: the subtree below it is done.
    if (chain_path_.starts_with(parent) && (parent.size() == 1 || chain_path_[parent.size()] == '/')) {
        chain_.resize(parent.size() == 1 ? 1 : 1 + static_cast<std::size_t>(std::count(parent.begin(), parent.end(), '/')));
        chain_path_.resize(parent.size());
        return chain_.back();
    }
    chain_.resize(common_depth(chain_path_, parent) + 1);
    Components c(parent);
    std::string_view comp;
    for (std::size_t skip = chain_.size() - 1; skip > 0 && c.next(comp);) --skip;
    while (c.next(comp)) {
        Node** slot = chain_.back()->is_dir() ? chain_.back()->dir_children().find_slot(comp) : nullptr;
        if (!slot) {
            reset_walk();
            return nullptr;
        }
        edit::unshare(*slot);
        chain_.push_back(*slot);
    }
    chain_path_.assign(parent);
    return chain_.back();
}

void TreeLoader::reset_walk() {
    chain_.assign(1, tree_.root_.get());
    chain_path_ = "/";
    made_ = nullptr;
}

// A path under one the last put or walk reached (both canonical) needs
// only its last name checked.
bool TreeLoader::acceptable(std::string_view path) const {
    if (path.size() < 2 || path[0] != '/') return store::acceptable(path);  // "/", special names
    std::size_t slash = path.rfind('/');
    std::string_view parent = slash == 0 ? std::string_view("/") : path.substr(0, slash);
    bool known = parent == chain_path_ || (made_ && parent == made_path_);
    if (known && (slash == 0 || parent != "/"))  // not "//name"
        return is_valid_name(path.substr(slash + 1), kMaxName);
    return store::acceptable(path);
}

Result<> TreeLoader::put(std::string_view path, std::string_view value, std::span<const PermEntry> perms) {
    if (!acceptable(path) || perms.empty() || value.size() > kMaxValue) return fail(EINVAL);
    if (is_special(path) || path == "/") {
        Node** slot = path == "/" ? &tree_.root_.raw() : tree_.mutable_slot(path);
        changes_.node(**slot, path.size(), -1);
        edit::set_value(*slot, value, ++generation_);
        edit::set_perms(*slot, PermRef::share(shared_perms(perms, nullptr)), generation_);
        changes_.node(**slot, path.size());
        reset_walk();  // the root may be a new node now
        return {};
    }
    Node* parent = walk_to(parent_of(path));
    if (!parent) return fail(ENOENT);
    made_ = nullptr;
    std::string_view name = basename_of(path);
    PermRef list = PermRef::share(shared_perms(perms, parent));
    // Children usually come in name order (ours do): a name after the last
    // one is new and goes at the end, without a search.
    const Node* last = parent->children().last();
    bool in_order = !last || last->name() < name;
    if (Node** slot = in_order || !parent->is_dir() ? nullptr : parent->dir_children().find_slot(name)) {
        edit::unshare(*slot);
        changes_.node(**slot, path.size(), -1);
        edit::set_value(*slot, value, ++generation_);
        edit::set_perms(*slot, std::move(list), generation_);
        changes_.node(**slot, path.size());
        return {};
    }
    if (!parent->is_dir()) {
        // The first child makes the parent a directory (a new node): hang
        // it where the old one was. A node the last put made is its own
        // parent's last child.
        Node* grand = chain_.size() == 1 ? nullptr : chain_[chain_.size() - 2];
        Node** pslot = !grand ? &tree_.root_.raw()
                       : parent == made_parent_ ? grand->dir_children().last_slot()
                                                : grand->dir_children().find_slot(parent->name());
        edit::children_of(*pslot);
        chain_.back() = parent = *pslot;
    }
    Node* child = Node::make(name, value, list.get(), nullptr, 0);
    if (in_order) parent->dir_children().append(child);
    else parent->dir_children().insert(child);
    parent->set_gen(++generation_);
    changes_.node(*child, path.size());
    changes_.add(parent->owner(), 0, static_cast<std::int64_t>(name.size() + 1));  // its name in the parent's record
    if (in_order) {  // the walk's shortcut to it counts on its being the last child
        made_ = child;
        made_path_.assign(path);
    }
    return {};
}

Result<> TreeLoader::remove(std::string_view path) {
    if (!store::acceptable(path) || path == "/" || is_special(path)) return fail(EINVAL);
    Node* parent = walk_to(parent_of(path));
    made_ = nullptr;
    NodeRef gone(parent && parent->is_dir() ? parent->dir_children().erase(basename_of(path)) : nullptr);
    if (!gone) return fail(ENOENT);
    parent->set_gen(++generation_);
    count_subtree(changes_, *gone, path.size(), -1);
    changes_.add(parent->owner(), 0, -static_cast<std::int64_t>(gone->name_len() + 1));
    return {};
}

}  // namespace xs::store
