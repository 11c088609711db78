// The daemon's command line: compatible with the C xenstored's options where
// they mean the same, plus xstored's own (socket path, event loop, ...).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "quota/quota.hpp"
#include "base/domid.hpp"

namespace xs::daemon {

inline constexpr const char* kDefaultRundir = "/var/run/xenstored";
inline constexpr unsigned kDefaultWatchEventTimeout = 20;  // seconds
inline constexpr std::uint32_t kPathMaxCap = 2048;         // -M never goes above this (as upstream)

struct Config {
    bool no_fork = false;              // -N
    std::string pid_file;              // -F (absolute after parsing)
    std::string trace_file;            // -T (absolute after parsing: relative names resolved against the starting cwd)
    std::string config_file;           // --config: run-time settings, read again on SIGHUP (absolute)
    std::string start_dir;             // the directory relative names were resolved against
    quota::Limits limits = quota::Limits::defaults();  // -E -S -W -t -A -M -Q name=N, -q memory=N (soft)
    unsigned watch_event_timeout_s = kDefaultWatchEventTimeout;  // -w watch-event=S (0 disables)
    bool keep_orphans = false;         // -K
    bool verbose = false;              // -V (log level debug)
    bool live_update = false;          // -U: start from a live update's state
    std::uint32_t live_update_stream = 2;  // --live-update-stream: version written unless -s -v says
    bool output_pid = false;           // -P (4.17: print the daemon's pid on stdout)
    std::string rundir;                // $XENSTORED_RUNDIR or /var/run/xenstored
    std::string socket_path;           // --socket PATH, else $XENSTORED_PATH, else <rundir>/socket
    std::optional<DomId> master_domid, priv_domid;  // --master-domid, --priv-domid
    enum class LoopKind { Auto, IoUring, Epoll } loop = LoopKind::Auto;  // --event-loop=auto|io_uring|epoll
    std::string dom0_kva = "/proc/xen/xsd_kva";    // --xsd-kva PATH (dom0's own ring page)
    std::string dom0_port = "/proc/xen/xsd_port";  // --xsd-port PATH
    bool no_domain_init = false;       // -D/--no-domain-init: do not introduce dom0 at start (sockets only)
    // Bounds for clients that do not read (memory safety, also for dom0):
    std::size_t socket_queue_bytes = 4u << 20;  // --socket-queue: input stops while more is queued
    std::size_t event_queue = 65536;            // --event-queue: queued events per connection
    std::size_t event_queue_bytes = 16u << 20;  // --event-queue-bytes: their memory per connection
    // Guest write-rate limit while transactions are open (XSA-206): a guest
    // that changes nodes faster is not read until its credit recovers.
    unsigned write_rate = 200;                  // --write-rate: changes per second per guest, 0 = off
    std::size_t write_burst = 10;               // --write-burst
    // Bytes of old tree versions one open transaction may keep alive before
    // it is rebased onto the committed tree (0 = never).
    std::size_t transaction_pin = quota::kDefaultMemory;  // --transaction-pin
    std::vector<std::string> argv;     // original argv (a live update without -c passes it on)
    std::vector<std::string> ignored;  // options accepted for compatibility that do nothing here
};

// --help/--version: no config, message for stdout, exit_code 0.
// Errors: no config, message for stderr (ends with a newline), exit_code 2.
// Success: config set, message empty, exit_code 0.
struct ParseOutcome {
    std::optional<Config> config;
    std::string message;
    int exit_code;
};

// Parses argv. Environment lookups go through getenv_fn (tests inject their
// own); relative file names are made absolute against the current directory.
// Uses getopt_long, so it is not reentrant (call it from main, once).
// `start_dir` stands for the current directory (SIGHUP parses the command
// line again after the daemon changed to "/").
ParseOutcome parse_options(int argc, char* const argv[], const std::function<const char*(const char*)>& getenv_fn,
                           const std::optional<std::string>& start_dir = std::nullopt);

// A --config file's text as command-line words ({"xstored", "--quota",
// "nodes=2000", ...}), or what is wrong with it (the line, the setting).
// Only run-time options (OptionSpec::runtime) may appear.
Expected<std::vector<std::string>, std::string> config_words(std::string_view text);
Expected<std::vector<std::string>, std::string> read_config_file(const std::string& path);

std::string usage_text();
std::string version_text();

}  // namespace xs::daemon
