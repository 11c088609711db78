// Live update: quiesce() leaves every byte either delivered or in the
// kernel's socket buffers, quiet() says when, resume() undoes it, and a
// fresh loop adopts the sockets of a quiesced one.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <optional>
#include <thread>
#include <vector>

#include "tests/unit/loop/harness.hpp"

using namespace xs::daemon;
using namespace xs::daemon::testing;

namespace {

// The test's peer: writes a pattern without pause on its own thread until
// told to stop; when the socket is full it waits for room.
class Writer {
public:
    Writer(int fd, unsigned seed) : data_(pattern(32 << 20, seed)), thread_([this, fd] { run(fd); }) {}
    ~Writer() { stop(); }

    std::size_t written() const { return written_; }
    // Stops writing and returns everything written.
    std::string stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        CHECK(error_ == 0);
        return data_.substr(0, written_);
    }

private:
    void run(int fd) {
        while (!stop_ && written_ < data_.size()) {
            std::size_t n = std::min<std::size_t>(4096, data_.size() - written_);
            ssize_t r = ::send(fd, data_.data() + written_, n, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (r > 0) {
                written_ += static_cast<std::size_t>(r);
            } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, 5);
            } else {
                error_ = errno;  // checked by stop(), on the test's thread
                return;
            }
        }
    }

    const std::string data_;
    std::atomic<std::size_t> written_{0};
    std::atomic<bool> stop_{false};
    std::atomic<int> error_{0};
    std::thread thread_;
};

// Everything waiting in `fd`'s receive queue, without blocking.
std::string drain(int fd) {
    std::string s;
    char buf[65536];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return s;
        s.append(buf, static_cast<std::size_t>(n));
    }
}

// Accepts every connection waiting in `listener`'s backlog.
std::vector<int> accept_all(int listener) {
    std::vector<int> fds;
    for (;;) {
        int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && errno == EINTR) continue;
        if (fd < 0) return fds;
        fds.push_back(fd);
    }
}

// Runs turns until quiet() holds (as the daemon checks it, in on_turn_end)
// and returns how many it took.
int run_until_quiet(EventLoop& loop, Recorder& rec) {
    if (loop.quiet()) return 0;  // epoll: at once when no send was waiting
    int before = rec.turns;
    REQUIRE(rec.run_until([&] { return loop.quiet(); }));
    return rec.turns - before;
}

void set_blocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK); }

}  // namespace

TEST_CASE_TEMPLATE("quiesce while a peer writes: delivered plus unread is the stream", TestType,
                   LOOP_BACKENDS) {
    // The default buffers outnumber what the socket holds, so the receive
    // never ends for lack of them: only the cancel can end it.
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    CHECK(!loop->quiet());

    Writer peer(theirs, 11);
    // quiesce() from inside a delivery, as the daemon may. The rest of the
    // batch still arrives; the nap lets the kernel post more data before
    // it sees the cancel (kernels that run task work at any system call).
    bool quiescing = false;
    rec.receive_hook = [&](ConnId, std::span<const char>) {
        if (quiescing || rec.received[1].size() < (256u << 10)) return;
        quiescing = true;
        loop->quiesce();
        ::usleep(2000);
    };
    // quiet() asked where the daemon asks it, at the end of every turn.
    std::optional<std::size_t> at_quiet;
    rec.turn_hook = [&] {
        if (quiescing && !at_quiet && loop->quiet()) at_quiet = rec.received[1].size();
    };
    REQUIRE(rec.run_until([&] { return at_quiet.has_value(); }, 30s));

    // The peer goes on writing until the socket is full; a receive still
    // armed would take some of it, and no delivery may follow quiet(). Nor
    // may the loop spin on the input it leaves alone.
    int turns = rec.turns;
    rec.run_for(200ms);
    CHECK(rec.turns - turns < 10);
    CHECK(bytes_queued(mine) > 0);
    CHECK(rec.received[1].size() == *at_quiet);
    CHECK(loop->quiet());

    const std::string sent = peer.stop();
    const std::string rest = drain(mine);
    CAPTURE(*at_quiet);
    CAPTURE(sent.size());
    CHECK(*at_quiet + rest.size() == sent.size());
    CHECK(rec.received[1] + rest == sent);
    CHECK(rec.hung_up.empty());
    ::close(theirs);
}

