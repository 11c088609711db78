#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "daemon/config/options.hpp"

using namespace xs::daemon;
using xs::quota::Item;

namespace {

using Env = std::map<std::string, std::string>;

ParseOutcome parse(std::vector<std::string> args, const Env& env = {}) {
    args.insert(args.begin(), "xstored");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    auto getenv_fn = [&env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    };
    return parse_options(static_cast<int>(args.size()), argv.data(), getenv_fn);
}

Config ok(std::vector<std::string> args, const Env& env = {}) {
    ParseOutcome o = parse(std::move(args), env);
    INFO(o.message);
    REQUIRE(o.config);
    CHECK(o.exit_code == 0);
    CHECK(o.message.empty());
    return *o.config;
}

// The error message of a failing parse (exit code 2, no config).
std::string err(std::vector<std::string> args) {
    ParseOutcome o = parse(std::move(args));
    CHECK(!o.config);
    CHECK(o.exit_code == 2);
    return o.message;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string cwd() {
    char buf[4096];
    REQUIRE(getcwd(buf, sizeof buf) != nullptr);
    return buf;
}

}  // namespace

TEST_CASE("defaults") {
    Config c = ok({});
    CHECK(!c.no_fork);
    CHECK(c.pid_file.empty());
    CHECK(c.trace_file.empty());
    CHECK(c.limits == xs::quota::Limits::defaults());
    CHECK(c.watch_event_timeout_s == 20);
    CHECK(!c.keep_orphans);
    CHECK(!c.verbose);
    CHECK(!c.live_update);
    CHECK(!c.output_pid);
    CHECK(c.rundir == "/var/run/xenstored");
    CHECK(c.socket_path == "/var/run/xenstored/socket");
    CHECK(!c.master_domid);
    CHECK(!c.priv_domid);
    CHECK(c.loop == Config::LoopKind::Auto);
    CHECK(c.dom0_kva == "/proc/xen/xsd_kva");
    CHECK(c.dom0_port == "/proc/xen/xsd_port");
    CHECK(!c.no_domain_init);
    CHECK(c.argv == std::vector<std::string>{"xstored"});
}

TEST_CASE("--live-update-stream takes 1 or 2") {
    CHECK(ok({}).live_update_stream == 2);
    CHECK(ok({"--live-update-stream", "1"}).live_update_stream == 1);
    CHECK(ok({"--live-update-stream=2"}).live_update_stream == 2);
    for (const char* bad : {"0", "3", "x", ""}) CHECK(!parse({"--live-update-stream", bad}).config);
}

TEST_CASE("every short option") {
    Config c = ok({"-N", "-F", "/run/x.pid", "-T", "/log/trace", "-E", "11", "-S", "12", "-W", "13", "-t", "14",
                   "-A", "15", "-M", "16", "-Q", "outstanding=17", "-q", "memory=18", "-w", "watch-event=19", "-K",
                   "-V", "-U", "-D", "-P", "-R", "-I"});
    CHECK(c.no_fork);
    CHECK(c.pid_file == "/run/x.pid");
    CHECK(c.trace_file == "/log/trace");
    CHECK(c.limits[Item::Nodes] == 11);
    CHECK(c.limits[Item::NodeSize] == 12);
    CHECK(c.limits[Item::Watches] == 13);
    CHECK(c.limits[Item::Transactions] == 14);
    CHECK(c.limits[Item::NodePermissions] == 15);
    CHECK(c.limits[Item::PathMax] == 16);
    CHECK(c.limits[Item::Outstanding] == 17);
    CHECK(c.limits.soft_memory == 18);
    CHECK(c.limits[Item::Memory] == 2621440);
    CHECK(c.watch_event_timeout_s == 19);
    CHECK(c.keep_orphans);
    CHECK(c.verbose);
    CHECK(c.live_update);
    CHECK(c.no_domain_init);
    CHECK(c.output_pid);
    // Accepted for Xen 4.17's command lines (a live update from the C daemon
    // passes them on); each is logged as having no effect.
    REQUIRE(c.ignored.size() == 2);
    CHECK(c.ignored[0].starts_with("-R "));
    CHECK(c.ignored[1].starts_with("-I "));
    CHECK(c.argv.size() == 31);
    CHECK(c.argv[1] == "-N");
}

TEST_CASE("every long option, both --opt=value and --opt value") {
    Config c = ok({"--no-fork", "--pid-file=/p", "--trace-file", "/t", "--entry-nb=1", "--entry-size", "2",
                   "--watch-nb=3", "--transaction=4", "--perm-nb=5", "--path-max=6", "--quota", "memory=7",
                   "--quota-soft=memory=8", "--timeout", "watch-event=0", "--keep-orphans", "--verbose",
                   "--live-update", "--no-domain-init", "--master-domid=3", "--priv-domid", "7", "--socket=/s",
                   "--event-loop=epoll", "--xsd-kva=/k", "--xsd-port", "/port", "--output-pid", "--no-recovery",
                   "--internal-db=on", "--trace-control=+io", "--trace-control=-obj"});
    CHECK(c.no_fork);
    CHECK(c.pid_file == "/p");
    CHECK(c.trace_file == "/t");
    CHECK(c.limits[Item::Nodes] == 1);
    CHECK(c.limits[Item::NodeSize] == 2);
    CHECK(c.limits[Item::Watches] == 3);
    CHECK(c.limits[Item::Transactions] == 4);
    CHECK(c.limits[Item::NodePermissions] == 5);
    CHECK(c.limits[Item::PathMax] == 6);
    CHECK(c.limits[Item::Memory] == 7);
    CHECK(c.limits.soft_memory == 8);
    CHECK(c.watch_event_timeout_s == 0);
    CHECK(c.keep_orphans);
    CHECK(c.verbose);
    CHECK(c.live_update);
    CHECK(c.no_domain_init);
    CHECK(c.master_domid == xs::DomId{3});
    CHECK(c.priv_domid == xs::DomId{7});
    CHECK(c.socket_path == "/s");
    CHECK(c.loop == Config::LoopKind::Epoll);
    CHECK(c.dom0_kva == "/k");
    CHECK(c.dom0_port == "/port");
    CHECK(c.output_pid);
    CHECK(ok({"--event-loop", "io_uring"}).loop == Config::LoopKind::IoUring);
    CHECK(ok({"--event-loop=auto"}).loop == Config::LoopKind::Auto);
}

TEST_CASE("-Q takes every hard quota name and the permissions alias") {
    for (Item item : xs::quota::kItems) {
        std::string name(xs::quota::name(item));
        CAPTURE(name);
        Config c = ok({"-Q", name + "=42"});
        CHECK(c.limits[item] == 42);
    }
    CHECK(ok({"-Q", "permissions=9"}).limits[Item::NodePermissions] == 9);
    CHECK(ok({"-Q", "nodes=0"}).limits[Item::Nodes] == 0);  // 0 = unlimited
    Config two = ok({"-Q", "nodes=1", "-Q", "nodes=2"});     // the last one wins
    CHECK(two.limits[Item::Nodes] == 2);
}

TEST_CASE("-M is capped at 2048, -Q path-max is not") {
    CHECK(ok({"-M", "5000"}).limits[Item::PathMax] == 2048);
    CHECK(ok({"-M", "100"}).limits[Item::PathMax] == 100);
    CHECK(ok({"-Q", "path-max=5000"}).limits[Item::PathMax] == 5000);
}

TEST_CASE("quota errors name the quota") {
    CHECK(contains(err({"-Q", "path-length=5"}), "unknown quota \"path-length\""));
    CHECK(contains(err({"-Q", "soft-memory=5"}), "unknown quota \"soft-memory\""));
    CHECK(contains(err({"-q", "nodes=5"}), "unknown soft quota \"nodes\""));
    CHECK(contains(err({"-Q", "nodes"}), "<name>=<value>"));
    CHECK(contains(err({"-q", "memory"}), "<name>=<value>"));
    CHECK(contains(err({"-Q", "nodes="}), "invalid value \"\""));
    CHECK(contains(err({"-Q", "nodes=x"}), "invalid value \"x\""));
    CHECK(contains(err({"-w", "watch-event"}), "<name>=<seconds>"));
    CHECK(contains(err({"-w", "foo=3"}), "unknown timeout \"foo\""));
    CHECK(contains(err({"-w", "watch-event=-1"}), "invalid value \"-1\""));
}

TEST_CASE("numbers must be decimal, non-empty and in range") {
    for (const char* bad : {"", "-1", "+5", "0x10", "12a", " 7", "2147483648", "99999999999999999999"}) {
        CAPTURE(bad);
        std::string m = err({"-E", bad});
        CHECK(contains(m, "invalid value"));
        CHECK(contains(m, "-E"));
    }
    CHECK(ok({"-E", "2147483647"}).limits[Item::Nodes] == 2147483647u);
    CHECK(ok({"-E", "007"}).limits[Item::Nodes] == 7);
    CHECK(contains(err({"--master-domid=32752"}), "invalid value \"32752\""));  // DOMID_SELF and above are reserved
    CHECK(ok({"--master-domid=32751"}).master_domid == xs::DomId{32751});
    CHECK(contains(err({"--priv-domid", "-3"}), "invalid value"));
}

TEST_CASE("other errors") {
    CHECK(contains(err({"stray"}), "unexpected argument \"stray\""));
    CHECK(contains(err({"-N", "stray", "-V"}), "unexpected argument \"stray\""));
    CHECK(contains(err({"-Z"}), "unknown option -Z"));
    CHECK(contains(err({"--bogus"}), "unknown option --bogus"));
    CHECK(!err({"--event", "5"}).empty());  // Mini-OS only upstream (here a prefix of --event-loop)
    CHECK(contains(err({"-F"}), "option -F needs a value"));
    CHECK(contains(err({"--pid-file"}), "needs a value"));
    CHECK(contains(err({"-F", ""}), "empty file name for -F"));
    CHECK(contains(err({"--event-loop=select"}), "--event-loop"));
    CHECK(contains(err({"--trace-control=io"}), "illegal trace switch"));
    CHECK(contains(err({"--trace-control=+foo"}), "illegal trace switch"));
    CHECK(contains(err({"-Z"}), "--help"));  // points at the help
    // The parser may run again after an error (getopt state is reset).
    CHECK(ok({"-N"}).no_fork);
}

TEST_CASE("--help and --version") {
    for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"-H"}, {"-N", "-H", "stray"}}) {
        ParseOutcome o = parse(args);
        CHECK(!o.config);
        CHECK(o.exit_code == 0);
        CHECK(o.message == usage_text());
    }
    std::string u = usage_text();
    for (const char* opt : {"--no-fork", "--pid-file", "--trace-file", "--entry-nb", "--entry-size", "--watch-nb",
                            "--transaction", "--perm-nb", "--path-max", "--quota", "--quota-soft", "--timeout",
                            "--keep-orphans", "--verbose", "--live-update", "--socket", "--master-domid",
                            "--priv-domid", "--event-loop", "--xsd-kva", "--xsd-port", "--no-domain-init", "--help",
                            "--version", "--output-pid"}) {
        CAPTURE(opt);
        CHECK(contains(u, opt));
    }
    ParseOutcome v = parse({"--version"});
    CHECK(!v.config);
    CHECK(v.exit_code == 0);
    CHECK(v.message.rfind("xstored ", 0) == 0);
    CHECK(v.message == version_text());
}

