#include "daemon/config/options.hpp"

#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <array>
#include <charconv>
#include <climits>
#include <string_view>

#include "xs_config.h"

namespace xs::daemon {
namespace {

// Long-only options get codes above the char range.
enum LongOnly : int {
    kMasterDomid = 256,
    kPrivDomid,
    kSocket,
    kEventLoop,
    kXsdKva,
    kXsdPort,
    kTraceControl,
    kVersion,
    kSocketQueue,
    kEventQueue,
    kWriteRate,
    kWriteBurst,
    kLiveUpdateStream,
};

// Leading ':' makes getopt report a missing argument as ':' and stay quiet.
constexpr const char* kShortOptions = ":A:DE:F:H::I::KM:NPQ:q:RS:T:t:UVW:w:";

const option kLongOptions[] = {
    {"perm-nb", required_argument, nullptr, 'A'},
    {"no-domain-init", no_argument, nullptr, 'D'},
    {"entry-nb", required_argument, nullptr, 'E'},
    {"pid-file", required_argument, nullptr, 'F'},
    {"help", optional_argument, nullptr, 'H'},
    {"internal-db", optional_argument, nullptr, 'I'},
    {"keep-orphans", no_argument, nullptr, 'K'},
    {"path-max", required_argument, nullptr, 'M'},
    {"no-fork", no_argument, nullptr, 'N'},
    {"output-pid", no_argument, nullptr, 'P'},
    {"quota", required_argument, nullptr, 'Q'},
    {"quota-soft", required_argument, nullptr, 'q'},
    {"no-recovery", no_argument, nullptr, 'R'},
    {"entry-size", required_argument, nullptr, 'S'},
    {"trace-file", required_argument, nullptr, 'T'},
    {"transaction", required_argument, nullptr, 't'},
    {"live-update", no_argument, nullptr, 'U'},
    {"verbose", no_argument, nullptr, 'V'},
    {"watch-nb", required_argument, nullptr, 'W'},
    {"timeout", required_argument, nullptr, 'w'},
    {"master-domid", required_argument, nullptr, kMasterDomid},
    {"priv-domid", required_argument, nullptr, kPrivDomid},
    {"socket", required_argument, nullptr, kSocket},
    {"event-loop", required_argument, nullptr, kEventLoop},
    {"xsd-kva", required_argument, nullptr, kXsdKva},
    {"xsd-port", required_argument, nullptr, kXsdPort},
    {"trace-control", required_argument, nullptr, kTraceControl},
    {"version", no_argument, nullptr, kVersion},
    {"socket-queue", required_argument, nullptr, kSocketQueue},
    {"event-queue", required_argument, nullptr, kEventQueue},
    {"write-rate", required_argument, nullptr, kWriteRate},
    {"write-burst", required_argument, nullptr, kWriteBurst},
    {"live-update-stream", required_argument, nullptr, kLiveUpdateStream},
    {nullptr, 0, nullptr, 0},
};

ParseOutcome failure(const std::string& what) {
    return {std::nullopt, "xstored: " + what + "\nTry 'xstored --help' for more information.\n", 2};
}

// Decimal digits only, at least one, at most `max`: no sign, no spaces, no hex.
std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) {
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}

std::string invalid_value(std::string_view option, std::string_view value) {
    return "invalid value \"" + std::string(value) + "\" for " + std::string(option);
}

std::string absolute(std::string_view name, const std::string& cwd) {
    if (name.empty() || name.front() == '/') return std::string(name);
    return (cwd == "/" ? "" : cwd) + "/" + std::string(name);
}

// Parsing state shared by the handlers below; `error` set means stop.
struct Parser {
    Config cfg;
    std::optional<std::string> error;
    std::optional<ParseOutcome> early;  // --help / --version

    std::uint32_t quota_value(std::string_view option, std::string_view text) {
        auto v = parse_decimal(text, INT_MAX);
        if (!v) error = invalid_value(option, text);
        return v ? static_cast<std::uint32_t>(*v) : 0;
    }

