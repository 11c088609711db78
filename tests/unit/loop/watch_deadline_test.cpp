// Watched fds (level-triggered), deadlines, and stop().
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "tests/unit/loop/harness.hpp"

using namespace xs::daemon;
using namespace xs::daemon::testing;

namespace {

std::uint64_t drain_eventfd(int fd) {
    std::uint64_t v = 0;
    CHECK(::read(fd, &v, sizeof v) == sizeof v);
    return v;
}

void poke_eventfd(int fd) {
    std::uint64_t one = 1;
    CHECK(::write(fd, &one, sizeof one) == sizeof one);
}

// Pokes an eventfd from another thread after `delay` unless destroyed
// first: a loop waiting for nothing else wakes because of it.
class DelayedPoke {
public:
    DelayedPoke(int fd, std::chrono::milliseconds delay)
        : thread_([this, fd, delay] {
              std::unique_lock lock(mutex_);
              if (!cancel_.wait_for(lock, delay, [this] { return cancelled_; })) poke_eventfd(fd);
          }) {}
    ~DelayedPoke() {
        {
            std::lock_guard lock(mutex_);
            cancelled_ = true;
        }
        cancel_.notify_all();
        thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable cancel_;
    bool cancelled_ = false;
    std::thread thread_;
};

// Records when each turn ended and how many readable reports came; stops
// after `stop_after` turns or at the first readable report.
struct TurnClient : LoopClient {
    EventLoop& loop;
    std::vector<Clock::time_point> ends;
    int readables = 0;
    bool stop_on_readable = true;
    int stop_after = 1;
    std::function<void()> hook;
    explicit TurnClient(EventLoop& l) : loop(l) {}

