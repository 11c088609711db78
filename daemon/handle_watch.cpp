// Watch requests: WATCH, UNWATCH, RESET_WATCHES.
#include <cerrno>

#include "daemon/daemon.hpp"
#include "store/path.hpp"
#include "transport/ring_layout.hpp"

namespace xs::daemon {

Result<> Daemon::on_watch(Request& r) {
    Strings args = split_strings(r.payload);
    bool depth_ok = r.conn.features & ring::kFeatureWatchDepth;
    if (args.count != 2 && !(args.count == 3 && depth_ok)) return fail(EINVAL);
    int depth = -1;
    if (args.count == 3) {
        auto d = parse_u32(args[2]);
        if (!d || *d > 0xFFFF) return fail(EINVAL);
        depth = static_cast<int>(*d);
    }
    bool relative = store::is_relative(args[0]);
    auto path = canonical(r, args[0], true);
    if (!path) return fail(path.error());
    watch::Watch w{r.conn.id(), std::string(*path), std::string(args[1]), depth,
                   static_cast<std::uint16_t>(relative ? store::home_path(r.conn.domid()).size() + 1 : 0)};
    std::int64_t bytes = static_cast<std::int64_t>(w.path.size() + w.token.size());
    // A duplicate is EEXIST even at the quota: add first, then check.
    Result<> added = watches_.add(w);
    if (!added) return added;
    if (!exempt(r.conn) && !quota::within(limit(r.conn, quota::Item::Watches), watches_.count(r.conn.id()))) {
        (void)watches_.remove(r.conn.id(), w.path, w.token);
        return fail(ENOSPC);
    }
    if (Domain* d = charged(r.conn)) {
        d->usage.add(quota::Item::Watches, 1);
        d->usage.add(quota::Item::Memory, bytes);
    }
    // The reply, then the initial event, whether or not the node exists.
    send_reply(r.conn, r.hdr, r.hdr.type, std::string_view("OK", 3));
    std::string initial(args[0]);
    initial.push_back('\0');
    initial.append(args[1]);
    initial.push_back('\0');
    queue_event(r.conn, initial, Clock::time_point{}, 0xFFFF);
    r.replied = true;
    return {};
}

Result<> Daemon::on_unwatch(Request& r) {
    Strings args = split_strings(r.payload);
    if (args.count != 2) return fail(EINVAL);
    auto path = canonical(r, args[0], true);
    if (!path) return fail(path.error());
    std::int64_t bytes = static_cast<std::int64_t>(path->size() + args[1].size());
    Result<> removed = watches_.remove(r.conn.id(), *path, args[1]);
    if (!removed) return removed;
    if (Domain* d = charged(r.conn)) {
        d->usage.add(quota::Item::Watches, -1);
        d->usage.add(quota::Item::Memory, -bytes);
    }
    r.out.assign("OK", 3);
    return {};
}

// Drops every watch and every transaction of the connection (the payload
// is ignored). Safe when the request itself names one of the transactions.
Result<> Daemon::on_reset_watches(Request& r) {
    drop_state(r.conn);
    r.tx = nullptr;
    r.out.assign("OK", 3);
    return {};
}

}  // namespace xs::daemon