TEST_CASE("socket path: --socket, then XENSTORED_PATH, then XENSTORED_RUNDIR/socket") {
    Env both{{"XENSTORED_PATH", "/env/path"}, {"XENSTORED_RUNDIR", "/env/run"}};
    CHECK(ok({"--socket", "/opt/s"}, both).socket_path == "/opt/s");
    CHECK(ok({}, both).socket_path == "/env/path");
    CHECK(ok({}, both).rundir == "/env/run");
    CHECK(ok({}, {{"XENSTORED_RUNDIR", "/env/run"}}).socket_path == "/env/run/socket");
    // An empty variable counts as unset.
    CHECK(ok({}, {{"XENSTORED_RUNDIR", ""}, {"XENSTORED_PATH", ""}}).socket_path == "/var/run/xenstored/socket");
}

TEST_CASE("relative file names become absolute against the starting directory") {
    const std::string here = cwd();
    const std::string base = here == "/" ? "" : here;
    Config c = ok({"-T", "trace.log", "-F", "run/x.pid", "--socket", "sock", "--xsd-kva", "kva", "--xsd-port",
                   "port"},
                  {{"XENSTORED_RUNDIR", "rd"}});
    CHECK(c.trace_file == base + "/trace.log");
    CHECK(c.pid_file == base + "/run/x.pid");
    CHECK(c.socket_path == base + "/sock");
    CHECK(c.dom0_kva == base + "/kva");
    CHECK(c.dom0_port == base + "/port");
    CHECK(c.rundir == base + "/rd");
    CHECK(ok({}, {{"XENSTORED_RUNDIR", "rd"}}).socket_path == base + "/rd/socket");
}

