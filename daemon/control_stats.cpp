// CONTROL stats [-j], the counters behind it, the log lines for quota hits
// and the status line systemd shows (STATUS=).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "daemon/config/log.hpp"
#include "daemon/config/notify.hpp"
#include "daemon/daemon.hpp"
#include "xs_config.h"

namespace xs::daemon {

std::int64_t wall_clock_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

namespace {

std::int64_t steady_second() {
    return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
}

std::size_t resident_bytes() {
    std::ifstream in("/proc/self/statm");
    std::size_t pages = 0, rss = 0;
    if (!(in >> pages >> rss)) return 0;
    return rss * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

Result<> Daemon::control_stats(Request& r, const Strings& args) {
    bool json = args.count == 1 && args[0] == "-j";
    if (args.count > 1 || (args.count == 1 && !json)) return fail(EINVAL);
    StatsSnapshot s = stats_snapshot();
    std::size_t room = wire::kPayloadMax - 1;  // the reply's NUL
    set_text(r.out, json ? format_stats_json(s, room) : format_stats_text(s, room));
    return {};
}

StatsSnapshot Daemon::stats_snapshot() {
    fold_requests();
    StatsSnapshot s;
    s.version = XSTORED_VERSION;
    s.pid = static_cast<long>(::getpid());
    s.uptime_s = static_cast<double>(wall_clock_ns() - stats_.started_ns) / 1e9;
    s.live_updates = live_updates_;
    s.event_loop = loop_.name();
    for (const auto& [id, c] : conns_) {
        if (c->closing) continue;
        (c->kind() == Connection::Kind::Socket ? s.sockets : s.rings) += 1;
        s.transactions += c->transactions();
        s.events_queued += c->out.events();
        s.output_queued += c->out.bytes();
    }
    for (const auto& [id, d] : domains_.all()) {
        s.domains += d.introduced;
        DomainFigures f{id, d.usage[quota::Item::Nodes], d.usage[quota::Item::Memory], d.usage[quota::Item::Watches],
                        d.usage[quota::Item::Transactions], d.usage[quota::Item::Outstanding]};
        s.nodes += f.nodes;
        s.memory += f.memory;
        s.per_domain.push_back(f);
    }
    std::sort(s.per_domain.begin(), s.per_domain.end(), [](const DomainFigures& a, const DomainFigures& b) {
        return a.memory != b.memory ? a.memory > b.memory : a.id < b.id;
    });
    s.rss = resident_bytes();
    s.watches = watches_.total();
    s.requests = stats_.requests;
    s.quota_refusals = stats_.quota_refusals;
    s.per_s_since_start = static_cast<double>(s.requests) / std::max(s.uptime_s, 1.0);
    s.per_s_last_minute = stats_.window.per_second(steady_second(), s.uptime_s);
    return s;
}

// The requests of this turn into the per-second window: one clock read a
// turn, none a request.
void Daemon::fold_requests() {
    if (stats_.requests == stats_.folded) return;
    stats_.window.add(steady_second(), stats_.requests - stats_.folded);
    stats_.folded = stats_.requests;
}

// After each request: a refusal for a quota is counted and logged (once
// per 10 s per domain) so an operator can grep which guest hits which
// limit; a guest above its soft memory quota gets a warning.
void Daemon::note_result(const Connection& c, const wire::Header& hdr, const Result<>& res) {
    check_soft_memory(c);
    if (res || res.error().code != ENOSPC) return;
    ++stats_.quota_refusals;
    log::limited(quota_log_, c.domid(), log::Level::Warning, "domain %u: quota reached: %s refused (ENOSPC)",
                 c.domid(), std::string(wire::type_name(hdr.type)).c_str());
}

// Nothing is refused for the soft quota.
void Daemon::check_soft_memory(const Connection& c) {
    if (exempt(c) || c.kind() != Connection::Kind::Ring) return;
    std::uint32_t soft = quotas_.soft_memory(c.domid());
    std::int64_t used = domains_.get(c.domid()).usage[quota::Item::Memory];
    if (soft && used > static_cast<std::int64_t>(soft))
        log::limited(soft_log_, c.domid(), log::Level::Warning,
                     "domain %u: memory %lld bytes, over the soft quota of %u bytes", c.domid(),
                     static_cast<long long>(used), soft);
}

// What systemd shows for the service ("systemctl status"): sent when the
// figures change, at most once a second, and at once when a live update
// starts or ends. Returns when to look again (a change not yet sent).
std::optional<Clock::time_point> Daemon::notify_turn() {
    fold_requests();
    if (!notify::enabled()) return std::nullopt;
    StatusKey key{updating(), conns_.size(), domains_.all().size()};
    if (key == status_.key) return std::nullopt;
    auto now = Clock::now();
    bool urgent = key.updating != status_.key.updating;
    if (!urgent && now < status_.sent + std::chrono::seconds(1)) return status_.sent + std::chrono::seconds(1);
    status_.key = key;
    status_.sent = now;
    notify::status(status_line());
    return std::nullopt;
}

std::string Daemon::status_line() {
    if (updating()) return "live-updating";
    std::size_t domains = 0;
    for (const auto& [id, d] : domains_.all()) domains += d.introduced;
    return log::format("serving %zu connections, %zu domains; %llu live updates", conns_.size(), domains,
                       static_cast<unsigned long long>(live_updates_));
}

}  // namespace xs::daemon
