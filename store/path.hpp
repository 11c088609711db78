// Node paths: validation and canonicalisation, and walking components.
//
// A canonical path is either absolute ("/", "/a/b") or special ("@name",
// "@name/x"). Relative paths are resolved against the caller's home
// "/local/domain/<domid>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/domid.hpp"
#include "base/result.hpp"

namespace xs::store {

struct PathRules {
    DomId home = 0;            // relative paths resolve to /local/domain/<home>/...
    std::uint32_t path_max = 0;  // max length after a /local/domain/<n>/ prefix; 0 = unlimited
    bool allow_special = false;  // accept "@..." names (GET/SET_PERMS, WATCH, UNWATCH)
};

// Canonicalise `raw` into `out` (reused buffer). EINVAL for: empty, invalid
// characters (only A-Z a-z 0-9 - / _ @), "@" names where not allowed,
// a trailing "/" (except "/"), "//", or a length over path_max after the
// /local/domain/<n>/ prefix (the whole path when it has no such prefix).
Result<> canonicalize(std::string& out, std::string_view raw, const PathRules& rules);

bool is_special(std::string_view canon);  // "@..."
// A canonical absolute path ("/", "/a/b": valid characters, single
// slashes, no trailing one) whose names are at most `max_name` long.
bool is_canonical_absolute(std::string_view path, std::size_t max_name);
// One name of a canonical path: 1 to `max_name` valid characters, no "/".
bool is_valid_name(std::string_view name, std::size_t max_name);
bool is_relative(std::string_view raw);   // neither "/" nor "@" first
// Length of a leading "/local/domain/<1-5 digits>/" or 0.
std::size_t local_prefix_len(std::string_view canon);
// "/local/domain/<domid>"
std::string home_path(DomId domid);

// Parent of a canonical absolute path ("/a/b" -> "/a", "/a" -> "/").
std::string_view parent_of(std::string_view canon);
// Last component ("/a/b" -> "b", "/" -> "").
std::string_view basename_of(std::string_view canon);

// The order in which Tree::for_each_node visits paths: a node before its
// descendants, siblings by name, then "@releaseDomain", "@introduceDomain".
// A node's subtree is one contiguous range in this order.
bool walk_order(std::string_view a, std::string_view b);
struct WalkOrder {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return walk_order(a, b); }
};
// True when `path` is `top` or lies beneath it.
bool within(std::string_view path, std::string_view top);

// Iterates the components of a canonical absolute path: "/a/bc" -> "a", "bc".
class Components {
public:
    explicit Components(std::string_view canon) : rest_(canon == "/" ? std::string_view() : canon.substr(1)) {}
    bool next(std::string_view& comp) {
        if (done_ || rest_.empty()) return false;
        // A byte loop, not find(): names are a few bytes, fewer than a
        // library memchr call takes to get going, and every request walks
        // its path with this.
        std::size_t slash = 0;
        while (slash < rest_.size() && rest_[slash] != '/') ++slash;
        if (slash == rest_.size()) {
            comp = rest_;
            done_ = true;
        } else {
            comp = rest_.substr(0, slash);
            rest_.remove_prefix(slash + 1);
        }
        return true;
    }

private:
    std::string_view rest_;
    bool done_ = false;
};

}  // namespace xs::store
