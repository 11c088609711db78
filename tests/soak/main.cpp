// xstore-soak [--duration S] [--guests N] [--unloaded S] [--latency-ratio R]
//             [--guest-policy normal|nice|idle] [--guest-nice N] [--guest-cpus LIST]
//             [--daemon-cpus LIST] [--toolstack-cpus LIST] [--good-rate N] [--seed N]
//
// Starts a fake-Xen host and xstored ($XSTORED_BIN, with the fake libraries
// of $XSTORE_FAKEXEN_LIBDIR), measures the toolstack alone, then runs it
// with N guests (a third hostile) until the duration is over, and checks
// the run's invariants (docs/security.md). Prints the figures; exits 1 if
// any invariant broke.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

#include "tests/soak/soak.hpp"
#include "tests/support/env.hpp"
#include "tests/support/proc_stats.hpp"
#include "tests/support/protocol.hpp"
#include "tests/support/tempdir.hpp"
#include "tests/support/tree_count.hpp"
#include "tools/fakexen/domains.hpp"
#include "transport/wire.hpp"

using namespace xs;
using namespace xs::soak;
using namespace std::chrono_literals;

namespace {

constexpr DomId kFirstGood = 1;
constexpr DomId kFirstHostile = 500;
// Fixed overhead allowed above the daemon's RssAnon before any guest:
// allocator arenas and the toolstack's own nodes (docs/security.md).
constexpr std::size_t kFixedOverhead = 32u << 20;

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "xstore-soak: %s\nusage: xstore-soak [--duration S] [--guests N] [--unloaded S] "
                 "[--latency-ratio R] [--good-rate N] [--seed N]\n"
                 "                   [--guest-policy normal|nice|idle] [--guest-nice N] [--guest-cpus LIST]\n"
                 "                   [--daemon-cpus LIST] [--toolstack-cpus LIST]\n",
                 why);
    std::exit(2);
}

Options::GuestPolicy parse_policy(const std::string& v) {
    if (v == "normal") return Options::GuestPolicy::Normal;
    if (v == "nice") return Options::GuestPolicy::Nice;
    if (v == "idle") return Options::GuestPolicy::Idle;
    usage(("bad value for --guest-policy: " + v).c_str());
}

// "1" or "2,3": a list of CPU numbers.
std::vector<int> parse_cpus(const std::string& option, const std::string& v) {
    std::vector<int> cpus;
    std::size_t at = 0;
    while (at <= v.size()) {
        std::size_t comma = v.find(',', at);
        std::string one = v.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        char* end = nullptr;
        long n = std::strtol(one.c_str(), &end, 10);
        if (one.empty() || *end || n < 0 || n >= CPU_SETSIZE) usage(("bad CPU in " + option + ": " + v).c_str());
        cpus.push_back(static_cast<int>(n));
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    return cpus;
}

const char* policy_name(const Options& o) {
    switch (o.guest_policy) {
        case Options::GuestPolicy::Nice: return "nice";
        case Options::GuestPolicy::Idle: return "idle (SCHED_IDLE)";
        case Options::GuestPolicy::Normal: break;
    }
    return "normal";
}

cpu_set_t cpu_set_of(const std::vector<int>& cpus) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu : cpus) CPU_SET(cpu, &set);
    return set;
}

// Keep thread `tid` on `cpus`: 0 or an errno.
int pin(pid_t tid, const std::vector<int>& cpus) {
    cpu_set_t set = cpu_set_of(cpus);
    return ::sched_setaffinity(tid, sizeof set, &set) == 0 ? 0 : errno;
}

// The daemon's threads (its event loop, and any io_uring worker it made)
// and the toolstack's, where the options put them. The threads the program
// starts later (the guests, then re-pinned by --guest-cpus; the memory
// sampler) inherit the toolstack's CPUs.
void place_daemon_and_toolstack(const Options& o, pid_t daemon) {
    int err = 0;
    if (!o.daemon_cpus.empty()) {
        err = pin(daemon, o.daemon_cpus);
        for (pid_t tid : testing::threads_of(daemon))
            if (tid != daemon) (void)pin(tid, o.daemon_cpus);  // kernel io workers may refuse
    }
    if (!err && !o.toolstack_cpus.empty()) err = pin(::gettid(), o.toolstack_cpus);
    if (err) {
        std::fprintf(stderr, "xstore-soak: cannot place the daemon or the toolstack: %s\n", std::strerror(err));
        std::exit(2);
    }
}

