// CONTROL stats and stats -j against a running daemon, the figures that
// outlive a live update, and SIGHUP re-reading the --config file (relative
// names too, after the daemon detached and after a live update).
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/daemon.hpp"
#include "tests/support/env.hpp"
#include "tests/support/live_update.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"
#include "tools/top/json.hpp"

using namespace xs::testing;
using xs::top::Json;

namespace {

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

Json stats_json(xs::client::Client& c) {
    auto r = c.control({"stats", "-j"});
    REQUIRE(r);
    auto j = xs::top::parse_json(*r);
    REQUIRE_MESSAGE(j, *r);
    return *j;
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::trunc);
    f << text;
}

// CONTROL quota's line for nodes, once it says `want` (SIGHUP is handled
// between requests, some time after kill() returns).
bool nodes_quota_becomes(xs::client::Client& c, const std::string& want) {
    auto end = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(5));
    while (std::chrono::steady_clock::now() < end) {
        auto q = c.control({"quota"});
        if (q && has(*q, "nodes            : " + want + " ")) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

}  // namespace

TEST_CASE("stats: the text figures follow what clients do") {
    Daemon d;
    auto c = d.connect();
    auto other = d.connect();
    REQUIRE(c->write("/stats/a", "1"));
    REQUIRE(c->watch("/stats", "tok"));
    auto tx = c->transaction_start();
    REQUIRE(tx);
    auto text = c->control({"stats"});
    REQUIRE(text);
    CHECK(text->rfind("xstored ", 0) == 0);
    CHECK(has(*text, "pid " + std::to_string(d.pid()) + ","));
    CHECK(has(*text, "\nconnections: 2 (2 sockets, 0 rings)\n"));
    CHECK(has(*text, "\nwatches: 1\n"));
    CHECK(has(*text, "\ntransactions: 1 open\n"));
    CHECK(has(*text, "\nquota refusals: 0\n"));
    CHECK(has(*text, "\ndomain     nodes     memory  watches  trans outstanding\n"));
    CHECK(c->control({"stats", "-x"}).error().code == EINVAL);
    CHECK(c->control({"stats", "-j", "more"}).error().code == EINVAL);
    auto help = c->control({"help"});
    CHECK(has(help.value_or(""), "\nstats           [-j]\n"));
}

TEST_CASE("stats -j: the documented schema, counting as the daemon works") {
    Daemon d;
    auto c = d.connect();
    Json before = stats_json(*c);
    CHECK(before.num("schema") == 1);
    CHECK(before.num("pid") == d.pid());
    CHECK(before.num("connections.sockets") == 1);
    CHECK(before.num("connections.rings") == 0);
    CHECK(before.num("domains") == 1);  // the privileged domain
    CHECK(before.num("memory.resident") > 0);
    REQUIRE(before.at("per_domain"));
    REQUIRE(before.at("per_domain")->items.size() == 1);
    CHECK(before.at("per_domain")->items[0].num("domid", -1) == 0);
    for (int i = 0; i < 10; ++i) REQUIRE(c->write("/stats/n" + std::to_string(i), "v"));
    REQUIRE(c->watch("/stats", "t"));
    Json after = stats_json(*c);
    CHECK(after.num("nodes") == before.num("nodes") + 11);  // /stats and its ten children
    CHECK(after.num("watches") == 1);
    CHECK(after.num("requests.total") >= before.num("requests.total") + 12);
    CHECK(after.num("requests.per_s_last_minute") > 0);
    CHECK(after.num("per_domain_omitted", -1) == 0);
}

TEST_CASE("stats after a live update: same process, figures since start kept, one more update") {
    Daemon d;
    auto c = d.connect();
    for (int i = 0; i < 20; ++i) REQUIRE(c->write("/lu/n" + std::to_string(i), "v"));
    Json before = stats_json(*c);
    CHECK(before.num("live_updates") == 0);
    REQUIRE(live_update(*c, UpdateRequest{xstored_bin(), std::nullopt, {"-t", "60"}}) == "OK");
    Json after = stats_json(*c);
    CHECK(after.num("pid") == before.num("pid"));
    CHECK(after.num("live_updates") == 1);
    CHECK(after.num("requests.total") == before.num("requests.total") + 3);  // -f, -s, stats: carried, not restarted
    CHECK(after.num("uptime_s") >= before.num("uptime_s"));  // counted from the first start
    CHECK(after.num("nodes") == before.num("nodes"));
    CHECK(updates_logged(d) == 1);
}

