// systemd's notification protocol, as a service manager sees it: the daemon
// runs with NOTIFY_SOCKET naming a datagram socket this test reads. READY=1
// once (with MAINPID), STATUS lines, MAINPID and STATUS but no second
// READY=1 after a live update, STOPPING=1 on SIGTERM; READY=1 only once
// dom0's ring is served; and the forking start Xen's launch-xenstore and
// Debian's init script use (the detached daemon reports its own MAINPID).
#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/daemon.hpp"
#include "tests/support/env.hpp"
#include "tests/support/guest_harness.hpp"
#include "tests/support/live_update.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace xs::testing;
using Clock = std::chrono::steady_clock;

namespace {

// The service manager's end: a datagram socket bound at a path.
class NotifySocket {
public:
    explicit NotifySocket(std::string path) : path_(std::move(path)) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("cannot bind " + path_ + ": " + std::strerror(errno));
    }
    ~NotifySocket() { ::close(fd_); }
    const std::string& path() const { return path_; }

    // The next datagram, or nullopt after `wait`.
    std::optional<std::string> next(std::chrono::milliseconds wait) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(scaled(wait).count())) != 1) return std::nullopt;
        char buf[4096];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0) return std::nullopt;
        all_.emplace_back(buf, static_cast<std::size_t>(n));
        return all_.back();
    }
    // Datagrams until one contains `needle` (that one included).
    std::vector<std::string> until(const std::string& needle, std::chrono::milliseconds wait) {
        std::vector<std::string> got;
        auto end = Clock::now() + scaled(wait);
        while (Clock::now() < end) {
            auto m = next(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()));
            if (!m) break;
            got.push_back(*m);
            if (m->find(needle) != std::string::npos) return got;
        }
        FAIL_CHECK("no notification with \"" << needle << "\" within the wait; got " << got.size());
        return got;
    }
    std::size_t count(const std::string& needle) const {
        std::size_t n = 0;
        for (const std::string& m : all_) n += m.find(needle) != std::string::npos;
        return n;
    }

private:
    std::string path_;
    int fd_ = -1;
    std::vector<std::string> all_;
};

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// The pid a daemon wrote to its pid file (0 when there is none yet).
pid_t pid_in(const std::string& file) {
    std::ifstream in(file);
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
}

// A daemon that detached itself is not this test's child: whatever happens
// to the test, it is killed at the end.
struct KillAtEnd {
    std::string pid_file;
    ~KillAtEnd() {
        if (pid_t pid = pid_in(pid_file); pid > 0) ::kill(pid, SIGKILL);
    }
};

}  // namespace

TEST_CASE("READY=1 once, STATUS while serving, MAINPID after a live update, STOPPING=1 at the end") {
    TempDir dir("xstored-notify");
    NotifySocket manager(dir.file("notify"));
    DaemonOptions opts;
    opts.env = {{"NOTIFY_SOCKET", manager.path()}};
    Daemon d(opts);
    std::string pid = std::to_string(d.pid());

    auto ready = manager.next(std::chrono::seconds(5));
    REQUIRE(ready);
    CHECK(has(*ready, "READY=1\n"));
    CHECK(has(*ready, "MAINPID=" + pid + "\n"));
    CHECK(has(*ready, "STATUS=serving "));

    auto c = d.connect();
    REQUIRE(c->write("/notify/x", "1"));
    auto status = manager.until("STATUS=serving 1 connections", std::chrono::seconds(5));

    REQUIRE(live_update(*c, UpdateRequest{xstored_bin(), std::nullopt, {"-t", "60"}}) == "OK");
    std::vector<std::string> lu = manager.until("MAINPID=", std::chrono::seconds(20));
    REQUIRE(!lu.empty());
    CHECK(manager.count("STATUS=live-updating") == 1);
    CHECK(has(lu.back(), "MAINPID=" + pid + "\n"));  // the same process, said again
    CHECK(has(lu.back(), "live-updated in "));
    CHECK(manager.count("READY=1") == 1);
    CHECK(c->read("/notify/x").value_or("") == "1");  // still the same store

    CHECK(d.stop(SIGTERM).empty());
    manager.until("STOPPING=1", std::chrono::seconds(5));
    CHECK(manager.count("READY=1") == 1);
}

TEST_CASE("without NOTIFY_SOCKET nothing is sent and the daemon serves") {
    Daemon d;
    auto c = d.connect();
    CHECK(c->write("/plain", "1"));
    CHECK(d.stop(SIGTERM).empty());
}

TEST_CASE("on a Xen host READY=1 waits for dom0's own ring: the first STATUS counts its connection and domain") {
    TempDir dir("xstored-notify");
    NotifySocket manager(dir.file("notify"));
    DaemonOptions opts;
    opts.env = {{"NOTIFY_SOCKET", manager.path()}};
    GuestHarness h(std::move(opts));
    auto ready = manager.next(std::chrono::seconds(5));
    REQUIRE(ready);
    CHECK(has(*ready, "READY=1\n"));
    // Sent before the loop's first turn: the only connection is dom0's ring.
    CHECK(has(*ready, "STATUS=serving 1 connections, 1 domains;"));
}

TEST_CASE("forking, as launch-xenstore and Debian's init script start it: the detached daemon says READY=1 and its MAINPID") {
    TempDir dir("xstored-notify");
    NotifySocket manager(dir.file("notify"));
    std::string socket = dir.file("socket"), pid_file = dir.file("xenstored.pid");
    KillAtEnd guard{pid_file};
    SpawnOptions spawn;
    spawn.argv = {xstored_bin(), "--pid-file", pid_file, "--socket", socket};
    spawn.env = {{"NOTIFY_SOCKET", manager.path()}, {"XENSTORED_RUNDIR", dir.path()}};
    spawn.out = Redirect::null();
    spawn.err = Redirect::null();
    Process launcher = Process::spawn(spawn);
    REQUIRE(launcher.wait_exit(scaled(std::chrono::seconds(10))));
    CHECK(launcher.exit_code() == 0);  // the command returns once the daemon has detached

    auto ready = manager.next(std::chrono::seconds(10));
    REQUIRE(ready);
    CHECK(has(*ready, "READY=1\n"));
    std::string err;
    CHECK_MESSAGE(xs::client::connect_unix(socket, err), err);  // once, no retry: READY=1 means it accepts
    pid_t pid = pid_in(pid_file);
    REQUIRE(pid > 0);
    CHECK(pid != launcher.pid());
    CHECK(has(*ready, "MAINPID=" + std::to_string(pid) + "\n"));

    REQUIRE(::kill(pid, SIGTERM) == 0);
    manager.until("STOPPING=1", std::chrono::seconds(10));
    CHECK(eventually([&] { return !std::filesystem::exists(pid_file); }, std::chrono::seconds(10)));
}
