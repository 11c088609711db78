#include "daemon/stats.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace xs::daemon {

namespace {

std::size_t slot(std::int64_t second) {
    return static_cast<std::size_t>(((second % RateWindow::kSeconds) + RateWindow::kSeconds) % RateWindow::kSeconds);
}

template <class... Args>
std::string fmt(const char* f, Args... args) {
    char buf[256];
    int n = std::snprintf(buf, sizeof buf, f, args...);
    return std::string(buf, static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(sizeof buf) - 1)));
}

std::string duration(double s) {
    auto t = static_cast<std::int64_t>(s);
    if (t >= 86400) return fmt("%" PRId64 "d%02" PRId64 "h%02" PRId64 "m", t / 86400, t / 3600 % 24, t / 60 % 60);
    return fmt("%" PRId64 "h%02" PRId64 "m%02" PRId64 "s", t / 3600, t / 60 % 60, t % 60);
}

// The per-domain part, as many rows as fit in `room` bytes (the rest are
// counted as left out).
template <class Row>
std::string rows(const StatsSnapshot& s, std::size_t room, std::size_t& shown, Row row) {
    std::string out;
    shown = 0;
    for (const DomainFigures& d : s.per_domain) {
        std::string r = row(d, shown == 0);
        if (out.size() + r.size() > room) break;
        out += r;
        ++shown;
    }
    return out;
}

}  // namespace

void RateWindow::add(std::int64_t second, std::uint64_t n) {
    std::size_t i = slot(second);
    if (second_[i] != second) {
        second_[i] = second;
        count_[i] = 0;
    }
    count_[i] += n;
}

double RateWindow::per_second(std::int64_t second, double uptime_s) const {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < count_.size(); ++i)
        if (second_[i] > second - kSeconds && second_[i] <= second) sum += count_[i];
    double span = std::clamp(uptime_s, 1.0, static_cast<double>(kSeconds));
    return static_cast<double>(sum) / span;
}

std::string format_stats_text(const StatsSnapshot& s, std::size_t max) {
    std::string out = fmt("xstored %s, pid %ld, up %s, %" PRIu64 " live updates, %s loop\n", s.version.c_str(),
                          s.pid, duration(s.uptime_s).c_str(), s.live_updates, s.event_loop.c_str());
    out += fmt("connections: %zu (%zu sockets, %zu rings)\n", s.sockets + s.rings, s.sockets, s.rings);
    out += fmt("domains: %zu\nnodes: %" PRId64 "\n", s.domains, s.nodes);
    out += fmt("memory: %" PRId64 " bytes accounted, %zu bytes resident\n", s.memory, s.rss);
    out += fmt("watches: %zu\ntransactions: %zu open\n", s.watches, s.transactions);
    out += fmt("events queued: %zu (%zu bytes of output queued)\n", s.events_queued, s.output_queued);
    out += fmt("requests: %" PRIu64 " (%.1f/s since start, %.1f/s over the last minute)\n", s.requests,
               s.per_s_since_start, s.per_s_last_minute);
    out += fmt("quota refusals: %" PRIu64 "\n", s.quota_refusals);
    out += fmt("%6s %9s %10s %8s %6s %11s\n", "domain", "nodes", "memory", "watches", "trans", "outstanding");
    constexpr std::size_t kTail = 48;  // room for the "left out" line
    std::size_t shown = 0;
    std::size_t room = max > out.size() + kTail ? max - out.size() - kTail : 0;
    out += rows(s, room, shown, [](const DomainFigures& d, bool) {
        return fmt("%6u %9" PRId64 " %10" PRId64 " %8" PRId64 " %6" PRId64 " %11" PRId64 "\n", d.id, d.nodes,
                   d.memory, d.watches, d.transactions, d.outstanding);
    });
    if (shown < s.per_domain.size()) out += fmt("(%zu more domains not shown)\n", s.per_domain.size() - shown);
    return out;
}

std::string format_stats_json(const StatsSnapshot& s, std::size_t max) {
    std::string out = fmt("{\"schema\":1,\"version\":\"%s\",\"pid\":%ld,\"uptime_s\":%.3f,", s.version.c_str(),
                          s.pid, s.uptime_s);
    out += fmt("\"live_updates\":%" PRIu64 ",\"event_loop\":\"%s\",", s.live_updates, s.event_loop.c_str());
    out += fmt("\"connections\":{\"sockets\":%zu,\"rings\":%zu},", s.sockets, s.rings);
    out += fmt("\"domains\":%zu,\"nodes\":%" PRId64 ",", s.domains, s.nodes);
    out += fmt("\"memory\":{\"accounted\":%" PRId64 ",\"resident\":%zu},", s.memory, s.rss);
    out += fmt("\"watches\":%zu,\"transactions\":%zu,", s.watches, s.transactions);
    out += fmt("\"events_queued\":%zu,\"output_queued_bytes\":%zu,", s.events_queued, s.output_queued);
    out += fmt("\"requests\":{\"total\":%" PRIu64 ",\"per_s_since_start\":%.3f,\"per_s_last_minute\":%.3f},",
               s.requests, s.per_s_since_start, s.per_s_last_minute);
    out += fmt("\"quota_refusals\":%" PRIu64 ",\"per_domain\":[", s.quota_refusals);
    constexpr std::size_t kTail = 48;  // the closing fields
    std::size_t shown = 0;
    std::size_t room = max > out.size() + kTail ? max - out.size() - kTail : 0;
    out += rows(s, room, shown, [](const DomainFigures& d, bool first) {
        return fmt("%s{\"domid\":%u,\"nodes\":%" PRId64 ",\"memory\":%" PRId64 ",\"watches\":%" PRId64
                   ",\"transactions\":%" PRId64 ",\"outstanding\":%" PRId64 "}",
                   first ? "" : ",", d.id, d.nodes, d.memory, d.watches, d.transactions, d.outstanding);
    });
    out += fmt("],\"per_domain_omitted\":%zu}\n", s.per_domain.size() - shown);
    return out;
}

}  // namespace xs::daemon