    void set_rate(unsigned& field, std::string_view option, const char* text) {
        auto v = parse_decimal(text, 1000000);
        if (!v) {
            error = invalid_value(option, text) + " (writes per second, 0 = no limit)";
            return;
        }
        field = static_cast<unsigned>(*v);
    }

    void set_count(std::size_t& field, std::string_view option, const char* text) {
        auto v = parse_decimal(text, INT_MAX);
        if (!v || *v == 0) {
            error = invalid_value(option, text) + " (a positive number)";
            return;
        }
        field = static_cast<std::size_t>(*v);
    }

    void set_hard(quota::Item item, std::string_view option, const char* text) {
        std::uint32_t v = quota_value(option, text);
        if (error) return;
        if (item == quota::Item::PathMax) v = std::min(v, kPathMaxCap);
        cfg.limits[item] = v;
    }

    // -Q name=N and -q name=N.
    void set_named(bool soft, std::string_view arg) {
        const std::string_view option = soft ? "-q" : "-Q";
        auto eq = arg.find('=');
        if (eq == std::string_view::npos) {
            error = "quotas must be specified via <name>=<value> (" + std::string(option) + " " + std::string(arg) + ")";
            return;
        }
        std::string_view name = arg.substr(0, eq);
        auto item = quota::parse_name(name);
        if (!item || (soft && *item != quota::Item::Memory)) {
            error = std::string(soft ? "unknown soft quota \"" : "unknown quota \"") + std::string(name) + "\"";
            return;
        }
        std::uint32_t v = quota_value(option, arg.substr(eq + 1));
        if (error) return;
        if (soft) {
            cfg.limits.soft_memory = v;
        } else {
            cfg.limits[*item] = v;
        }
    }

    // -w watch-event=S.
    void set_timeout(std::string_view arg) {
        auto eq = arg.find('=');
        if (eq == std::string_view::npos) {
            error = "timeouts must be specified via <name>=<seconds> (-w " + std::string(arg) + ")";
            return;
        }
        if (arg.substr(0, eq) != "watch-event") {
            error = "unknown timeout \"" + std::string(arg.substr(0, eq)) + "\"";
            return;
        }
        auto v = parse_decimal(arg.substr(eq + 1), INT_MAX);
        if (!v) {
            error = invalid_value("-w", arg.substr(eq + 1));
            return;
        }
        cfg.watch_event_timeout_s = static_cast<unsigned>(*v);
    }

    std::optional<DomId> domid(std::string_view option, std::string_view text) {
        auto v = parse_decimal(text, kDomidFirstReserved - 1);
        if (!v) error = invalid_value(option, text);
        return v ? std::optional<DomId>(static_cast<DomId>(*v)) : std::nullopt;
    }

    void set_loop(std::string_view text) {
        using K = Config::LoopKind;
        if (text == "auto") {
            cfg.loop = K::Auto;
        } else if (text == "io_uring") {
            cfg.loop = K::IoUring;
        } else if (text == "epoll") {
            cfg.loop = K::Epoll;
        } else {
            error = invalid_value("--event-loop", text) + " (auto, io_uring or epoll)";
        }
    }

    // Upstream's trace switches; we validate them for compatibility. Only I/O
    // tracing exists here, so they change nothing.
    void check_trace_switch(std::string_view arg) {
        static constexpr std::array<std::string_view, 5> kSwitches = {"obj", "io", "wrl", "acc", "tdb"};
        bool signed_ok = !arg.empty() && (arg.front() == '+' || arg.front() == '-');
        if (!signed_ok || std::find(kSwitches.begin(), kSwitches.end(), arg.substr(1)) == kSwitches.end()) {
            error = "illegal trace switch \"" + std::string(arg) + "\"";
        }
    }

    void set_file(std::string& field, std::string_view option, const char* text) {
        if (*text == '\0') {
            error = "empty file name for " + std::string(option);
            return;
        }
        field = text;
    }

    void set_stream_version(const char* text) {
        auto v = parse_decimal(text, 2);
        if (!v || *v == 0) {
            error = invalid_value("--live-update-stream", text) + " (1 or 2)";
            return;
        }
        cfg.live_update_stream = static_cast<std::uint32_t>(*v);
    }

