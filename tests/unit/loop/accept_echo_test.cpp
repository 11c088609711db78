// Accepting connections and moving bytes both ways, on both backends.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <set>

#include <thread>

#include "tests/unit/loop/harness.hpp"

using namespace xs::daemon;
using namespace xs::daemon::testing;

TEST_CASE_TEMPLATE("accept and echo over a unix socket", TestType, LOOP_BACKENDS) {
    int baseline = open_fd_count();
    MAKE_LOOP(loop);
    int listener = unix_listener();
    loop->add_listener(listener);
    Recorder rec(*loop);
    rec.echo = true;

    int client = connect_to(listener);
    const std::string msg = "hello, xenstore";
    write_all(client, msg);
    REQUIRE(rec.run_until([&] {
        return rec.received.size() == 1 && rec.received.begin()->second == msg &&
               rec.echoed_all(rec.received.begin()->first);
    }));
    REQUIRE(rec.accepted.size() == 1);
    CHECK(rec.accepted[0].first == listener);
    CHECK(read_exact(client, msg.size()) == msg);

    // A second request on the same connection.
    write_all(client, "again");
    ConnId id = rec.received.begin()->first;
    REQUIRE(rec.run_until([&] { return rec.received[id] == msg + "again" && rec.echoed_all(id); }));
    CHECK(read_exact(client, 5) == "again");

    ::close(client);
    REQUIRE(rec.run_until([&] { return rec.hung_up.contains(id); }));
    CHECK(rec.hung_up.size() == 1);
    ::close(listener);
    loop.reset();
    CHECK(open_fd_count() == baseline);
}

TEST_CASE_TEMPLATE("an accepted socket is non-blocking and close-on-exec", TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int listener = unix_listener();
    loop->add_listener(listener);
    Recorder rec(*loop);
    int client = connect_to(listener);
    REQUIRE(rec.run_until([&] { return rec.accepted.size() == 1; }));
    int fd = rec.accepted[0].second;
    CHECK((::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    ::close(client);
    ::close(listener);
}

TEST_CASE_TEMPLATE("refusing a connection closes it", TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int listener = unix_listener();
    loop->add_listener(listener);
    Recorder rec(*loop);
    rec.accept_hook = [](int, int) -> ConnId { return 0; };
    int before = open_fd_count();
    int client = connect_to(listener);
    REQUIRE(rec.run_until([&] { return rec.accepted.size() == 1; }));
    CHECK(peer_closed(client));  // the loop closed its end
    ::close(client);
    CHECK(open_fd_count() == before);
    ::close(listener);
}

TEST_CASE_TEMPLATE("a daemon may register the accepted fd itself", TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int listener = unix_listener();
    loop->add_listener(listener);
    Recorder rec(*loop);
    rec.accept_hook = [&](int, int fd) -> ConnId {
        loop->add_socket(7, fd);
        return 7;
    };
    int client = connect_to(listener);
    write_all(client, "x");
    REQUIRE(rec.run_until([&] { return rec.received[7] == "x"; }));
    CHECK(rec.receive_calls[7] == 1);
    ::close(client);
    ::close(listener);
}

namespace {

std::string message_for(int client, int round) {
    return "<" + std::to_string(client) + ":" + std::to_string(round) + ":" +
           pattern(static_cast<std::size_t>(17 + (client * 7 + round * 13) % 300),
                   static_cast<unsigned>(client * 100 + round)) +
           ">";
}

// Each round, every client sends its message, then reads back its echo.
void run_clients(const std::vector<int>& fds, int rounds, std::atomic<int>& failures) {
    for (int r = 0; r < rounds; ++r) {
        for (std::size_t c = 0; c < fds.size(); ++c) write_all(fds[c], message_for(int(c), r));
        for (std::size_t c = 0; c < fds.size(); ++c) {
            std::string want = message_for(int(c), r);
            if (read_exact(fds[c], want.size()) != want) ++failures;
        }
    }
    for (int fd : fds) ::close(fd);
}

}  // namespace

TEST_CASE_TEMPLATE("200 connections with interleaved traffic", TestType, LOOP_BACKENDS) {
    int baseline = open_fd_count();
    MAKE_LOOP(loop);
    int listener = unix_listener();
    loop->add_listener(listener);
    Recorder rec(*loop);
    rec.echo = true;

    constexpr int kClients = 200, kRounds = 5;
    std::vector<int> fds;
    for (int c = 0; c < kClients; ++c) fds.push_back(connect_to(listener));
    std::atomic<int> failures{0};
    std::thread peer(run_clients, std::cref(fds), kRounds, std::ref(failures));
    bool done = rec.run_until([&] { return int(rec.hung_up.size()) == kClients; }, 30s);
    peer.join();
    CHECK(done);
    CHECK(failures == 0);
    CHECK(rec.accepted.size() == kClients);

    // Each connection got exactly one client's messages, complete and in order.
    std::set<int> seen;
    for (auto& [id, bytes] : rec.received) {
        int client = std::stoi(bytes.substr(1));
        seen.insert(client);
        std::string want;
        for (int r = 0; r < kRounds; ++r) want += message_for(client, r);
        CHECK(bytes == want);
    }
    CHECK(seen.size() == kClients);
    ::close(listener);
    loop.reset();
    CHECK(open_fd_count() == baseline);
}

TEST_CASE_TEMPLATE("a tiny submission queue still serves many connections", TestType,
                   LOOP_BACKENDS) {
    LoopOptions opts;
    opts.queue_depth = 4;  // io_uring must submit early, in the middle of a turn
    MAKE_LOOP(loop, opts);
    int listener = unix_listener();
    loop->add_listener(listener);
    Recorder rec(*loop);
    rec.echo = true;
    constexpr int kClients = 50, kRounds = 3;
    std::vector<int> fds;
    for (int c = 0; c < kClients; ++c) fds.push_back(connect_to(listener));
    std::atomic<int> failures{0};
    std::thread peer(run_clients, std::cref(fds), kRounds, std::ref(failures));
    bool done = rec.run_until([&] { return int(rec.hung_up.size()) == kClients; }, 30s);
    peer.join();
    CHECK(done);
    CHECK(failures == 0);
    ::close(listener);
}

TEST_CASE_TEMPLATE("out of fds, accepting backs off instead of spinning, then recovers",
                   TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int listener = unix_listener();
    int client = connect_to(listener);  // waiting in the backlog

    // No fd can be allocated from here on (io_uring reads the limit when
    // the accept is armed, so it is lowered before the first turn).
    int lowest_free = ::dup(0);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit saved;
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    rlimit low = saved;
    low.rlim_cur = static_cast<rlim_t>(lowest_free);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);

    loop->add_listener(listener);
    Recorder rec(*loop);
    auto until = Clock::now() + 300ms;
    rec.run_until([&] { return Clock::now() >= until; });
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
    CHECK(rec.accepted.empty());
    // Spinning would take thousands of turns; retries every 100 ms a few.
    CHECK(rec.turns < 50);

    REQUIRE(rec.run_until([&] { return rec.accepted.size() == 1; }));
    ::close(client);
    ::close(listener);
}
