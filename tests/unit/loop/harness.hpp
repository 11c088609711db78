// Test harness for the event loop backends: a factory per backend (every
// behaviour test runs against both), a recording LoopClient with an echo
// mode, and socket helpers for the test's side of each connection.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "daemon/loop/loop.hpp"

namespace xs::daemon::testing {

using namespace std::chrono_literals;

// io_uring as the daemon gets it (deferred task running on this kernel),
// io_uring forced into each older kernel's task-running mode, and epoll.
struct UringBackend {
    static std::unique_ptr<EventLoop> make(const LoopOptions& opts = {});
};
struct UringCoopBackend {
    static std::unique_ptr<EventLoop> make(const LoopOptions& opts = {});
};
struct UringPlainBackend {
    static std::unique_ptr<EventLoop> make(const LoopOptions& opts = {});
};
struct EpollBackend {
    static std::unique_ptr<EventLoop> make(const LoopOptions& opts = {});
};

#define LOOP_BACKENDS                                                           \
    ::xs::daemon::testing::UringBackend, ::xs::daemon::testing::UringCoopBackend, \
        ::xs::daemon::testing::UringPlainBackend, ::xs::daemon::testing::EpollBackend

// Creates `var` from the test's backend; an io_uring the kernel refuses
// (old kernel, sysctl, seccomp) skips the test with a message.
#define MAKE_LOOP(var, ...)                       \
    auto var = TestType::make(__VA_ARGS__);       \
    if (!var) return;                             \
    const std::string backend = var->name();      \
    CAPTURE(backend)

// Records every callback, checks that none arrives for a connection after
// its hangup or after the test closed it, and optionally echoes input.
class Recorder : public LoopClient {
public:
    explicit Recorder(EventLoop& loop) : loop_(loop) {}

    // Hooks run after recording; the defaults accept with fresh ids and
    // close on hangup.
    std::function<ConnId(int listener, int fd)> accept_hook;
    std::function<void(ConnId, std::span<const char>)> receive_hook;
    std::function<void(ConnId)> hangup_hook;
    std::function<void(ConnId, std::size_t)> sent_hook;
    std::function<void(int token)> readable_hook;
    std::function<void()> turn_hook;
    bool echo = false;

    std::map<ConnId, std::string> received;
    std::map<ConnId, int> receive_calls;
    std::map<ConnId, std::vector<std::size_t>> sent;
    std::set<ConnId> hung_up;
    std::vector<std::pair<int, int>> accepted;  // (listener, fd)
    std::map<int, int> readable;                // token -> reports
    int turns = 0;

    // Closes through the loop and remembers that no callback may follow.
    void close(ConnId id);
    int release(ConnId id);
    // Runs turns until `done` holds after a turn; false if `limit` passed.
    bool run_until(const std::function<bool()>& done, std::chrono::seconds limit = 10s);
    // Runs `n` turns, each started at once by a deadline in the past.
    void run_turns(int n);
    // Runs turns for `d` of wall-clock time, each started by whatever comes.
    void run_for(std::chrono::milliseconds d);
    // Echo mode: true once everything received on `id` was sent back.
    bool echoed_all(ConnId id) const;

    ConnId on_accept(int listener_fd, int fd) override;
    void on_receive(ConnId id, std::span<const char> bytes) override;
    void on_hangup(ConnId id) override;
    void on_sent(ConnId id, std::size_t n) override;
    void on_readable(int token) override;
    void on_turn_end() override;

private:
    struct Outbox {
        std::string inflight;  // the bytes of the send in flight: never touched meanwhile
        std::string pending;   // received since
        std::size_t done = 0;  // bytes of `inflight` already sent
        bool sending = false;
    };
    void check_open(ConnId id, const char* what);
    void kick(ConnId id);

    EventLoop& loop_;
    std::set<ConnId> gone_;  // closed or released by the test: no callbacks allowed
    std::map<ConnId, Outbox> out_;
    ConnId next_id_ = 1000;
    std::function<bool()> done_;
    Clock::time_point give_up_{};
    int stop_after_ = -1;
};

// ---- the test's side of sockets ----

// A connected AF_UNIX stream pair: .first for the loop (non-blocking),
// .second for the test (blocking, with 10 s send/receive timeouts).
std::pair<int, int> socket_pair();
// A listening AF_UNIX socket on a fresh abstract address; `connect_to`
// opens a blocking client to it.
int unix_listener();
int connect_to(int listener);
void set_timeouts(int fd, std::chrono::seconds t);

void write_all(int fd, std::string_view bytes);
// One write that may fail (the other end may be closed already).
bool try_write(int fd, std::string_view bytes);
// Reads exactly `n` bytes (or fewer at end of stream / timeout).
std::string read_exact(int fd, std::size_t n);
// Reads until end of stream (or timeout).
std::string read_to_end(int fd);
// Whether the other end of `fd` is closed: end of stream, or a reset
// because it closed with bytes still unread.
bool peer_closed(int fd);
// Bytes waiting in `fd`'s receive queue.
int bytes_queued(int fd);

int open_fd_count();

// `n` bytes of a pattern that depends on `seed` and the position, so that
// loss, duplication and reordering all show.
std::string pattern(std::size_t n, unsigned seed = 1);

}  // namespace xs::daemon::testing