TEST_CASE_TEMPLATE("quiesce cancels a blocked send: on_sent reports exactly what the peer got",
                   TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    int small = 4096;
    ::setsockopt(mine, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ::setsockopt(theirs, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    loop->add_socket(1, mine);
    Recorder rec(*loop);

    // The daemon's way: on a partial on_sent, send the rest (while
    // quiescing, that send is only remembered).
    const std::string msg = pattern(1 << 20, 12);
    std::size_t done = 0;
    auto send_rest = [&] {
        iovec v{const_cast<char*>(msg.data()) + done, msg.size() - done};
        loop->send(1, std::span<const iovec>(&v, 1));
    };
    rec.sent_hook = [&](ConnId, std::size_t n) {
        done += n;
        if (done < msg.size()) send_rest();
    };
    send_rest();
    rec.run_turns(5);
    REQUIRE(done < msg.size());  // the peer reads nothing: the send is stuck
    REQUIRE(bytes_queued(theirs) > 0);
    const std::size_t reports = rec.sent[1].size();

    loop->quiesce();
    run_until_quiet(*loop, rec);
    CHECK(rec.sent[1].size() == reports + 1);  // the cancelled send, 0 bytes or more
    CHECK(rec.hung_up.empty());
    const std::string got = drain(theirs);
    CAPTURE(done);
    CHECK(got.size() == done);
    CHECK(got == msg.substr(0, got.size()));

    // The socket has room again: a send still in the kernel's hands (or
    // still waiting for EPOLLOUT) would now write more.
    rec.run_turns(5);
    rec.run_for(50ms);
    CHECK(bytes_queued(theirs) == 0);
    CHECK(rec.sent[1].size() == reports + 1);
    CHECK(rec.hung_up.empty());
    ::close(theirs);
}

TEST_CASE_TEMPLATE("connections arriving during and after quiesce stay in the backlog", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int listener = unix_listener();
    loop->add_listener(listener);
    Recorder rec(*loop);
    std::vector<int> clients{connect_to(listener)};
    REQUIRE(rec.run_until([&] { return rec.accepted.size() == 1; }));

    // During: in the turn that quiesces, before the cancel reaches the kernel.
    bool once = false;
    rec.turn_hook = [&] {
        if (once) return;
        once = true;
        loop->quiesce();
        for (int k = 0; k < 5; ++k) clients.push_back(connect_to(listener));
    };
    rec.run_turns(1);
    rec.turn_hook = nullptr;
    run_until_quiet(*loop, rec);
    const std::size_t at_quiet = rec.accepted.size();
    for (int k = 0; k < 5; ++k) clients.push_back(connect_to(listener));  // after
    for (int fd : clients) write_all(fd, "hi");
    int turns = rec.turns;
    rec.run_for(100ms);
    CHECK(rec.turns - turns < 10);  // no spinning on the backlog or the input
    CHECK(rec.accepted.size() == at_quiet);
    // Connections accepted while quiescing are served only after resume().
    CHECK(rec.received.empty());

    // Every other connection is still in the backlog: a plain accept takes
    // one, a new loop on the same listener the rest (the old loop stays
    // alive, and quiet).
    const std::size_t waiting = clients.size() - at_quiet;
    int one = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(one >= 0);
    ::close(one);
    auto fresh = TestType::make();
    REQUIRE(fresh);
    fresh->add_listener(listener);
    Recorder rec2(*fresh);
    REQUIRE(rec2.run_until([&] { return rec2.accepted.size() == waiting - 1; }));
    rec2.run_for(50ms);
    CHECK(rec2.accepted.size() == waiting - 1);
    std::vector<int> left = accept_all(listener);
    CHECK(left.empty());
    for (int fd : left) ::close(fd);
    rec.run_for(50ms);
    CHECK(rec.accepted.size() == at_quiet);
    for (int fd : clients) ::close(fd);
    ::close(listener);
}

TEST_CASE_TEMPLATE("resume restores accepting, reading and a remembered send, twice", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int listener = unix_listener();
    loop->add_listener(listener);
    auto [mine, theirs] = socket_pair();
    auto [mine2, theirs2] = socket_pair();
    loop->add_socket(1, mine);
    loop->add_socket(2, mine2);
    Recorder rec(*loop);
    write_all(theirs, "before ");
    REQUIRE(rec.run_until([&] { return rec.received[1] == "before "; }));

    for (int round = 0; round < 2; ++round) {
        CAPTURE(round);
        loop->quiesce();
        run_until_quiet(*loop, rec);
        const std::size_t accepted = rec.accepted.size();
        const std::string had = rec.received[1];
        // While quiescing: a send and reading changes are remembered, input
        // and connections wait in the kernel.
        std::string reply = "reply " + std::to_string(round);
        iovec v{reply.data(), reply.size()};
        loop->send(1, std::span<const iovec>(&v, 1));
        loop->set_reading(1, false);
        loop->set_reading(1, true);
        loop->set_reading(2, false);
        write_all(theirs, "during ");
        write_all(theirs2, "ignored ");
        int client = connect_to(listener);
        write_all(client, "new");
        rec.run_turns(5);
        CHECK(loop->quiet());
        CHECK(rec.received[1] == had);
        CHECK(rec.accepted.size() == accepted);
        CHECK(bytes_queued(theirs) == 0);
        CHECK(rec.sent[1].size() == std::size_t(round));

        loop->resume();
        CHECK(!loop->quiet());
        REQUIRE(rec.run_until([&] {
            return rec.received[1] == had + "during " && rec.sent[1].size() == std::size_t(round) + 1 &&
                   rec.accepted.size() == accepted + 1 &&
                   rec.received[rec.accepted.size() + 999] == "new";  // ids count from 1000
        }));
        CHECK(rec.sent[1].back() == reply.size());
        CHECK(read_exact(theirs, reply.size()) == reply);
        CHECK(rec.received[2].empty());  // set_reading(2, false) holds after resume
        ::close(client);
        loop->set_reading(2, true);
    }
    REQUIRE(rec.run_until([&] { return rec.received[2] == "ignored ignored "; }));
    ::close(theirs);
    ::close(theirs2);
    ::close(listener);
}

TEST_CASE_TEMPLATE("while quiescing, a new listener waits for resume; close and release work",
                   TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine1, theirs1] = socket_pair();
    auto [mine2, theirs2] = socket_pair();
    loop->add_socket(1, mine1);
    loop->add_socket(2, mine2);
    Recorder rec(*loop);
    rec.run_turns(2);
    loop->quiesce();
    run_until_quiet(*loop, rec);

    int listener = unix_listener();
    loop->add_listener(listener);
    int client = connect_to(listener);
    rec.close(1);
    int fd = rec.release(2);
    CHECK(fd == mine2);
    rec.run_turns(3);
    CHECK(loop->quiet());
    CHECK(rec.accepted.empty());
    CHECK(peer_closed(theirs1));
    write_all(theirs2, "mine");
    rec.run_turns(2);
    CHECK(read_exact(fd, 4) == "mine");

    loop->resume();
    REQUIRE(rec.run_until([&] { return rec.accepted.size() == 1; }));
    CHECK(rec.received.empty());
    ::close(fd);
    ::close(client);
    ::close(theirs1);
    ::close(theirs2);
    ::close(listener);
}

TEST_CASE_TEMPLATE("watched fds and the deadline work while quiet", TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    REQUIRE(efd >= 0);
    loop->watch_readable(efd, 7);
    Recorder rec(*loop);
    std::uint64_t one = 1;
    rec.readable_hook = [&](int) { CHECK(::read(efd, &one, sizeof one) == sizeof one); };
    loop->quiesce();
    run_until_quiet(*loop, rec);
    REQUIRE(::write(efd, &one, sizeof one) == sizeof one);
    REQUIRE(rec.run_until([&] { return rec.readable[7] > 0; }));
    // A deadline alone wakes a quiet loop.
    rec.turn_hook = [&] { loop->stop(); };
    int turns = rec.turns;
    auto start = Clock::now();
    loop->set_deadline(start + 20ms);
    loop->run(rec);
    CHECK(rec.turns == turns + 1);
    CHECK(Clock::now() >= start + 20ms);
    CHECK(loop->quiet());
    loop->unwatch(efd);
    ::close(efd);
}

namespace {

// What the new daemon finds after exec: bytes waiting in a client socket,
// a connection waiting in the listener's backlog with its request already
// written. `blocking`: fds without O_NONBLOCK, which the loop must not
// trip over either (it did not create them).
template <class TestType>
void serve_adopted(bool blocking) {
    CAPTURE(blocking);
    auto [mine, theirs] = socket_pair();
    int listener = unix_listener();
    int client = connect_to(listener);
    write_all(theirs, "left over");
    write_all(client, "waiting");
    if (blocking) {
        set_blocking(mine);
        set_blocking(listener);
    }
    MAKE_LOOP(loop);
    loop->add_listener(listener);
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    rec.echo = true;
    REQUIRE(rec.run_until([&] {
        return rec.received[1] == "left over" && rec.accepted.size() == 1 &&
               rec.received[1000] == "waiting" && rec.echoed_all(1) && rec.echoed_all(1000);
    }));
    CHECK(read_exact(theirs, 9) == "left over");
    CHECK(read_exact(client, 7) == "waiting");
    // And goes on serving them.
    write_all(theirs, "more");
    REQUIRE(rec.run_until([&] { return rec.received[1] == "left overmore"; }));
    ::close(client);
    ::close(theirs);
    ::close(listener);
}

}  // namespace

TEST_CASE_TEMPLATE("a fresh loop serves adopted fds: unread data and a pending connection",
                   TestType, LOOP_BACKENDS) {
    serve_adopted<TestType>(false);
    serve_adopted<TestType>(true);
}

TEST_CASE_TEMPLATE("a quiesced loop's sockets go to a new loop without loss", TestType,
                   LOOP_BACKENDS) {
    LoopOptions opts;
    opts.recv_buffers = 8;
    opts.recv_buffer_size = 1024;
    MAKE_LOOP(old_loop, opts);
    int listener = unix_listener();
    old_loop->add_listener(listener);
    auto [mine, theirs] = socket_pair();
    old_loop->add_socket(1, mine);
    Recorder old_rec(*old_loop);
    Writer peer(theirs, 13);
    REQUIRE(old_rec.run_until([&] { return old_rec.received[1].size() >= (64u << 10); }));
    old_loop->quiesce();
    int client = connect_to(listener);
    write_all(client, "hello");
    run_until_quiet(*old_loop, old_rec);
    const std::size_t accepted = old_rec.accepted.size();

    // The exec: the new process has the same sockets (a dup here, as the
    // old loop still owns its fds) and a loop of its own. The old loop
    // stays alive and quiet meanwhile.
    auto new_loop = TestType::make(opts);
    REQUIRE(new_loop);
    new_loop->add_listener(listener);
    new_loop->add_socket(1, ::dup(mine));
    Recorder new_rec(*new_loop);
    REQUIRE(new_rec.run_until([&] { return peer.written() > (1u << 20); }, 30s));
    const std::string sent = peer.stop();
    auto all_there = [&] {
        return old_rec.received[1].size() + new_rec.received[1].size() == sent.size() &&
               new_rec.accepted.size() + accepted == 1 &&
               (accepted == 1 || new_rec.received[1000] == "hello");
    };
    // (It may all be there already: a turn would only wait for nothing.)
    REQUIRE((all_there() || new_rec.run_until(all_there, 30s)));
    CHECK(old_rec.received[1] + new_rec.received[1] == sent);
    old_rec.run_for(20ms);  // the old loop takes nothing any more
    CHECK(old_rec.received[1].size() + new_rec.received[1].size() == sent.size());
    CHECK(old_rec.received[1000].empty());
    ::close(client);
    ::close(theirs);
    ::close(listener);
}

TEST_CASE_TEMPLATE("quiet within a few turns with 1000 idle connections", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    constexpr int kConns = 1000;
    std::vector<int> mine, peers;
    for (int i = 1; i <= kConns; ++i) {
        auto [m, t] = socket_pair();
        loop->add_socket(ConnId(i), m);
        mine.push_back(m);
        peers.push_back(t);
    }
    Recorder rec(*loop);
    rec.run_turns(2);  // every receive armed
    CHECK(!loop->quiet());
    loop->quiesce();
    int turns = run_until_quiet(*loop, rec);
    CHECK(turns <= 3);

    // Quiet means it: input now stays in the sockets.
    for (int fd : peers) write_all(fd, "x");
    rec.run_for(50ms);
    CHECK(rec.received.empty());
    int queued = 0;
    for (int fd : mine) queued += bytes_queued(fd);
    CHECK(queued == kConns);

    loop->resume();
    REQUIRE(rec.run_until([&] { return int(rec.received.size()) == kConns; }));
    for (int fd : peers) ::close(fd);
}