// Applies the guests' scheduling policy to the calling thread; threads it
// starts (a hostile guest's killer) inherit it. A thread may always lower
// its own priority, so a failure is a broken premise of the run: exit.
void apply_guest_policy(const Options& o) {
    int err = 0;
    if (o.guest_policy == Options::GuestPolicy::Nice)
        err = ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), o.guest_nice) == 0 ? 0 : errno;
    if (o.guest_policy == Options::GuestPolicy::Idle) {
        sched_param p{};
        err = ::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &p);
        // The fake hypervisor's critical sections at normal priority, as
        // the real one's are out of any guest's scheduling.
        fakexen::Host::idle_outside_lock(true);
    }
    if (!err && !o.guest_cpus.empty()) err = pin(::gettid(), o.guest_cpus);
    if (err) {
        std::fprintf(stderr, "xstore-soak: cannot set the guests' policy: %s\n", std::strerror(err));
        std::exit(2);
    }
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (i + 1 >= argc) usage(("missing value for " + a).c_str());
        if (a == "--guest-cpus" || a == "--daemon-cpus" || a == "--toolstack-cpus") {
            std::vector<int> cpus = parse_cpus(a, argv[++i]);
            (a == "--guest-cpus" ? o.guest_cpus : a == "--daemon-cpus" ? o.daemon_cpus : o.toolstack_cpus) = cpus;
            continue;
        }
        if (a == "--guest-policy") {
            o.guest_policy = parse_policy(argv[++i]);
            continue;
        }
        char* end = nullptr;
        double v = std::strtod(argv[++i], &end);
        if (!end || *end || v < 0) usage(("bad value for " + a).c_str());
        if (a == "--duration") o.duration = v;
        else if (a == "--guests") o.guests = static_cast<unsigned>(v);
        else if (a == "--unloaded") o.unloaded = v;
        else if (a == "--latency-ratio") o.latency_ratio = v;
        else if (a == "--good-rate") o.good_rate = static_cast<unsigned>(v);
        else if (a == "--seed") o.seed = static_cast<std::uint64_t>(v);
        else if (a == "--guest-nice") {
            o.guest_nice = static_cast<int>(v);
            o.guest_policy = Options::GuestPolicy::Nice;
        }
        else usage(("unknown option " + a).c_str());
    }
    if (o.unloaded == 0) o.unloaded = std::min(60.0, o.duration / 6);
    if (o.guests < 3) usage("at least 3 guests");
    return o;
}

Quotas read_quotas(client::Client& c) {
    Quotas q;
    auto get = [&](const char* name, std::uint64_t& into) {
        auto r = c.request_string(wire::kGetQuota, {name});
        if (r) into = std::strtoull(r->c_str(), nullptr, 10);
    };
    get("nodes", q.nodes);
    get("node-size", q.node_size);
    get("watches", q.watches);
    get("transactions", q.transactions);
    get("node-permissions", q.permissions);
    get("path-max", q.path_max);
    get("outstanding", q.outstanding);
    get("memory", q.memory);
    get("transaction-nodes", q.transaction_nodes);
    return q;
}

// Samples the daemon's RssAnon until `stop`; the peak, and a violation as
// soon as a sample is over `bound`.
struct MemoryWatch {
    std::size_t peak = 0;
    std::atomic<bool> stop{false};
    // Under the sanitizers RssAnon holds their shadow memory and the
    // quarantine of freed blocks: the bound is reported, not enforced.
    void run(Run& r, std::size_t bound) {
        const bool enforce = !testing::sanitized();
        while (!stop) {
            if (!r.daemon().alive()) {
                r.violation("the daemon died");
                return;
            }
            auto now = rss_anon(r.daemon().pid());
            if (now) {
                peak = std::max(peak, *now);
                if (enforce && *now > bound)
                    r.violation("RssAnon " + std::to_string(*now) + " over the bound " + std::to_string(bound));
            }
            std::this_thread::sleep_for(100ms);
        }
    }
};

