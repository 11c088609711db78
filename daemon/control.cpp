// CONTROL (type 0) commands, privileged: help, check, log, logfile,
// memreport, print, quota, quota-soft, stats (control_stats.cpp).
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"
#include "store/pool.hpp"

namespace xs::daemon {

namespace {

constexpr std::string_view kHelp =
    "check           \n"
    "log             [on|off|+<switch>|-<switch>]\n"
    "logfile         <file>\n"
    "memreport       [<file>]\n"
    "print           <string>\n"
    "quota           [set <name> <val>|<domid>|max [-r]]\n"
    "quota-soft      [set <name> <val>]\n"
    "stats           [-j]\n"
    "live-update     [-c <cmdline>] [-F] [-t <timeout>] [-v <version>] <file>\n"
    "live-update-stream [1|2]\n"
    "help            \n";

}  // namespace

Result<> Daemon::on_control(Request& r) {
    if (r.payload.find('\0') == std::string_view::npos) return fail(EINVAL);
    Strings all = split_strings(r.payload);
    std::string_view cmd = all[0];
    Strings args;
    for (std::size_t i = 1; i < all.count && i < Strings::kMax; ++i) args.s[args.count++] = all[i];
    if (all.count > Strings::kMax) args.count = all.count - 1;
    if (cmd == "help") {
        set_text(r.out, kHelp);
        return {};
    }
    if (cmd == "check") {
        if (args.count) return fail(EINVAL);
        return control_check(r);
    }
    if (cmd == "log") return control_log(r, args);
    if (cmd == "logfile") {
        if (args.count != 1 || args[0].empty() || image_update_) return fail(EINVAL);  // stub domain: no files
        std::string file(args[0]);
        if (file[0] != '/') file = cfg_.rundir + "/" + file;
        log::set_trace_file(file);
        if (auto ok = log::trace_on(); !ok) return ok;
        set_text(r.out, "OK");
        return {};
    }
    if (cmd == "print") {
        if (args.count != 1) return fail(EINVAL);
        log::info("control: %.*s", static_cast<int>(args[0].size()), args[0].data());
        set_text(r.out, "OK");
        return {};
    }
    if (cmd == "memreport") {
        if (args.count > 1) return fail(EINVAL);
        std::string report = memory_report();
        if (args.count == 0) {
            if (report.size() >= wire::kPayloadMax) report.resize(wire::kPayloadMax - 1);
            set_text(r.out, report);
            return {};
        }
        std::string file(args[0]);
        if (file.empty() || image_update_) return fail(EINVAL);  // stub domain: no files
        if (file[0] != '/') file = cfg_.rundir + "/" + file;
        int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) return fail(errno);
        bool ok = ::write(fd, report.data(), report.size()) == static_cast<ssize_t>(report.size());
        ::close(fd);
        if (!ok) return fail(EIO);
        set_text(r.out, "OK");
        return {};
    }
    if (cmd == "quota") return control_quota(r, args, false);
    if (cmd == "quota-soft") return control_quota(r, args, true);
    if (cmd == "stats") return control_stats(r, args);
    if (cmd == "live-update") return control_live_update(r, args);
    if (cmd == "live-update-stream") return control_stream_version(r, args);
    return fail(EINVAL);
}

// Re-derive everything the daemon counts from the tree and the connections,
// compare with the running accounts, and repair any difference.
Result<> Daemon::control_check(Request& r) {
    std::string problems = find_problems(true);
    if (problems.empty()) {
        set_text(r.out, "OK");
        return {};
    }
    log::error("store check found problems:\n%s", problems.c_str());
    set_text(r.out, "Inconsistencies found (accounting repaired):\n" + problems);
    if (r.out.size() > wire::kPayloadMax) {
        r.out.resize(wire::kPayloadMax - 1);
        r.out.push_back('\0');
    }
    return {};
}