TEST_CASE("config file text: settings as words, errors name the line") {
    auto words = config_words("# comment\n\nverbose\nquota = nodes=2000\n  write-rate 50  \r\n");
    REQUIRE(words);
    CHECK(*words == std::vector<std::string>{"xstored", "--verbose", "--quota", "nodes=2000", "--write-rate", "50"});
    CHECK(contains(config_words("verbose\nbogus = 1\n").error(), "line 2: unknown setting \"bogus\""));
    CHECK(contains(config_words("socket = /x\n").error(), "can only be given on the command line"));
    CHECK(contains(config_words("quota\n").error(), "needs a value"));
    CHECK(contains(config_words("verbose = yes\n").error(), "takes no value"));
}

TEST_CASE("--config: the file's settings, the command line over them") {
    char tmpl[] = "/tmp/xstored-config-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    std::string text = "verbose\nquota = nodes=2000\nwrite-rate = 50\n";
    REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    close(fd);
    Config c = ok({"--config", tmpl, "-E", "7"});
    CHECK(c.config_file == tmpl);
    CHECK(c.verbose);
    CHECK(c.write_rate == 50);
    CHECK(c.limits[Item::Nodes] == 7);  // the command line wins
    CHECK(c.argv == std::vector<std::string>{"xstored", "--config", tmpl, "-E", "7"});
    std::string bad = "nodes = 5\n";
    fd = open(tmpl, O_WRONLY | O_TRUNC);
    REQUIRE(write(fd, bad.data(), bad.size()) == static_cast<ssize_t>(bad.size()));
    close(fd);
    CHECK(contains(err({"--config", tmpl}), "line 1: unknown setting \"nodes\""));
    unlink(tmpl);
    CHECK(contains(err({"--config", "/nonexistent/xstored.conf"}), "cannot read /nonexistent/xstored.conf"));
}

