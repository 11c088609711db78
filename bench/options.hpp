// The command line of xstore-bench: common options, then one parameter set
// per workload with small defaults, a --smoke set of tiny ones, and explicit
// options overriding both. Pure code (no I/O) so it can be unit tested.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/failure.hpp"

namespace xs::bench {

enum class Format { kTable, kJson, kBoth };

struct PingParams {
    std::uint64_t ops = 20000;
    std::optional<std::uint64_t> warmup;  // default: ops / 10
    std::uint64_t value_size = 16;
    std::uint64_t warmup_ops() const { return warmup ? *warmup : ops / 10; }
};

struct PipelineParams {
    std::vector<std::uint64_t> clients{1, 4, 16, 64};
    std::uint64_t window = 16;
    std::vector<std::string> mixes{"read", "write"};  // 90 % reads / 90 % writes
    std::uint64_t ops = 200000;                       // per configuration
    std::uint64_t keys = 16;                          // nodes per client
    std::uint64_t value_size = 16;
};

struct BootstormParams {
    std::uint64_t toolstacks = 16;
    std::uint64_t domains = 4;   // per toolstack
    std::uint64_t writes = 30;   // WRITEs per transaction
    std::uint64_t devices = 3;   // device transactions per domain
    std::uint64_t first_domid = 1000;
};

struct WatchParams {
    std::vector<std::uint64_t> watches{0, 1000, 10000};
    std::uint64_t writes = 2000;
    std::uint64_t conns = 4;   // connections holding the unrelated watches
    std::uint64_t window = 64; // registration requests in flight per connection
};

struct BigstoreParams {
    std::vector<std::uint64_t> nodes{10000, 100000};
    std::uint64_t children = 10000;  // of the one big directory (at most half the nodes)
    std::uint64_t listings = 20;     // full DIRECTORY_PART listings timed
    std::uint64_t writes = 2000;     // beneath the big and the small directory each
    std::uint64_t conns = 4;         // build connections
    std::uint64_t window = 64;       // build requests in flight per connection
};

// Workload 7: fake guests over their rings (needs a fake-Xen host).
struct GuestsParams {
    std::uint64_t guests = 8;
    std::uint64_t first_domid = 1;
    std::uint64_t rounds = 1000;  // measured rounds per guest (plus a tenth as warm-up)
    std::uint64_t keys = 4;       // nodes each guest cycles through
};

// Workload 9: guests booting (needs a fake-Xen host). One run per size,
// each with its own domids from first_domid on.
struct GuestBootParams {
    std::vector<std::uint64_t> guests{10, 100};
    std::uint64_t first_domid = 1;
    std::uint64_t toolstacks = 16;        // socket connections creating domains, one request in flight
    std::uint64_t backend_domains = 64;   // domains per backend connection (each holds their watches)
    std::uint64_t idle_ms = 10000;        // quiet guests: the daemon's idle CPU over this time
    std::uint64_t requests = 20000;       // requests of the CPU comparison, per transport
    std::uint64_t stall_s = 10;           // nothing moved for this long: events are missing
};

// Workload 8: domain release in a big store (needs a fake-Xen host).
struct ReleaseParams {
    std::uint64_t nodes = 1000000;    // the store, in the big-store shape, owned by dom0
    std::uint64_t owned = 100;        // nodes the released domain owns
    std::uint64_t named = 10;         // nodes of a backend granting it access
    std::uint64_t rounds = 5;         // domains introduced and released, one after another
    std::uint64_t first_domid = 2000;
};

// Workload 9: transactions held open while a subtree is rewritten.
struct PinParams {
    std::uint64_t nodes = 2000;        // the subtree's nodes
    std::uint64_t value_bytes = 1500;  // each node's value
    std::uint64_t rounds = 10;         // a transaction started, then every node rewritten
};

// Live update under load (never part of `all`: it replaces the daemon's
// program). Guests: nullopt means half the connections with a fake-Xen
// host, none without.
struct LiveUpdateParams {
    std::uint64_t nodes = 100000;   // the store, in the big-store shape
    std::uint64_t conns = 100;      // load connections, guests included
    std::optional<std::uint64_t> guests;
    std::uint64_t first_domid = 1;  // of the guests
    std::uint64_t watches = 1000;   // spread over the load connections
    std::uint64_t updates = 5;
    std::uint64_t interval_ms = 1000;  // load before the first update and between updates
    std::string binary;             // "": the daemon's own executable
    std::optional<std::uint64_t> version;  // -v N on the -s request
    std::uint64_t guests_for(bool fakexen) const { return guests ? *guests : fakexen ? conns / 2 : 0; }
};

struct Options {
    std::string command;  // ping, pipeline, bootstorm, watch, bigstore, guests, liveupdate, all, help
    std::string socket;
    std::optional<pid_t> daemon_pid;
    std::string daemon_name;  // "": /proc/<pid>/comm
    std::string placement;    // "": detected from CPU affinities
    bool echo = false;        // the daemon is xstore-echo: skip answer checks
    bool smoke = false;
    Format format = Format::kBoth;
    double timeout_s = 120;   // per measured phase
    std::string prefix = "/bench";
    std::string fakexen;      // fake-Xen host directory (guests workload)
    bool fakexen_given = false;  // --fakexen on the command line: `all` adds guests
    bool keep = false;        // leave the workloads' nodes in place

    PingParams ping;
    PipelineParams pipeline;
    BootstormParams bootstorm;
    WatchParams watch;
    BigstoreParams bigstore;
    GuestsParams guests;
    LiveUpdateParams liveupdate;
    ReleaseParams release;
    PinParams pin;
    GuestBootParams guestboot;
};

// The workload names in the order `all` runs them (`all` adds "guests"
// at the end when --fakexen is given; "liveupdate" only runs when named).
const std::vector<std::string>& workload_names();
// Every workload name, "guests" and "liveupdate" included.
bool is_workload(const std::string& name);

// Parse argv (without argv[0]). `default_socket` is used when --socket is
// absent, `default_fakexen` when --fakexen is.
Checked<Options> parse_options(const std::vector<std::string>& args, const std::string& default_socket,
                               const std::string& default_fakexen = "");

// Apply the tiny --smoke sizes.
void apply_smoke(Options& o);

// "1,4,16" -> {1, 4, 16}; fails on anything else (empty items, signs, junk).
Checked<std::vector<std::uint64_t>> parse_list(const std::string& text);
Checked<std::uint64_t> parse_count(const std::string& text);

std::string usage();

}  // namespace xs::bench