std::string Daemon::find_problems(bool repair) {
    std::string problems;
    store_.tree().check(problems);
    store_.check_index(problems);
    struct Count {
        std::int64_t nodes = 0, bytes = 0;
    };
    std::map<DomId, Count> real;
    store::Deltas tally = store_.tree().tally();
    for (const store::OwnerDelta& o : tally.items()) real[o.domid] = Count{o.nodes, o.bytes};
    for (auto& [id, dom] : domains_.all()) {
        Count c = real.count(id) ? real[id] : Count{};
        std::int64_t nodes = dom.usage[quota::Item::Nodes];
        if (nodes != c.nodes || dom.node_bytes != c.bytes) {
            problems += log::format("domain %u: accounted %lld nodes / %lld bytes, tree has %lld / %lld\n", id,
                                    static_cast<long long>(nodes), static_cast<long long>(dom.node_bytes),
                                    static_cast<long long>(c.nodes), static_cast<long long>(c.bytes));
            if (repair) {
                dom.usage.add(quota::Item::Nodes, c.nodes - nodes);
                dom.usage.add(quota::Item::Memory, c.bytes - dom.node_bytes);
                dom.node_bytes = c.bytes;
            }
        }
        real.erase(id);
    }
    for (auto& [id, c] : real) problems += log::format("domain %u owns nodes but has no account\n", id);
    return problems;
}

Result<> Daemon::control_log(Request& r, const Strings& args) {
    if (args.count == 0) {
        // The C daemon's switches; only io (the trace itself) exists here.
        std::string s = "Log switch settings:\n";
        for (const char* sw : {"obj", "io", "wrl", "acc", "tdb"})
            s += log::format("%-8s: %s\n", sw, sw == std::string_view("io") && log::trace_enabled() ? "on" : "off");
        s += log::format("%-8s: %s\n", "file", log::trace_file().empty() ? "(none)" : log::trace_file().c_str());
        set_text(r.out, s);
        return {};
    }
    if (args.count != 1) return fail(EINVAL);
    std::string_view a = args[0];
    if (a == "on") {
        // Without a trace file configured there is nothing to open (as upstream).
        if (!log::trace_file().empty())
            if (auto ok = log::trace_on(); !ok) return ok;
    } else if (a == "off") {
        log::trace_off();
    } else if ((a.starts_with('+') || a.starts_with('-')) &&
               (a.substr(1) == "obj" || a.substr(1) == "io" || a.substr(1) == "wrl" || a.substr(1) == "acc" ||
                a.substr(1) == "tdb")) {
        // Upstream's trace switches: only I/O tracing exists here.
    } else {
        return fail(EINVAL);
    }
    set_text(r.out, "OK");
    return {};
}

Result<> Daemon::control_quota(Request& r, const Strings& args, bool soft) {
    if (args.count == 0) {
        set_text(r.out, soft ? quota::format_soft_settings(quotas_.global()) : quota::format_settings(quotas_.global()));
        return {};
    }
    if (args[0] == "set") {
        if (args.count != 3) return fail(EINVAL);
        auto v = parse_u32(args[2]);
        if (!v || *v == 0) return fail(EINVAL);
        if (soft) {
            if (args[1] != "memory") return fail(EINVAL);
            if (auto ok = quotas_.set(std::nullopt, quota::kSoftMemoryName, *v); !ok) return ok;
        } else {
            if (!quota::parse_name(args[1])) return fail(EINVAL);
            if (auto ok = quotas_.set(std::nullopt, args[1], *v); !ok) return ok;
        }
        set_text(r.out, "OK");
        return {};
    }
    if (soft) return fail(EINVAL);
    if (args[0] == "max") {
        if (args.count > 2 || (args.count == 2 && args[1] != "-r")) return fail(EINVAL);
        if (args.count == 2) {
            global_max_ = quota::Usage{};
            for (auto& [id, d] : domains_.all()) d.usage.reset_max();
        }
        set_text(r.out, quota::format_max(global_max_));
        return {};
    }
    if (args.count != 1) return fail(EINVAL);
    auto d = parse_domid(args[0]);
    if (!d) return fail(EINVAL);
    const Domain* dom = domains_.find(*d);
    if (!dom) return fail(ENOENT);
    set_text(r.out, quota::format_domain(*d, dom->usage));
    return {};
}

