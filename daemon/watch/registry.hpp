// The watch registry: every registered watch, in a trie keyed by path
// components, so matching a change costs the depth of its path (plus the
// watches it matches), not the number of watches in the daemon. Pure code.
//
// Trie layout: a virtual root whose children are "/" (every absolute path)
// and the special names ("@releaseDomain", "@introduceDomain"); below them one
// level per path component. So "/a/b" is "/" -> "a" -> "b" and
// "@releaseDomain/5" is "@releaseDomain" -> "5": a watch on "/" can never
// match an "@..." name, and a special name counts as one component.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace xs::watch {

using ConnId = std::uint64_t;

struct Watch {
    ConnId conn;
    std::string path;    // canonical: absolute "/a/b" or special "@releaseDomain" / "@releaseDomain/5"
    std::string token;
    int depth;           // -1 = unlimited; 0 = the node only; d = at most d extra components
    std::uint16_t strip; // relative watch: characters removed from event paths ("/local/domain/5/" -> 16); 0 if absolute
};

// The event path as the watcher sees it: relative watches get their
// "/local/domain/<id>/" prefix stripped.
std::string_view reported_path(const Watch& w, std::string_view event_path);

// A non-owning reference to a callable taking `const Watch&`: lets the
// template members below share one compiled walker without allocating.
class WatchFn {
public:
    template <class F>
    explicit WatchFn(F& f)
        : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
          call_([](void* o, const Watch& w) { (*static_cast<F*>(o))(w); }) {}
    void operator()(const Watch& w) const { call_(obj_, w); }

private:
    void* obj_;
    void (*call_)(void*, const Watch&);
};

// Callbacks receive watches owned by the registry; they must not add or
// remove watches while the walk runs (collect first, change afterwards).
class Registry {
public:
    Registry();
    ~Registry();
    Registry(Registry&&) noexcept;
    Registry& operator=(Registry&&) noexcept;
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // EEXIST: the same conn + path + token is registered (depth not compared).
    // EINVAL: a path that is not canonical (empty, relative, "//", trailing
    // "/"), a depth below -1, or strip longer than the path.
    Result<> add(Watch w);
    // ENOENT when no such watch exists.
    Result<> remove(ConnId conn, std::string_view path, std::string_view token);
    // Removes every watch of `conn` (walks only that connection's watches);
    // returns how many.
    std::size_t remove_all(ConnId conn);

    std::size_t count(ConnId conn) const;
    std::size_t total() const;
    // Trie nodes in use, the virtual root excluded (0 when empty): shows that
    // removals prune.
    std::size_t node_count() const;

    // Change of `path`: every watch on `path` or on an ancestor of it whose
    // depth allows the distance. Ancestors first, each node in registration order.
    template <class F>
    void match_subtree(std::string_view path, F&& fn) const {
        visit_subtree(path, WatchFn(fn));
    }
    // Watches whose path equals `path` (depth ignored).
    template <class F>
    void match_exact(std::string_view path, F&& fn) const {
        visit_exact(path, WatchFn(fn));
    }
    // Every watch strictly below `path` (a removed subtree), parents before children.
    template <class F>
    void for_each_below(std::string_view path, F&& fn) const {
        visit_below(path, WatchFn(fn));
    }
    // Every watch of `conn`, in registration order.
    template <class F>
    void for_each_of(ConnId conn, F&& fn) const {
        visit_conn(conn, WatchFn(fn));
    }

private:
    void visit_subtree(std::string_view path, WatchFn fn) const;
    void visit_exact(std::string_view path, WatchFn fn) const;
    void visit_below(std::string_view path, WatchFn fn) const;
    void visit_conn(ConnId conn, WatchFn fn) const;

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace xs::watch