    ConnId on_accept(int, int) override { return 0; }
    void on_receive(ConnId, std::span<const char>) override {}
    void on_hangup(ConnId) override {}
    void on_sent(ConnId, std::size_t) override {}
    void on_readable(int) override { ++readables; }
    void on_turn_end() override {
        ends.push_back(Clock::now());
        if (hook) hook();
        if ((stop_on_readable && readables > 0) || int(ends.size()) >= stop_after) loop.stop();
    }
};

}  // namespace

TEST_CASE_TEMPLATE("a watched eventfd is reported every turn while readable", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->watch_readable(efd, 7);
    Recorder rec(*loop);
    rec.run_turns(3);
    CHECK(rec.readable[7] == 0);

    poke_eventfd(efd);
    rec.readable_hook = [&](int) {
        if (rec.readable[7] == 3) drain_eventfd(efd);  // not read before: still readable
    };
    rec.run_turns(6);
    CHECK(rec.readable[7] == 3);
    CHECK(rec.readable.size() == 1);
    loop->unwatch(efd);
    ::close(efd);
}

TEST_CASE_TEMPLATE("a watched pipe stays reported until drained; unwatch stops reports",
                   TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int p[2];
    REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    loop->watch_readable(p[0], 3);
    Recorder rec(*loop);
    std::string got;
    rec.readable_hook = [&](int) {
        char buf[3];
        ssize_t n = ::read(p[0], buf, sizeof buf);  // a little at a time
        if (n > 0) got.append(buf, std::size_t(n));
    };
    write_all(p[1], "0123456789");
    rec.run_turns(8);
    CHECK(got == "0123456789");
    CHECK(rec.readable[3] == 4);

    loop->unwatch(p[0]);
    write_all(p[1], "x");
    rec.run_turns(3);
    CHECK(rec.readable[3] == 4);

    loop->watch_readable(p[0], 4);  // watching again reports at once
    rec.run_turns(1);
    CHECK(rec.readable[4] == 1);
    ::close(p[0]);
    ::close(p[1]);
}

TEST_CASE_TEMPLATE("a watched fd reused under a new file is watched afresh", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int a = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->watch_readable(a, 1);
    Recorder rec(*loop);
    rec.run_turns(2);
    ::close(a);  // the daemon closes without unwatch ...
    int b = ::eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
    REQUIRE(b == a);  // ... and the number comes back for a new file
    loop->watch_readable(b, 2);
    rec.readable_hook = [&](int) { drain_eventfd(b); };
    rec.run_turns(3);
    CHECK(rec.readable[2] == 1);
    CHECK(rec.readable[1] == 0);
    loop->unwatch(b);
    ::close(b);
}

TEST_CASE_TEMPLATE("a deadline in the past wakes the loop at once", TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->watch_readable(efd, 1);  // the watchdog: wakes the loop if the deadline does not
    TurnClient client(*loop);
    loop->set_deadline(Clock::now() - std::chrono::seconds(1));
    {
        DelayedPoke watchdog(efd, std::chrono::seconds(10));
        loop->run(client);
    }
    CHECK(client.ends.size() == 1);
    CHECK(client.readables == 0);  // the deadline woke it, not the watchdog
    ::close(efd);
}

TEST_CASE_TEMPLATE("a deadline wakes no earlier than asked, and only once", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->watch_readable(efd, 1);
    TurnClient client(*loop);
    client.stop_after = 100;
    auto when = Clock::now() + std::chrono::milliseconds(50);
    loop->set_deadline(when);
    {
        // Long after the deadline, the poke ends the run. A deadline that is
        // not one-shot would spin in between and show as many turns.
        DelayedPoke poke(efd, std::chrono::milliseconds(300));
        loop->run(client);
    }
    REQUIRE(client.ends.size() == 2);
    CHECK(client.ends[0] >= when);
    CHECK(client.readables == 1);
    ::close(efd);
}

TEST_CASE_TEMPLATE("no deadline means no timer", TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->watch_readable(efd, 1);
    TurnClient client(*loop);
    client.stop_after = 100;
    loop->set_deadline(Clock::now() + std::chrono::milliseconds(10));
    loop->set_deadline(std::nullopt);  // replaces the earlier one
    {
        DelayedPoke poke(efd, std::chrono::milliseconds(200));
        loop->run(client);
    }
    CHECK(client.ends.size() == 1);
    CHECK(client.readables == 1);
    ::close(efd);
}

TEST_CASE_TEMPLATE("a deadline set during a turn is kept past that turn", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->watch_readable(efd, 1);
    TurnClient client(*loop);
    client.stop_after = 2;
    Clock::time_point target{};
    client.hook = [&] {
        if (client.ends.size() != 1) return;
        target = Clock::now() + std::chrono::milliseconds(20);
        loop->set_deadline(target);
    };
    loop->set_deadline(Clock::now());  // the first turn comes at once and sets the next
    {
        DelayedPoke watchdog(efd, std::chrono::seconds(10));
        loop->run(client);
    }
    REQUIRE(client.ends.size() == 2);
    CHECK(client.ends[1] >= target);
    CHECK(client.readables == 0);
    ::close(efd);
}

TEST_CASE_TEMPLATE("stop() from a callback ends run() after that turn; run() resumes",
                   TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    rec.receive_hook = [&](ConnId, std::span<const char>) { loop->stop(); };
    write_all(theirs, "a");
    loop->set_deadline(Clock::now() + std::chrono::seconds(10));
    loop->run(rec);
    CHECK(rec.received[1] == "a");
    CHECK(rec.turns == 1);  // the turn was finished, on_turn_end included
    rec.receive_hook = nullptr;
    write_all(theirs, "b");
    REQUIRE(rec.run_until([&] { return rec.received[1] == "ab"; }));
    ::close(theirs);
}

TEST_CASE_TEMPLATE("stop() still submits the sends of the last turn", TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    std::string reply = "bye";
    rec.receive_hook = [&](ConnId id, std::span<const char>) {
        iovec v{reply.data(), reply.size()};
        loop->send(id, std::span<const iovec>(&v, 1));
        loop->stop();
    };
    write_all(theirs, "q");
    loop->set_deadline(Clock::now() + std::chrono::seconds(10));
    loop->run(rec);
    CHECK(read_exact(theirs, 3) == "bye");  // without running the loop again
    ::close(theirs);
}
