// Hangups, close_socket() and release_socket(): no callback afterwards, no
// crash, no fd leak, and no byte taken from a released socket.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "tests/unit/loop/harness.hpp"

using namespace xs::daemon;
using namespace xs::daemon::testing;

namespace {

// Starts an 8 MiB send the peer does not read. io_uring completes the first
// attempt in part, and the rest is sent again; epoll reports nothing until
// the socket becomes writable. Either way a send is then blocked in flight.
struct BlockedSend {
    EventLoop& loop;
    Recorder& rec;
    std::string data = pattern(8 << 20, 9);
    std::size_t done = 0;  // bytes reported through on_sent

    void start(ConnId id) {
        rec.sent_hook = [this, id](ConnId, std::size_t n) {
            done += n;
            resend(id);
        };
        resend(id);
        rec.run_turns(5);
        REQUIRE(rec.sent[id].size() <= 1);  // after that, the send is stuck
        rec.sent_hook = nullptr;
    }
    void resend(ConnId id) {
        iovec v{data.data() + done, data.size() - done};
        loop.send(id, std::span<const iovec>(&v, 1));
    }
};

}  // namespace

TEST_CASE_TEMPLATE("a peer's close is reported once, after its last bytes", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    int before = open_fd_count();
    write_all(theirs, "last words");
    ::close(theirs);
    REQUIRE(rec.run_until([&] { return rec.hung_up.contains(1); }));
    CHECK(rec.received[1] == "last words");
    rec.run_turns(3);  // the recorder fails on any further callback
    CHECK(open_fd_count() == before - 2);
}

TEST_CASE_TEMPLATE("a peer's shutdown while a send is blocked is a hangup", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    BlockedSend bulk{*loop, rec};
    bulk.start(1);
    std::size_t reported = rec.sent[1].size();
    ::shutdown(theirs, SHUT_RDWR);
    REQUIRE(rec.run_until([&] { return rec.hung_up.contains(1); }));
    CHECK(rec.sent[1].size() == reported);  // no on_sent for the failed send
    rec.run_turns(3);
    ::close(theirs);
}

TEST_CASE_TEMPLATE("a hangup is also found by a failing send when reading is off", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    loop->set_reading(1, false);
    Recorder rec(*loop);
    ::close(theirs);
    std::string msg = "anyone there?";
    iovec v{msg.data(), msg.size()};
    loop->send(1, std::span<const iovec>(&v, 1));
    REQUIRE(rec.run_until([&] { return rec.hung_up.contains(1); }));
    CHECK(rec.sent[1].empty());
}

TEST_CASE_TEMPLATE("close_socket from inside on_receive stops all callbacks", TestType,
                   LOOP_BACKENDS) {
    LoopOptions opts;
    opts.recv_buffer_size = 16;  // many completions for one write
    MAKE_LOOP(loop, opts);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    int before = open_fd_count();
    rec.receive_hook = [&](ConnId id, std::span<const char>) { rec.close(id); };
    write_all(theirs, pattern(1000, 2));
    REQUIRE(rec.run_until([&] { return rec.receive_calls[1] > 0; }));
    try_write(theirs, "more");  // fails if the loop's end is closed already
    rec.run_turns(5);
    CHECK(rec.receive_calls[1] == 1);
    CHECK(open_fd_count() == before - 1);
    CHECK(peer_closed(theirs));  // the loop's end is really closed
    ::close(theirs);
}

TEST_CASE_TEMPLATE("close_socket with a send in flight cancels it cleanly", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    int before = open_fd_count();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    BlockedSend bulk{*loop, rec};
    bulk.start(1);

    // From a callback: close, let the daemon reuse the buffers at once, and
    // make room in the socket before the cancellation reaches the kernel.
    // None of the reused bytes may reach the peer.
    std::string got;
    bool closed = false;
    rec.turn_hook = [&] {
        if (closed) return;
        closed = true;
        rec.close(1);
        std::fill(bulk.data.begin(), bulk.data.end(), 'X');
        char buf[65536];
        ssize_t n;
        while ((n = ::recv(theirs, buf, sizeof buf, MSG_DONTWAIT)) > 0)
            got.append(buf, std::size_t(n));
    };
    rec.run_turns(6);
    CHECK(open_fd_count() == before - 1);
    got += read_to_end(theirs);  // ends: the socket is really closed
    CHECK(got.size() >= bulk.done);
    CHECK(got.find('X') == std::string::npos);
    CHECK(got == pattern(8 << 20, 9).substr(0, got.size()));
    ::close(theirs);
}

