// xstore-soak: the daemon under a crowd of fake guests, a third of them
// hostile in every way the protocol allows, while a well-behaved toolstack
// on the socket keeps creating and destroying domains and well-behaved
// guests keep working (docs/security.md, "Soak under hostile guests").
// What the parts share: the options, the fake host and the daemon, the
// counters, and the list of violations that make the run fail.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/domid.hpp"
#include "tests/support/daemon.hpp"
#include "tools/client/xs_client.hpp"
#include "tools/fakexen/host.hpp"

namespace xs::soak {

using Clock = std::chrono::steady_clock;

struct Options {
    double duration = 60;     // seconds, the unloaded phase included
    unsigned guests = 100;    // fake guests; a third of them hostile
    double unloaded = 0;      // seconds of toolstack alone (0: a sixth of the duration, at most 60)
    double latency_ratio = 0; // fail when loaded p99 > ratio x unloaded p99 (0: report only)
    unsigned good_rate = 20;  // requests per second of each well-behaved guest
    std::uint64_t seed = 1;
    // How the guests' threads are scheduled. On a Xen host guests run on
    // their own vCPUs and cost dom0 only the daemon's work; here they share
    // the machine's cores with the daemon and the toolstack. `Idle`
    // (SCHED_IDLE) models guests on other CPUs: they run whenever the
    // daemon and the toolstack do not want the CPU, so they still load the
    // daemon as hard as it can take, but do not hold it back (inside the
    // fake hypervisor's critical sections they run at normal priority, as a
    // hypercall would: fakexen::Host::idle_outside_lock). `Nice` only
    // weights them down (CFS still gives them their share); `Normal` is the
    // harshest case: every guest competes with the daemon as an equal.
    enum class GuestPolicy { Normal, Nice, Idle };
    GuestPolicy guest_policy = GuestPolicy::Normal;
    int guest_nice = 10;  // with GuestPolicy::Nice
    // CPUs the guests' threads may run on (empty: any). With the program
    // itself started on other CPUs (taskset), the daemon and the toolstack
    // keep those to themselves, as dom0 does on a host whose guests run on
    // other physical CPUs.
    std::vector<int> guest_cpus;
    // CPUs for the daemon's threads and for the toolstack (empty: as the
    // program was started). With the daemon on a CPU of its own, the
    // toolstack's requests do not share a CPU with the guests' work in the
    // daemon, as on a host whose dom0 has more than one vCPU.
    std::vector<int> daemon_cpus, toolstack_cpus;
};

// Quotas as the daemon reports them (GET_QUOTA).
struct Quotas {
    std::uint64_t nodes = 1000, node_size = 2048, watches = 128, transactions = 10, permissions = 5,
                  path_max = 2048, outstanding = 20, memory = 2621440, transaction_nodes = 1024;
};

// Counts per operation kind; each worker keeps its own and adds it at the end.
using Counts = std::map<std::string, std::uint64_t>;

class Run {
public:
    Run(Options o, std::shared_ptr<fakexen::Host> host, std::unique_ptr<testing::Daemon> daemon, Quotas q)
        : opts(o), quotas(q), host_(std::move(host)), daemon_(std::move(daemon)) {}

    const Options opts;
    const Quotas quotas;
    std::atomic<bool> stop{false};  // the loaded phase is over

    fakexen::Host& host() { return *host_; }
    std::shared_ptr<fakexen::Host> shared_host() { return host_; }
    testing::Daemon& daemon() { return *daemon_; }
    // A new privileged connection (ten seconds per reply).
    std::unique_ptr<client::Client> connect();

    // Something the daemon must never do; the run fails if any was seen.
    void violation(const std::string& what);
    std::vector<std::string> violations();
    std::uint64_t violation_count();

    void add(const Counts& c);
    Counts counts();

private:
    std::shared_ptr<fakexen::Host> host_;
    std::unique_ptr<testing::Daemon> daemon_;
    std::mutex m_;
    std::vector<std::string> violations_;
    std::uint64_t violation_count_ = 0;
    Counts counts_;
};

// Latency samples in microseconds, and their percentiles.
// Each sample keeps the kind of its request, so the tail can be told apart.
struct Latencies {
    std::vector<double> us;
    std::vector<std::string> kinds;  // parallel to us
    void add(const std::string& kind, double sample_us) {
        us.push_back(sample_us);
        kinds.push_back(kind);
    }
    double percentile(double p) const;
    // Per kind: count, p50, p99, and how many samples are in the whole
    // phase's slowest 1%.
    struct KindFigures {
        std::size_t count = 0, in_tail = 0;
        double p50 = 0, p99 = 0;
    };
    std::map<std::string, KindFigures> by_kind() const;
};

// The toolstack: create a domain with the usual device handshake (vif
// frontend and backend, both sides' states to Connected), destroy it, wait
// for @releaseDomain, clean up; again and again until `until`. Every
// request it makes is timed into `lat`; every reply is checked.
void toolstack_cycles(Run& run, client::Client& c, Clock::time_point until, Latencies& lat, Counts& counts);

// A well-behaved guest of domain `d` (created and introduced here): writes,
// reads back, lists, commits transactions and hears its own watch until
// run.stop; every reply must be the right one.
void good_guest(Run& run, DomId d);

// A hostile guest slot: domain `d` is created, attacked from and destroyed
// over and over (at random moments, mid-request and mid-transaction
// included); after each death its nodes, watches and transactions must be
// gone. Until run.stop.
void hostile_guest(Run& run, DomId d, std::uint64_t seed);

// Resident anonymous memory of a process (RssAnon), bytes.
std::optional<std::size_t> rss_anon(pid_t pid);

// A thread's time on a CPU and waiting in a run queue for one, from
// /proc/<pid>/task/<tid>/schedstat: where a slow request's time went when
// the daemon itself was not busy.
struct RunQueueWait {
    std::chrono::nanoseconds on_cpu{0}, waiting{0};
    RunQueueWait operator-(const RunQueueWait& o) const { return {on_cpu - o.on_cpu, waiting - o.waiting}; }
};
std::optional<RunQueueWait> run_queue_wait(pid_t pid, pid_t tid);

// Create the domain's home as a toolstack does: /local/domain/<d> (owner
// dom0, readable by d), <home>/domid, <home>/data owned by d; then
// INTRODUCE it. False (with a violation) when the daemon refused.
bool create_and_introduce(Run& run, client::Client& c, DomId d);

// Wait until the daemon has released `d` (IS_DOMAIN_INTRODUCED F), then
// check nothing of it is left: its data, its accounting. Removes its home.
bool verify_released(Run& run, client::Client& c, DomId d, Counts& counts);

}  // namespace xs::soak
