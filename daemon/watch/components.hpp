// Splitting watch and event names into trie components. Pure code.
#pragma once

#include <cstddef>
#include <string_view>

namespace xs::watch {

// Yields "/" then each name for an absolute path ("/a/b" -> "/", "a", "b"),
// and the whole first name then the rest for a special one
// ("@releaseDomain/5" -> "@releaseDomain", "5").
class Components {
public:
    explicit Components(std::string_view path) : rest_(path) {}

    bool next(std::string_view& out) {
        if (first_) {
            first_ = false;
            if (rest_.empty()) return false;
            if (rest_.front() == '/') {
                out = rest_.substr(0, 1);
                rest_.remove_prefix(1);
                done_ = rest_.empty();
                return true;
            }
        } else if (done_) {
            return false;
        }
        // A byte loop rather than find(): names are short (see store/path.hpp).
        std::size_t slash = 0;
        while (slash < rest_.size() && rest_[slash] != '/') ++slash;
        out = rest_.substr(0, slash);
        if (slash == rest_.size()) {
            done_ = true;
        } else {
            rest_.remove_prefix(slash + 1);
        }
        return true;
    }

private:
    std::string_view rest_;
    bool first_ = true;
    bool done_ = false;
};

// Number of components beyond the first one: how deep below its top-level
// name (the "/" root or a special name) a path lies.
inline std::size_t levels_below_top(std::string_view path) {
    Components c(path);
    std::string_view part;
    std::size_t n = 0;
    while (c.next(part)) ++n;
    return n == 0 ? 0 : n - 1;
}

// What the registry accepts as a watch path: "/" or "/a/b" or "@name[/...]"
// (the name may be empty: a watch on "@" alone is allowed, as upstream), no
// empty component, no trailing "/". Character rules are the caller's
// (it canonicalised the path already); this guards the trie's shape.
inline bool is_canonical(std::string_view path) {
    if (path.empty() || (path.front() != '/' && path.front() != '@')) return false;
    if (path == "/") return true;
    return path.back() != '/' && path.find("//") == std::string_view::npos;
}

}  // namespace xs::watch