void print_latency(const char* phase, const Latencies& l) {
    std::printf("toolstack latency %-9s %8zu requests  p50 %8.1f us  p99 %8.1f us\n", phase, l.us.size(),
                l.percentile(50), l.percentile(99));
    for (const auto& [kind, f] : l.by_kind())
        std::printf("  %-22s %8zu  p50 %8.1f us  p99 %8.1f us  in the phase's slowest 1%%: %zu\n", kind.c_str(),
                    f.count, f.p50, f.p99, f.in_tail);
}

// Time the toolstack's thread and the daemon's spent waiting for a CPU in
// each phase: on a shared machine most of a slow request's time is spent
// there, not in the daemon.
class Waits {
public:
    explicit Waits(pid_t daemon) : daemon_(daemon), self_(::gettid()) { mark(); }
    void mark() {
        marks_.push_back({run_queue_wait(daemon_, daemon_).value_or(RunQueueWait{}),
                          run_queue_wait(::getpid(), self_).value_or(RunQueueWait{}), Clock::now()});
    }
    // Phases: marks 0-1 unloaded, 1-2 loaded.
    void print(std::size_t unloaded_requests, std::size_t loaded_requests) const {
        if (marks_.size() < 3) return;
        phase("unloaded", marks_[0], marks_[1], unloaded_requests);
        phase("loaded", marks_[1], marks_[2], loaded_requests);
    }

private:
    struct Mark {
        RunQueueWait daemon, toolstack;
        Clock::time_point at;
    };
    static void phase(const char* name, const Mark& a, const Mark& b, std::size_t requests) {
        using us = std::chrono::duration<double, std::micro>;
        double secs = std::chrono::duration<double>(b.at - a.at).count();
        auto d = b.daemon - a.daemon;
        auto t = b.toolstack - a.toolstack;
        if (secs <= 0 || requests == 0) return;
        std::printf("run-queue wait %-9s daemon %6.1f ms/s; toolstack thread %6.1f us per request (on CPU %5.1f us)\n",
                    name, us(d.waiting).count() / 1000 / secs, us(t.waiting).count() / double(requests),
                    us(t.on_cpu).count() / double(requests));
    }
    pid_t daemon_, self_;
    std::vector<Mark> marks_;
};

void print_cpus(const char* what, const std::vector<int>& cpus) {
    for (std::size_t i = 0; i < cpus.size(); ++i) std::printf("%s%d", i ? "," : what, cpus[i]);
}