    void handle(int opt, const char* arg);
};

void Parser::handle(int opt, const char* arg) {
    using quota::Item;
    switch (opt) {
    case 'A': set_hard(Item::NodePermissions, "-A", arg); break;
    case 'D': cfg.no_domain_init = true; break;
    case 'E': set_hard(Item::Nodes, "-E", arg); break;
    case 'F': set_file(cfg.pid_file, "-F", arg); break;
    case 'H': early = ParseOutcome{std::nullopt, usage_text(), 0}; break;
    case 'I': cfg.ignored.push_back("-I (the store is always in memory here)"); break;
    case 'K': cfg.keep_orphans = true; break;
    case 'M': set_hard(Item::PathMax, "-M", arg); break;
    case 'N': cfg.no_fork = true; break;
    case 'P': cfg.output_pid = true; break;
    case 'Q': set_named(false, arg); break;
    case 'q': set_named(true, arg); break;
    case 'R': cfg.ignored.push_back("-R (there is no database file to recover here)"); break;
    case 'S': set_hard(Item::NodeSize, "-S", arg); break;
    case 'T': set_file(cfg.trace_file, "-T", arg); break;
    case 't': set_hard(Item::Transactions, "-t", arg); break;
    case 'U': cfg.live_update = true; break;
    case 'V': cfg.verbose = true; break;
    case 'W': set_hard(Item::Watches, "-W", arg); break;
    case 'w': set_timeout(arg); break;
    case kMasterDomid: cfg.master_domid = domid("--master-domid", arg); break;
    case kPrivDomid: cfg.priv_domid = domid("--priv-domid", arg); break;
    case kSocket: set_file(cfg.socket_path, "--socket", arg); break;
    case kEventLoop: set_loop(arg); break;
    case kXsdKva: set_file(cfg.dom0_kva, "--xsd-kva", arg); break;
    case kXsdPort: set_file(cfg.dom0_port, "--xsd-port", arg); break;
    case kTraceControl:
        check_trace_switch(arg);
        cfg.ignored.push_back("--trace-control (the trace always has every request and reply)");
        break;
    case kVersion: early = ParseOutcome{std::nullopt, version_text(), 0}; break;
    case kSocketQueue: set_count(cfg.socket_queue_bytes, "--socket-queue", arg); break;
    case kEventQueue: set_count(cfg.event_queue, "--event-queue", arg); break;
    case kWriteRate: set_rate(cfg.write_rate, "--write-rate", arg); break;
    case kWriteBurst: set_count(cfg.write_burst, "--write-burst", arg); break;
    case kLiveUpdateStream: set_stream_version(arg); break;
    default: error = "internal error: unhandled option"; break;
    }
}

// The option getopt complained about, for the message.
std::string offending_option(int argc, char* const argv[]) {
    if (optopt != 0 && optopt < kMasterDomid) return std::string("-") + static_cast<char>(optopt);
    int i = std::min(optind, argc) - 1;
    return i >= 0 ? std::string(argv[i]) : std::string("?");
}

std::string current_dir() {
    std::string buf(256, '\0');
    while (getcwd(buf.data(), buf.size()) == nullptr) {
        if (errno != ERANGE) return "/";
        buf.resize(buf.size() * 2);
    }
    buf.resize(buf.find('\0'));
    return buf;
}

// Environment, defaults that depend on other options, absolute file names.
void finish(Config& cfg, const std::function<const char*(const char*)>& getenv_fn) {
    auto env = [&](const char* name) -> std::string {
        const char* v = getenv_fn ? getenv_fn(name) : nullptr;
        return v ? std::string(v) : std::string();
    };
    const std::string cwd = current_dir();
    cfg.rundir = env("XENSTORED_RUNDIR");
    if (cfg.rundir.empty()) cfg.rundir = kDefaultRundir;
    if (cfg.socket_path.empty()) cfg.socket_path = env("XENSTORED_PATH");
    if (cfg.socket_path.empty()) cfg.socket_path = cfg.rundir + "/socket";
    for (std::string* f : {&cfg.rundir, &cfg.socket_path, &cfg.pid_file, &cfg.trace_file, &cfg.dom0_kva, &cfg.dom0_port}) {
        *f = absolute(*f, cwd);
    }
}

}  // namespace

