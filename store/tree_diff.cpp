#include "store/tree_diff.hpp"

#include <string>
#include <vector>

namespace xs::store {

namespace {

using Visit = std::function<void(std::string_view, const Node*)>;

bool same_content(const Node& a, const Node& b) {
    return a.value() == b.value() && (a.perms == b.perms || a.perms->same_as(b.perms->entries()));
}

std::vector<const Node*> children_of(const Node* n) {
    std::vector<const Node*> out;
    n->children().for_each([&](const Node* c) {
        out.push_back(c);
        return true;
    });
    return out;
}

void child_path(std::string& path, std::size_t len, std::string_view name) {
    path.resize(len);
    if (len > 1) path.push_back('/');
    path.append(name);
}

// Every node of the subtree, parents first.
void put_all(const Node* n, std::string& path, const Visit& fn) {
    fn(path, n);
    std::size_t len = path.size();
    n->children().for_each([&](const Node* c) {
        child_path(path, len, c->name());
        put_all(c, path, fn);
        return true;
    });
    path.resize(len);
}

void compare(const Node* from, const Node* to, std::string& path, const Visit& fn);

// The children of two versions of a directory, merged by name (both maps
// are sorted).
void compare_children(const Node* from, const Node* to, std::string& path, const Visit& fn) {
    if (from->children().same_as(to->children())) return;
    std::vector<const Node*> a = children_of(from), b = children_of(to);
    std::size_t len = path.size(), i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        const Node* x = i < a.size() ? a[i] : nullptr;
        const Node* y = j < b.size() ? b[j] : nullptr;
        if (x && y && x->name() == y->name()) {
            ++i, ++j;
        } else if (y && (!x || y->name() < x->name())) {
            x = nullptr, ++j;
        } else {
            y = nullptr, ++i;
        }
        child_path(path, len, (x ? x : y)->name());
        compare(x, y, path, fn);
    }
    path.resize(len);
}

void compare(const Node* from, const Node* to, std::string& path, const Visit& fn) {
    if (from == to) return;
    if (!to) return fn(path, nullptr);
    if (!from) return put_all(to, path, fn);
    if (!same_content(*from, *to)) fn(path, to);
    compare_children(from, to, path, fn);
}

}  // namespace

void diff(const Tree& from, const Tree& to, const Visit& fn) {
    std::string path = "/";
    compare(from.root(), to.root(), path, fn);
    for (std::string_view special : {kIntroduceDomain, kReleaseDomain}) {
        const Node* a = from.lookup(special);
        const Node* b = to.lookup(special);
        if (a != b && !same_content(*a, *b)) fn(special, b);
    }
}

}  // namespace xs::store
