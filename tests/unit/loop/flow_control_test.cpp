// set_reading(): input really stops (and stays in the kernel), resumes
// without loss or reordering, and the data delivered after stopping is
// bounded.
#include <unistd.h>

#include <atomic>
#include <thread>

#include "tests/unit/loop/harness.hpp"

using namespace xs::daemon;
using namespace xs::daemon::testing;

TEST_CASE_TEMPLATE("set_reading(false) stops delivery, set_reading(true) resumes", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    const std::string first = pattern(1000, 1), second = pattern(64 << 10, 2);

    write_all(theirs, first);
    rec.receive_hook = [&](ConnId id, std::span<const char>) { loop->set_reading(id, false); };
    REQUIRE(rec.run_until([&] { return !rec.received[1].empty(); }));
    rec.receive_hook = nullptr;
    rec.run_turns(2);  // let a cancellation reach the kernel
    std::size_t before = rec.received[1].size();

    // Written while reading is off: it must stay in the socket.
    write_all(theirs, second);
    rec.run_turns(5);
    CHECK(rec.received[1].size() == before);
    CHECK(bytes_queued(mine) == int(first.size() + second.size() - before));

    loop->set_reading(1, true);
    REQUIRE(rec.run_until([&] { return rec.received[1].size() == first.size() + second.size(); }));
    CHECK(rec.received[1] == first + second);
    CHECK(bytes_queued(mine) == 0);
    ::close(theirs);
}

TEST_CASE_TEMPLATE("data delivered after set_reading(false) is bounded", TestType, LOOP_BACKENDS) {
    LoopOptions opts;
    opts.recv_buffers = 4;
    opts.recv_buffer_size = 1024;
    const std::size_t bound = opts.recv_buffers * opts.recv_buffer_size;
    MAKE_LOOP(loop, opts);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    const std::string data = pattern(100 << 10, 3);
    write_all(theirs, data);

    std::size_t at_stop = 0;
    rec.receive_hook = [&](ConnId id, std::span<const char>) {
        if (at_stop) return;
        at_stop = rec.received[id].size();
        loop->set_reading(id, false);
    };
    REQUIRE(rec.run_until([&] { return at_stop > 0; }));
    rec.run_turns(5);
    std::size_t after = rec.received[1].size() - at_stop;
    CAPTURE(after);
    CHECK(after <= bound);
    CHECK(bytes_queued(mine) == int(data.size() - rec.received[1].size()));

    loop->set_reading(1, true);
    REQUIRE(rec.run_until([&] { return rec.received[1].size() == data.size(); }));
    CHECK(rec.received[1] == data);
    ::close(theirs);
}

TEST_CASE_TEMPLATE("toggling reading during a stream loses and reorders nothing", TestType,
                   LOOP_BACKENDS) {
    LoopOptions opts;
    opts.recv_buffers = 4;  // few, small buffers: receives also end for lack of buffers
    opts.recv_buffer_size = 512;
    MAKE_LOOP(loop, opts);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    const std::string data = pattern(2 << 20, 4);

    // Off after every delivery, on again at the end of the turn.
    bool off = false;
    int toggles = 0;
    rec.receive_hook = [&](ConnId id, std::span<const char>) {
        if (!off) loop->set_reading(id, false);
        off = true;
    };
    rec.turn_hook = [&] {
        if (!off) return;
        loop->set_reading(1, true);
        off = false;
        ++toggles;
    };
    std::thread peer([&, fd = theirs] { write_all(fd, data); });
    bool done = rec.run_until([&] { return rec.received[1].size() >= data.size(); }, 30s);
    peer.join();
    CHECK(done);
    CHECK(toggles > 10);
    CHECK(rec.received[1].size() == data.size());
    CHECK(rec.received[1] == data);
    ::close(theirs);
}

TEST_CASE_TEMPLATE("off and on again within one turn loses nothing", TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    const std::string data = pattern(256 << 10, 6);
    rec.receive_hook = [&](ConnId id, std::span<const char>) {
        loop->set_reading(id, false);
        loop->set_reading(id, true);
    };
    std::thread peer([&, fd = theirs] { write_all(fd, data); });
    bool done = rec.run_until([&] { return rec.received[1].size() >= data.size(); });
    peer.join();
    CHECK(done);
    CHECK(rec.received[1] == data);
    ::close(theirs);
}

TEST_CASE_TEMPLATE("a connection added with reading off receives nothing until enabled",
                   TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    loop->set_reading(1, false);
    Recorder rec(*loop);
    write_all(theirs, "held");
    rec.run_turns(3);
    CHECK(rec.received[1].empty());
    CHECK(bytes_queued(mine) == 4);
    loop->set_reading(1, true);
    REQUIRE(rec.run_until([&] { return rec.received[1] == "held"; }));
    ::close(theirs);
}
