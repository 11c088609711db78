#include "daemon/config/options.hpp"

#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <array>
#include <charconv>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include "daemon/config/option_table.hpp"
#include "xs_config.h"

namespace xs::daemon {
namespace {

// getopt's tables, from option_specs(). A leading ':' makes getopt report
// a missing argument as ':' and stay quiet.
struct GetoptTables {
    std::string shorts = ":";
    std::vector<option> longs;
    GetoptTables() {
        for (const OptionSpec& o : option_specs()) {
            int has = o.arg == OptionSpec::None ? no_argument
                      : o.arg == OptionSpec::Required ? required_argument : optional_argument;
            if (o.short_name) shorts += std::string(1, o.short_name) + (has == no_argument ? "" : has == required_argument ? ":" : "::");
            longs.push_back(option{o.long_name, has, nullptr, o.code});
        }
        longs.push_back(option{nullptr, 0, nullptr, 0});
    }
};

const GetoptTables& getopt_tables() {
    static const GetoptTables t;
    return t;
}

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

    // A size where 0 switches the limit off.
    void set_size_or_off(std::size_t& field, std::string_view option, const char* text) {
        auto v = parse_decimal(text, INT_MAX);
        if (!v) {
            error = invalid_value(option, text) + " (a number, 0 for none)";
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
    case kConfig: set_file(cfg.config_file, "--config", arg); break;
    case kVersion: early = ParseOutcome{std::nullopt, version_text(), 0}; break;
    case kSocketQueue: set_count(cfg.socket_queue_bytes, "--socket-queue", arg); break;
    case kEventQueue: set_count(cfg.event_queue, "--event-queue", arg); break;
    case kEventQueueBytes: set_count(cfg.event_queue_bytes, "--event-queue-bytes", arg); break;
    case kWriteRate: set_rate(cfg.write_rate, "--write-rate", arg); break;
    case kWriteBurst: set_count(cfg.write_burst, "--write-burst", arg); break;
    case kTransactionPin: set_size_or_off(cfg.transaction_pin, "--transaction-pin", arg); break;
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
void finish(Config& cfg, const std::function<const char*(const char*)>& getenv_fn, const std::string& cwd) {
    auto env = [&](const char* name) -> std::string {
        const char* v = getenv_fn ? getenv_fn(name) : nullptr;
        return v ? std::string(v) : std::string();
    };
    cfg.start_dir = cwd;
    cfg.rundir = env("XENSTORED_RUNDIR");
    if (cfg.rundir.empty()) cfg.rundir = kDefaultRundir;
    if (cfg.socket_path.empty()) cfg.socket_path = env("XENSTORED_PATH");
    if (cfg.socket_path.empty()) cfg.socket_path = cfg.rundir + "/socket";
    for (std::string* f : {&cfg.rundir, &cfg.socket_path, &cfg.pid_file, &cfg.trace_file, &cfg.config_file, &cfg.dom0_kva, &cfg.dom0_port}) {
        *f = absolute(*f, cwd);
    }
}

}  // namespace

namespace {

// Runs getopt over argv into `p`; stops at the first error or --help/--version.
std::optional<ParseOutcome> run_getopt(Parser& p, int argc, char* const argv[]) {
    const GetoptTables& t = getopt_tables();
    optind = 0;  // glibc: full re-initialisation, so parse_options can run more than once
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, t.shorts.c_str(), t.longs.data(), nullptr)) != -1) {
        if (opt == '?') return failure("unknown option " + offending_option(argc, argv));
        if (opt == ':') return failure("option " + offending_option(argc, argv) + " needs a value");
        p.handle(opt, optarg);
        if (p.early) return *p.early;
        if (p.error) return failure(*p.error);
    }
    if (optind < argc) return failure("unexpected argument \"" + std::string(argv[optind]) + "\" (no arguments desired)");
    return std::nullopt;
}

std::optional<ParseOutcome> run_getopt(Parser& p, std::vector<std::string> words) {
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    return run_getopt(p, static_cast<int>(words.size()), argv.data());
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace

Expected<std::vector<std::string>, std::string> config_words(std::string_view text) {
    std::vector<std::string> words{"xstored"};
    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos < text.size(); ++line_no) {
        std::size_t nl = std::min(text.find('\n', pos), text.size());
        std::string_view line = trim(text.substr(pos, nl - pos));
        pos = nl + 1;
        if (line.empty() || line.front() == '#') continue;
        std::size_t end = line.find_first_of(" \t=");
        std::string name(line.substr(0, end));
        std::string_view value = end == std::string_view::npos ? std::string_view() : trim(line.substr(end));
        if (value.starts_with('=')) value = trim(value.substr(1));
        const OptionSpec* spec = nullptr;
        for (const OptionSpec& o : option_specs())
            if (name == o.long_name) spec = &o;
        std::string where = "line " + std::to_string(line_no + 1) + ": ";
        if (!spec) return unexpected(where + "unknown setting \"" + name + "\"");
        if (!spec->runtime) return unexpected(where + "\"" + name + "\" can only be given on the command line");
        if ((spec->arg == OptionSpec::Required) == value.empty())
            return unexpected(where + "\"" + name + "\" " + (value.empty() ? "needs a value" : "takes no value"));
        words.push_back("--" + name);
        if (!value.empty()) words.emplace_back(value);
    }
    return words;
}

Expected<std::vector<std::string>, std::string> read_config_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return unexpected("cannot read " + path + ": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    auto words = config_words(text.str());
    if (!words) return unexpected(path + ": " + words.error());
    return words;
}

// The command line is read twice when it names a --config file: once to
// find the file, then over the file's settings, which it overrides.
ParseOutcome parse_options(int argc, char* const argv[], const std::function<const char*(const char*)>& getenv_fn,
                           const std::optional<std::string>& start_dir) {
    const std::string cwd = start_dir.value_or(current_dir());
    Parser p;
    if (auto early = run_getopt(p, argc, argv)) return *early;
    if (!p.cfg.config_file.empty()) {
        std::string file = absolute(p.cfg.config_file, cwd);
        auto words = read_config_file(file);
        if (!words) return failure(words.error());
        p = Parser{};
        if (auto early = run_getopt(p, std::move(*words))) return *early;
        if (auto early = run_getopt(p, argc, argv)) return *early;
    }
    for (int i = 0; i < argc; ++i) p.cfg.argv.emplace_back(argv[i]);
    finish(p.cfg, getenv_fn, cwd);
    return {std::move(p.cfg), std::string(), 0};
}

std::string version_text() { return std::string("xstored ") + XSTORED_VERSION + "\n"; }

namespace {

// "  -N, --no-fork            text", the text wrapped at 79 columns.
void append_option_help(std::string& out, const OptionSpec& o) {
    constexpr std::size_t kColumn = 27, kWidth = 79;
    std::string line = "  " + option_synopsis(o);
    if (line.size() + 1 > kColumn) {  // a long synopsis gets a line of its own
        out += line + "\n";
        line.clear();
    }
    line.resize(kColumn, ' ');
    std::string_view words = o.help;
    while (!words.empty()) {
        std::size_t sp = words.find(' ');
        std::string_view w = words.substr(0, sp);
        if (line.size() + w.size() > kWidth && line.size() > kColumn) {
            line.pop_back();
            out += line + "\n";
            line.assign(kColumn, ' ');
        }
        line += w;
        line += ' ';
        words = sp == std::string_view::npos ? std::string_view() : words.substr(sp + 1);
    }
    line.pop_back();
    out += line + "\n";
}

}  // namespace

std::string usage_text() {
    std::string out =
        "Usage: xstored [OPTION]...\n"
        "A xenstore daemon for Xen, compatible with xenstored's protocol and options.\n\n";
    const std::pair<OptionGroup, const char*> groups[] = {
        {OptionGroup::Daemon, ""},
        {OptionGroup::Quota, "Quotas (0 = unlimited; a quota of N allows exactly N):\n"},
        {OptionGroup::Compat, "Accepted for compatibility with older xenstored, no effect here:\n"},
        {OptionGroup::Info, "\n"},
    };
    for (auto [group, heading] : groups) {
        out += heading;
        for (const OptionSpec& o : option_specs())
            if (o.group == group) append_option_help(out, o);
    }
    out += "\nSee xstored(8) for signals, files and the environment.\n";
    return out;
}

}  // namespace xs::daemon
