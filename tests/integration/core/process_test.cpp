// The daemon as a process (docs/operations.md): socket mode, pid file,
// trace file and its reopening on SIGHUP, clean exits on SIGTERM/SIGINT,
// SIGPIPE ignored.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

}  // namespace

TEST_CASE("the socket is created with mode 0600") {
    Harness h;
    struct stat st{};
    REQUIRE(::stat(h.daemon().socket_path().c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("-F writes the pid file, and a clean exit removes it") {
    Daemon d(DaemonOptions::with_args({"-F", "{dir}/xstored.pid"}));
    std::string pidfile = d.dir().file("xstored.pid");
    CHECK(slurp(pidfile) == std::to_string(d.pid()) + "\n");
    auto problems = d.stop();
    CHECK(problems.empty());
    for (const auto& p : problems) MESSAGE(p);
    CHECK(!std::filesystem::exists(pidfile));
}

TEST_CASE("SIGINT is a clean exit too") {
    Daemon d;
    auto c = d.connect();
    REQUIRE(xs::testing::outcome(c->write("/x", "y")) == "OK");
    auto problems = d.stop(SIGINT);
    CHECK(problems.empty());
    for (const auto& p : problems) MESSAGE(p);
}

TEST_CASE("SIGPIPE is ignored: the daemon serves on") {
    Daemon d;
    d.signal(SIGPIPE);
    auto c = d.connect();
    CHECK(xs::testing::outcome(c->write("/after-sigpipe", "1")) == "OK");
    CHECK(d.alive());
    auto problems = d.stop();
    CHECK(problems.empty());
    for (const auto& p : problems) MESSAGE(p);
}

TEST_CASE("-T traces requests; SIGHUP reopens the file under its name") {
    Harness h(DaemonOptions::with_args({"-T", "{dir}/trace.log"}));
    auto& c = h.client();
    std::string trace = h.daemon().dir().file("trace.log");
    REQUIRE(outcome(c.write("/traced/first", "1")) == "OK");
    REQUIRE(sync(c));
    std::string text = slurp(trace);
    CHECK(text.find("***") != std::string::npos);
    CHECK(text.find("WRITE") != std::string::npos);
    CHECK(text.find("/traced/first") != std::string::npos);

    std::string rotated = h.daemon().dir().file("trace.log.1");
    REQUIRE(::rename(trace.c_str(), rotated.c_str()) == 0);
    h.daemon().signal(SIGHUP);
    // The reopen happens between requests: keep asking until the new file appears.
    bool reopened = eventually([&] {
        c.write("/traced/second", "2");
        return std::filesystem::exists(trace);
    }, scaled(5000ms));
    REQUIRE(reopened);
    REQUIRE(outcome(c.write("/traced/third", "3")) == "OK");
    REQUIRE(sync(c));
    CHECK(slurp(trace).find("/traced/third") != std::string::npos);
    CHECK(slurp(rotated).find("/traced/third") == std::string::npos);
}

TEST_CASE("-T traces every watch event sent, the initial one included") {
    Harness h(DaemonOptions::with_args({"-T", "{dir}/trace.log"}));
    auto& c = h.client();
    REQUIRE(outcome(c.watch("/traced", "initial-tok")) == "OK");
    REQUIRE(outcome(c.write("/traced/node", "1")) == "OK");
    REQUIRE(sync(c));
    std::string text = slurp(h.daemon().dir().file("trace.log"));
    // One line per event: the initial one for /traced, then the write's.
    CHECK(text.find("WATCH_EVENT (/traced initial-tok )") != std::string::npos);
    CHECK(text.find("WATCH_EVENT (/traced/node initial-tok )") != std::string::npos);
}
