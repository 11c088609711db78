#include "tools/top/screen.hpp"

#include <cstdio>

namespace xs::top {

namespace {

template <class... Args>
std::string fmt(const char* f, Args... args) {
    char buf[512];
    int n = std::snprintf(buf, sizeof buf, f, args...);
    return n < 0 ? std::string() : std::string(buf, std::min(static_cast<std::size_t>(n), sizeof buf - 1));
}

std::string uptime(double s) {
    auto t = static_cast<long long>(s);
    if (t >= 86400) return fmt("%lldd%02lldh%02lldm", t / 86400, t / 3600 % 24, t / 60 % 60);
    return fmt("%lldh%02lldm%02llds", t / 3600, t / 60 % 60, t % 60);
}

std::string text_of(const Json& j, const char* field) {
    const Json* v = j.at(field);
    return v && v->kind == Json::Kind::String ? v->text : std::string("?");
}

std::string domain_table(const Json& now, std::size_t rows) {
    std::string out = fmt("\n%6s %9s %10s %8s %6s %6s\n", "DOMID", "NODES", "MEMORY", "WATCHES", "TRANS", "OUTST");
    const Json* list = now.at("per_domain");
    std::size_t shown = 0;
    if (list)
        for (const Json& d : list->items) {
            if (rows && shown == rows) break;
            out += fmt("%6.0f %9.0f %10s %8.0f %6.0f %6.0f\n", d.num("domid"), d.num("nodes"),
                       human_bytes(d.num("memory")).c_str(), d.num("watches"), d.num("transactions"),
                       d.num("outstanding"));
            ++shown;
        }
    double more = now.num("per_domain_omitted") + static_cast<double>(list ? list->items.size() - shown : 0);
    if (more > 0) out += fmt("(%.0f more domains)\n", more);
    return out;
}

}  // namespace

std::string human_bytes(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    std::size_t u = 0;
    while (bytes >= 1024 && u + 1 < std::size(units)) {
        bytes /= 1024;
        ++u;
    }
    return u == 0 ? fmt("%.0f B", bytes) : fmt("%.1f %s", bytes, units[u]);
}

std::string render(const Json& now, const std::optional<Json>& prev, double interval_s, std::size_t rows) {
    std::string out = fmt("xstored %s  pid %.0f  up %s  live updates %.0f  %s loop\n", text_of(now, "version").c_str(),
                          now.num("pid"), uptime(now.num("uptime_s")).c_str(), now.num("live_updates"),
                          text_of(now, "event_loop").c_str());
    double sockets = now.num("connections.sockets"), rings = now.num("connections.rings");
    out += fmt("connections %.0f (sockets %.0f, rings %.0f)  domains %.0f  nodes %.0f  watches %.0f\n",
               sockets + rings, sockets, rings, now.num("domains"), now.num("nodes"), now.num("watches"));
    out += fmt("memory %s accounted, %s resident  transactions %.0f  events queued %.0f (%s)\n",
               human_bytes(now.num("memory.accounted")).c_str(), human_bytes(now.num("memory.resident")).c_str(),
               now.num("transactions"), now.num("events_queued"), human_bytes(now.num("output_queued_bytes")).c_str());
    out += fmt("requests %.0f  %.1f/s since start  %.1f/s last minute", now.num("requests.total"),
               now.num("requests.per_s_since_start"), now.num("requests.per_s_last_minute"));
    // Between two screens of the same process: the rate now (a request of
    // ours, stats itself, counts too).
    if (prev && interval_s > 0 && prev->num("pid") == now.num("pid"))
        out += fmt("  %.1f/s now", (now.num("requests.total") - prev->num("requests.total")) / interval_s);
    out += fmt("  quota refusals %.0f\n", now.num("quota_refusals"));
    return out + domain_table(now, rows);
}

}  // namespace xs::top