TEST_CASE_TEMPLATE("close_socket of a connection that hung up with a send pending", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    int before = open_fd_count();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    rec.hangup_hook = [](ConnId) {};  // the daemon closes later, not in the callback
    BlockedSend bulk{*loop, rec};
    bulk.start(1);
    ::close(theirs);
    REQUIRE(rec.run_until([&] { return rec.hung_up.contains(1); }));
    rec.run_turns(3);  // nothing more, not even while the daemon dawdles
    rec.close(1);
    rec.run_turns(3);
    CHECK(open_fd_count() == before - 2);
}

TEST_CASE_TEMPLATE("release_socket returns an open fd the loop no longer touches", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    write_all(theirs, "one");
    REQUIRE(rec.run_until([&] { return rec.received[1] == "one"; }));

    int fd = rec.release(1);
    CHECK(fd == mine);
    CHECK(::fcntl(fd, F_GETFD) >= 0);
    rec.run_turns(2);
    write_all(theirs, "two");
    rec.run_turns(3);
    CHECK(rec.received[1] == "one");
    CHECK(read_exact(fd, 3) == "two");  // the bytes stayed in the socket for the new owner
    write_all(fd, "three");
    CHECK(read_exact(theirs, 5) == "three");
    CHECK(loop->release_socket(1) == -1);
    ::close(fd);
    ::close(theirs);
}

TEST_CASE_TEMPLATE("release_socket with a receive armed and a send in flight", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    BlockedSend bulk{*loop, rec};
    bulk.start(1);
    int fd = rec.release(1);
    CHECK(fd == mine);
    rec.run_turns(3);
    write_all(theirs, "still mine");
    rec.run_turns(3);
    CHECK(rec.received[1].empty());
    CHECK(bytes_queued(fd) == 10);
    ::close(fd);
    ::close(theirs);
}

TEST_CASE_TEMPLATE("unknown and repeated closes are ignored", TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    loop->close_socket(42);
    rec.close(1);
    loop->close_socket(1);
    loop->set_reading(1, true);
    std::string s = "x";
    iovec v{s.data(), 1};
    loop->send(1, std::span<const iovec>(&v, 1));
    rec.run_turns(3);
    CHECK(rec.sent.empty());
    ::close(theirs);
}

TEST_CASE_TEMPLATE("a new connection reusing an id and fd gets no stale completion", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    Recorder rec(*loop);
    for (int round = 0; round < 20; ++round) {
        auto [mine, theirs] = socket_pair();
        loop->add_socket(1, mine);
        write_all(theirs, "round " + std::to_string(round));
        rec.receive_hook = [&](ConnId id, std::span<const char>) {
            loop->close_socket(id);  // with the receive still armed
        };
        REQUIRE(rec.run_until([&] { return !rec.received[1].empty(); }));
        CHECK(rec.received[1] == "round " + std::to_string(round));
        rec.received.erase(1);
        ::close(theirs);
    }
    rec.receive_hook = nullptr;
    rec.run_turns(3);
    CHECK(rec.received.empty());
}

TEST_CASE_TEMPLATE("destroying the loop closes the sockets it owns", TestType, LOOP_BACKENDS) {
    int baseline = open_fd_count();
    MAKE_LOOP(loop);
    std::vector<int> peers;
    for (int i = 1; i <= 3; ++i) {
        auto [mine, theirs] = socket_pair();
        loop->add_socket(ConnId(i), mine);
        peers.push_back(theirs);
    }
    Recorder rec(*loop);
    rec.run_turns(2);
    loop.reset();
    for (int fd : peers) {
        CHECK(peer_closed(fd));
        ::close(fd);
    }
    CHECK(open_fd_count() == baseline);
}