TEST_CASE("SIGHUP reads the --config file again; a bad file changes nothing") {
    TempDir dir("xstored-config");
    std::string conf = dir.file("xstored.conf");
    write_file(conf, "# start\nquota = nodes=50\n");
    Daemon d(DaemonOptions::with_args({"--config", conf}));
    auto c = d.connect();
    CHECK(nodes_quota_becomes(*c, "      50"));
    write_file(conf, "quota = nodes=60\nwrite-rate = 7\nverbose\ntransaction-pin = 4096\nevent-queue-bytes = 65536\n");
    d.signal(SIGHUP);
    CHECK(nodes_quota_becomes(*c, "      60"));
    std::string log = d.stderr_text();
    CHECK(has(log, "SIGHUP: settings read from " + conf + ": "));
    CHECK(has(log, "quota nodes 50 -> 60"));
    CHECK(has(log, "write-rate 200 -> 7"));
    CHECK(has(log, "verbose 0 -> 1"));
    CHECK(has(log, "transaction-pin 2621440 -> 4096"));
    CHECK(has(log, "event-queue-bytes 16777216 -> 65536"));
    write_file(conf, "socket = /elsewhere\n");
    d.signal(SIGHUP);
    auto end = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(5));
    while (!has(d.stderr_text(), "can only be given on the command line") && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(has(d.stderr_text(), "; settings unchanged"));
    CHECK(nodes_quota_becomes(*c, "      60"));
    CHECK(d.stop(SIGTERM).empty());
}

TEST_CASE("SIGHUP without --config reopens the trace file only, and the daemon goes on") {
    Daemon d(DaemonOptions::with_args({"-T", "{dir}/trace.log"}));
    auto c = d.connect();
    REQUIRE(c->write("/hup/a", "1"));
    std::string rotated = d.dir().file("trace.log.1");
    REQUIRE(std::rename(d.dir().file("trace.log").c_str(), rotated.c_str()) == 0);
    d.signal(SIGHUP);
    auto end = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(5));
    while (!has(d.stderr_text(), "SIGHUP: trace file reopened") && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(c->write("/hup/after-rotation", "1"));
    std::ifstream fresh(d.dir().file("trace.log"));
    std::string all((std::istreambuf_iterator<char>(fresh)), std::istreambuf_iterator<char>());
    CHECK(has(all, "/hup/after-rotation"));
    CHECK(d.stop(SIGTERM).empty());
}

TEST_CASE("memreport: the totals and one line per domain; log: the C daemon's switch table") {
    Daemon d;
    auto c = d.connect();
    REQUIRE(c->write("/mem/a", std::string(100, 'x')));
    auto report = c->control({"memreport"});
    REQUIRE(report);
    CHECK(has(*report, "xstored memory report\n"));
    CHECK(has(*report, "\ndomain 0: "));
    CHECK(has(*report, " nodes ("));
    CHECK(has(*report, " watches, 0 transactions, "));
    auto log = c->control({"log"});
    REQUIRE(log);
    CHECK(log->rfind("Log switch settings:\nobj     : off\nio      : off\nwrl     : off\nacc     : off\ntdb     : off\n", 0) == 0);
}

TEST_CASE("a detached daemon started with relative names: a live update and SIGHUP read them from its starting directory") {
    TempDir dir("xstored-relative");
    write_file(dir.file("xstored.conf"), "quota = nodes=50\n");
    SpawnOptions spawn;
    spawn.argv = {xstored_bin(), "--pid-file", "xenstored.pid", "--socket", "socket", "--config", "xstored.conf"};
    spawn.env = {{"XENSTORED_RUNDIR", dir.path()}};
    spawn.cwd = dir.path();
    spawn.out = Redirect::null();
    spawn.err = Redirect::null();
    Process launcher = Process::spawn(spawn);
    REQUIRE(launcher.wait_exit(scaled(std::chrono::seconds(10))));
    REQUIRE(launcher.exit_code() == 0);
    pid_t pid = 0;
    struct KillAtEnd {  // detached: not this test's child
        pid_t& pid;
        ~KillAtEnd() {
            if (pid > 0) ::kill(pid, SIGKILL);
        }
    } guard{pid};
    std::unique_ptr<xs::client::Client> c;
    auto end = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(10));
    while (!c && std::chrono::steady_clock::now() < end) {
        std::string err;
        if (auto ch = xs::client::connect_unix(dir.file("socket"), err)) c = std::make_unique<xs::client::Client>(std::move(ch));
        else std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(c);
    c->timeout = scaled(std::chrono::seconds(10));
    std::ifstream(dir.file("xenstored.pid")) >> pid;
    REQUIRE(pid > 0);
    CHECK(nodes_quota_becomes(*c, "      50"));

    // The new program reads --config xstored.conf and --pid-file xenstored.pid
    // again: from "/", where the daemon now works, it would refuse them.
    REQUIRE(live_update(*c, UpdateRequest{xstored_bin(), std::nullopt, {"-t", "60"}}) == "OK");
    CHECK(stats_json(*c).num("live_updates") == 1);
    write_file(dir.file("xstored.conf"), "quota = nodes=60\n");
    REQUIRE(::kill(pid, SIGHUP) == 0);
    CHECK(nodes_quota_becomes(*c, "      60"));

    REQUIRE(::kill(pid, SIGTERM) == 0);
    auto gone = [&] { return !std::filesystem::exists(dir.file("xenstored.pid")); };
    end = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(10));
    while (!gone() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(gone());  // the pid file it removes at exit is the one in the starting directory
    CHECK(!std::filesystem::exists(dir.file("socket")));
    if (gone()) pid = 0;
}