// After the run: the store is consistent, and nothing of any hostile
// domain is left (they are all dead by now).
void final_checks(Run& run, client::Client& c, unsigned hostile) {
    auto check = c.control({"check"});
    if (!check || *check != "OK") run.violation("CONTROL check at the end: " + testing::outcome(check));
    auto tree = testing::count_tree(c);
    for (const auto& p : tree.problems) run.violation("tree walk: " + p);
    for (DomId d = kFirstHostile; d < kFirstHostile + hostile; ++d) {
        if (tree.nodes_by_owner.count(d)) run.violation("dead hostile " + std::to_string(d) + " still owns nodes");
        auto intro = c.request_string(wire::kIsDomainIntroduced, {std::to_string(d)});
        if (!intro || *intro != "F") run.violation("dead hostile " + std::to_string(d) + " still introduced");
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options opts = parse(argc, argv);
    testing::TempDir dir("xstore-soak");
    auto host = fakexen::init_host(dir.file("host"));
    if (!host) usage("cannot create a fake host");
    ::setenv(fakexen::kEnvHost, (*host)->dir().c_str(), 1);
    std::string libs = std::getenv("XSTORE_FAKEXEN_LIBDIR") ? std::getenv("XSTORE_FAKEXEN_LIBDIR") : "";
    if (const char* old = std::getenv("LD_LIBRARY_PATH"); old && *old) libs += std::string(":") + old;
    ::setenv("LD_LIBRARY_PATH", libs.c_str(), 1);
    testing::DaemonOptions dopts;
    dopts.args = {"--xsd-kva", (*host)->xsd_kva_path(), "--xsd-port", (*host)->xsd_port_path()};
    auto daemon = std::make_unique<testing::Daemon>(dopts);
    auto probe = daemon->connect();
    if (!testing::sync(*probe)) usage("the daemon does not answer");
    Quotas quotas = read_quotas(*probe);
    Run run(opts, *host, std::move(daemon), quotas);
    place_daemon_and_toolstack(opts, run.daemon().pid());

    unsigned hostile = opts.guests / 3;
    unsigned good = opts.guests - hostile;
    std::size_t base = rss_anon(run.daemon().pid()).value_or(0);
    std::size_t bound = base + kFixedOverhead + quotas.memory * (opts.guests + 1);
    MemoryWatch mem;
    std::thread memory([&] { mem.run(run, bound); });

    auto ts = run.connect();
    Latencies unloaded, loaded;
    Counts ts_counts;
    Waits waits(run.daemon().pid());
    auto start = Clock::now();
    toolstack_cycles(run, *ts, start + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(opts.unloaded)), unloaded, ts_counts);

    waits.mark();
    std::vector<std::thread> guests;
    auto at_guest_policy = [&opts] { apply_guest_policy(opts); };
    for (unsigned i = 0; i < good; ++i)
        guests.emplace_back([&run, at_guest_policy, i] {
            at_guest_policy();
            good_guest(run, static_cast<DomId>(kFirstGood + i));
        });
    for (unsigned i = 0; i < hostile; ++i)
        guests.emplace_back([&run, at_guest_policy, i, seed = opts.seed] {
            at_guest_policy();
            hostile_guest(run, static_cast<DomId>(kFirstHostile + i), seed * 1000 + i);
        });
    auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opts.duration));
    auto cpu_from = testing::cpu_time(run.daemon().pid());
    auto loaded_from = Clock::now();
    toolstack_cycles(run, *ts, end, loaded, ts_counts);
    auto cpu_to = testing::cpu_time(run.daemon().pid());
    waits.mark();
    double loaded_secs = std::chrono::duration<double>(Clock::now() - loaded_from).count();
    run.stop = true;
    for (auto& t : guests) t.join();
    std::printf("guests stopped %.1f s after the end\n", std::chrono::duration<double>(Clock::now() - end).count());
    run.add(ts_counts);
    final_checks(run, *ts, hostile);
    mem.stop = true;
    memory.join();
    ts.reset();
    probe.reset();
    for (const auto& problem : run.daemon().stop()) run.violation("daemon: " + problem);

    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("xstore-soak: %.0f s, %u guests (%u well-behaved, %u hostile), seed %llu, guest policy %s", secs,
                opts.guests, good, hostile, static_cast<unsigned long long>(opts.seed), policy_name(opts));
    if (opts.guest_policy == Options::GuestPolicy::Nice) std::printf(" %d", opts.guest_nice);
    print_cpus(", guests on CPU ", opts.guest_cpus);
    print_cpus(", daemon on CPU ", opts.daemon_cpus);
    print_cpus(", toolstack on CPU ", opts.toolstack_cpus);
    std::printf("\n");
    for (const auto& [kind, n] : run.counts()) std::printf("  %-44s %12llu\n", kind.c_str(), static_cast<unsigned long long>(n));
    std::printf("RssAnon: start %.1f MiB, peak %.1f MiB, bound %.1f MiB (start + %zu MiB + %llu x %u domains)%s\n",
                base / 1048576.0, mem.peak / 1048576.0, bound / 1048576.0, kFixedOverhead >> 20,
                static_cast<unsigned long long>(quotas.memory), opts.guests + 1,
                testing::sanitized() ? " (not enforced under the sanitizers)" : "");
    if (cpu_from && cpu_to && loaded_secs > 0)
        std::printf("daemon CPU while loaded: %.0f%% of one core\n",
                    100.0 * static_cast<double>((*cpu_to - *cpu_from).count()) / 1000.0 / loaded_secs);
    print_latency("unloaded", unloaded);
    print_latency("loaded", loaded);
    waits.print(unloaded.us.size(), loaded.us.size());
    double ratio = unloaded.percentile(99) > 0 ? loaded.percentile(99) / unloaded.percentile(99) : 0;
    std::printf("p99 loaded / unloaded: %.2f%s\n", ratio, opts.latency_ratio > 0 ? "" : " (not enforced)");
    if (opts.latency_ratio > 0 && ratio > opts.latency_ratio)
        run.violation("toolstack p99 " + std::to_string(ratio) + "x its unloaded value");
    auto v = run.violations();
    std::printf("violations: %llu\n", static_cast<unsigned long long>(run.violation_count()));
    for (const auto& s : v) std::printf("  %s\n", s.c_str());
    return run.violation_count() == 0 ? 0 : 1;
}