TEST_CASE("a given start directory stands for the current one (SIGHUP after the daemon moved to /)") {
    std::vector<std::string> args{"xstored", "-F", "run/pid", "--config", "none.conf"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ParseOutcome o = parse_options(static_cast<int>(args.size()), argv.data(), nullptr, std::string("/nonexistent-base"));
    CHECK(contains(o.message, "cannot read /nonexistent-base/none.conf"));
    argv.erase(argv.begin() + 3, argv.begin() + 5);
    o = parse_options(3, argv.data(), nullptr, std::string("/base"));
    REQUIRE(o.config);
    CHECK(o.config->pid_file == "/base/run/pid");
    CHECK(o.config->start_dir == "/base");
    CHECK(ok({}).start_dir == cwd());
}

TEST_CASE("the bounds for clients that do not read and for open transactions") {
    Config d = ok({});
    CHECK(d.socket_queue_bytes == 4194304u);
    CHECK(d.event_queue == 65536u);
    CHECK(d.event_queue_bytes == 16777216u);
    CHECK(d.transaction_pin == 2621440u);
    Config c = ok({"--event-queue-bytes", "4096", "--transaction-pin=100"});
    CHECK(c.event_queue_bytes == 4096u);
    CHECK(c.transaction_pin == 100u);
    CHECK(ok({"--transaction-pin", "0"}).transaction_pin == 0u);  // off
    CHECK(contains(err({"--event-queue-bytes", "0"}), "invalid value \"0\" for --event-queue-bytes"));
    CHECK(contains(err({"--transaction-pin", "-1"}), "--transaction-pin"));
    CHECK(contains(err({"--transaction-pin", "2147483648"}), "--transaction-pin"));
}