namespace {

// The process's anonymous resident memory (/proc/self/status RssAnon), in
// bytes, or -1 where there is no /proc (a stub domain).
long long rss_anon() {
    int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    const char* at = std::strstr(buf, "RssAnon:");
    long long kib = 0;
    if (!at || std::sscanf(at, "RssAnon: %lld kB", &kib) != 1) return -1;
    return kib * 1024;
}

}  // namespace

std::string Daemon::memory_report() {
    std::int64_t nodes = 0, bytes = 0;
    for (const auto& [id, d] : domains_.all()) {
        nodes += d.usage[quota::Item::Nodes];
        bytes += d.node_bytes;
    }
    std::size_t queued = 0, queued_cost = 0, txs = 0;
    for (const auto& [id, c] : conns_) {
        queued += c->out.bytes();
        queued_cost += c->out.cost();
        txs += c->transactions();
    }
    std::string s = "xstored memory report\n";
    s += log::format("nodes: %lld (%lld bytes of records and paths)\n", static_cast<long long>(nodes),
                     static_cast<long long>(bytes));
    s += log::format("watches: %zu\n", watches_.total());
    s += log::format("connections: %zu, open transactions: %zu, queued output: %zu bytes (%zu with bookkeeping)\n",
                     conns_.size(), txs, queued, queued_cost);
    s += log::format("domains known: %zu\n", domains_.all().size());
    s += log::format("transaction snapshots: %llu bytes superseded since start, %llu rebases (transaction-pin %zu)\n",
                     static_cast<unsigned long long>(store_.tree().superseded()),
                     static_cast<unsigned long long>(tx_rebases_), cfg_.transaction_pin);
    // Where the bytes are: the node pool (nodes and child lists) and malloc
    // (everything else, the pool's slabs included).
    store::Pool::Stats pool = store::pool_stats();
    struct mallinfo2 heap = ::mallinfo2();
    s += log::format("node pool: %zu bytes in slabs, %zu in use, %zu in large nodes\n", pool.slab_bytes,
                     pool.small_bytes, pool.large_bytes);
    if (heap.uordblks + heap.hblkhd == 0)  // glibc's figures, and another allocator serves (a sanitizer's)
        s += "heap: not known (the allocator is not glibc's malloc)\n";
    else
        s += log::format("heap: %zu bytes in use, %zu free, %zu mapped\n", heap.uordblks + heap.hblkhd,
                         heap.fordblks, heap.hblkhd);
    // What the system counts: the heap above, and stacks, rings, buffers of
    // libraries. With a big store the heap is nearly all of it.
    if (long long rss = rss_anon(); rss >= 0) s += log::format("process: %lld bytes resident (RssAnon)\n", rss);
    // Per domain: what its quotas count (nodes, the bytes of its node
    // records and paths, every byte charged to it, watches, transactions,
    // requests and events not yet delivered).
    for (const auto& [id, d] : domains_.all()) {
        const quota::Usage& u = d.usage;
        s += log::format("domain %u: %lld nodes (%lld bytes), memory %lld bytes, %lld watches, %lld transactions, "
                         "%lld outstanding\n",
                         id, static_cast<long long>(u[quota::Item::Nodes]), static_cast<long long>(d.node_bytes),
                         static_cast<long long>(u[quota::Item::Memory]), static_cast<long long>(u[quota::Item::Watches]),
                         static_cast<long long>(u[quota::Item::Transactions]),
                         static_cast<long long>(u[quota::Item::Outstanding]));
    }
    return s;
}

}  // namespace xs::daemon