ParseOutcome parse_options(int argc, char* const argv[], const std::function<const char*(const char*)>& getenv_fn) {
    Parser p;
    for (int i = 0; i < argc; ++i) p.cfg.argv.emplace_back(argv[i]);

    optind = 0;  // glibc: full re-initialisation, so parse_options can run more than once
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, kShortOptions, kLongOptions, nullptr)) != -1) {
        if (opt == '?') return failure("unknown option " + offending_option(argc, argv));
        if (opt == ':') return failure("option " + offending_option(argc, argv) + " needs a value");
        p.handle(opt, optarg);
        if (p.early) return *p.early;
        if (p.error) return failure(*p.error);
    }
    if (optind < argc) return failure("unexpected argument \"" + std::string(argv[optind]) + "\" (no arguments desired)");

    finish(p.cfg, getenv_fn);
    return {std::move(p.cfg), std::string(), 0};
}

std::string version_text() { return std::string("xstored ") + XSTORED_VERSION + "\n"; }

std::string usage_text() {
    return R"(Usage: xstored [OPTION]...
A xenstore daemon for Xen, compatible with xenstored's protocol and options.

  -N, --no-fork            stay in the foreground and log to stderr
  -F, --pid-file FILE      write the daemon's pid to FILE and keep it locked
  -T, --trace-file FILE    trace every request and reply to FILE
  -D, --no-domain-init     do not introduce dom0 at start (sockets only)
  -K, --keep-orphans       keep a dead domain's nodes (owner becomes dom0)
  -V, --verbose            log debug messages
  -U, --live-update        restore the state of a live update (set by the
                           live update itself, not by hand)
      --live-update-stream V  the migration stream version a live update
                           writes unless its -s says -v (default 2; 1 for
                           Xen 4.17's xenstored)
  -P, --output-pid         print the daemon's pid on stdout once it runs
      --socket PATH        listen on PATH (default $XENSTORED_PATH, else
                           $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket)
      --master-domid ID    the domain the daemon runs in (default 0)
      --priv-domid ID      the privileged (control) domain (default 0)
      --event-loop KIND    auto, io_uring or epoll (default auto)
      --xsd-kva PATH       dom0's ring page (default /proc/xen/xsd_kva)
      --xsd-port PATH      dom0's event channel (default /proc/xen/xsd_port)
      --socket-queue BYTES stop reading a socket client whose unread replies
                           exceed BYTES (default 4194304)
      --event-queue N      watch events that may wait for one connection;
                           later ones are dropped (default 65536)
      --write-rate N       while any transaction is open, a guest may change
                           nodes N times per second (default 200, 0 = no limit)
      --write-burst N      ... and N times at once (default 10)
Quotas (0 = unlimited; a quota of N allows exactly N):
  -E, --entry-nb N         nodes per domain (default 1000)
  -S, --entry-size N       size of a node in bytes (default 2048)
  -W, --watch-nb N         watches per domain (default 128)
  -t, --transaction N      open transactions per domain (default 10)
  -A, --perm-nb N          permission entries per node (default 5)
  -M, --path-max N         path length after /local/domain/<id>/ (default
                           and maximum 2048)
  -Q, --quota NAME=N       any quota by name: nodes, watches, outstanding,
                           memory, transactions, transaction-nodes,
                           node-permissions, path-max, node-size
  -q, --quota-soft NAME=N  soft quota (warning only): memory (default 2097152)
  -w, --timeout watch-event=S  drop a guest's unread watch event after S
                           seconds (default 20, 0 = never)
  -H, --help               print this help and exit
      --version            print the version and exit
Accepted for compatibility with older xenstored, no effect here:
  -I, --internal-db[=on|off]   -R, --no-recovery   --trace-control=+|-SWITCH
)";
}

}  // namespace xs::daemon
