// CONTROL stats: the daemon's live figures, their counters and their two
// texts (plain, and JSON with -j; the schema is in docs/operations.md).
// Pure code: the daemon fills a StatsSnapshot, these format it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/domid.hpp"

namespace xs::daemon {

// Requests per second over the last minute: one bucket per second of a
// steady clock, filled once per loop turn (not per request).
class RateWindow {
public:
    static constexpr std::int64_t kSeconds = 60;
    void add(std::int64_t second, std::uint64_t n);
    // The mean over the kSeconds seconds up to `second`, or over `uptime_s`
    // when the daemon is younger than that.
    double per_second(std::int64_t second, double uptime_s) const;

private:
    std::array<std::int64_t, kSeconds> second_{};
    std::array<std::uint64_t, kSeconds> count_{};
};

// What a daemon counts for stats; the first three outlive live updates
// (XS_GLOBAL "requests", "quota-refusals", "started-ns").
struct Counters {
    std::uint64_t requests = 0;        // requests dispatched
    std::uint64_t quota_refusals = 0;  // of them, refused for a quota (ENOSPC, E2BIG from a guest)
    std::int64_t started_ns = 0;       // wall clock at the first start
    std::uint64_t folded = 0;          // requests already added to the window
    RateWindow window;
};

struct DomainFigures {
    DomId id = 0;
    std::int64_t nodes = 0, memory = 0, watches = 0, transactions = 0, outstanding = 0;
};

struct StatsSnapshot {
    std::string version;               // "0.1.0"
    long pid = 0;
    double uptime_s = 0;               // since the first start (live updates included)
    std::uint64_t live_updates = 0;
    std::string event_loop;            // "io_uring", "epoll"
    std::size_t sockets = 0, rings = 0;
    std::size_t domains = 0;           // introduced
    std::int64_t nodes = 0;
    std::int64_t memory = 0;           // accounted to domains, bytes
    std::size_t rss = 0;               // the process's resident memory, bytes (0 = unknown)
    std::size_t watches = 0, transactions = 0, events_queued = 0, output_queued = 0;
    std::uint64_t requests = 0, quota_refusals = 0;
    double per_s_since_start = 0, per_s_last_minute = 0;
    std::vector<DomainFigures> per_domain;  // largest memory first
};

// Now, as Counters::started_ns counts.
std::int64_t wall_clock_ns();

// Both texts fit in `max` bytes: domains that do not fit are left out
// (counted in the text), the largest consumers kept.
std::string format_stats_text(const StatsSnapshot& s, std::size_t max);
std::string format_stats_json(const StatsSnapshot& s, std::size_t max);

}  // namespace xs::daemon
