// The loop's small shared pieces: tags, slots, deadlines, send buffers,
// option checks, and a clean failure of make_uring_loop.
#include <climits>

#include "daemon/loop/deadline.hpp"
#include "daemon/loop/options.hpp"
#include "daemon/loop/send_buffer.hpp"
#include "daemon/loop/slot_table.hpp"
#include "daemon/loop/tag.hpp"
#include "daemon/loop/uring_loop.hpp"
#include "tests/unit/loop/harness.hpp"

using namespace xs::daemon;
using namespace xs::daemon::loop;
using namespace std::chrono_literals;

TEST_CASE("tags survive encoding; unknown kinds decode to none") {
    Tag t{Kind::send, 0xABCDEF, 0xFFFFFFFE};
    CHECK(decode(encode(t)) == t);
    CHECK(decode(encode(Tag{Kind::recv, kGenMask + 5, 3})).gen == 4);  // generations wrap
    CHECK(decode(~0ull).kind == Kind::none);                            // liburing's timeout
    CHECK(decode(0).kind == Kind::none);
}

TEST_CASE("a retired slot stops matching old tags and is reused only after release") {
    SlotTable<int> slots;
    std::uint32_t a = slots.add(10);
    std::uint32_t gen = slots.gen(a);
    REQUIRE(slots.find(a, gen));
    slots.retire(a);
    CHECK(slots.find(a, gen) == nullptr);
    CHECK(slots.find(a, slots.gen(a)) == nullptr);  // retired is not live either
    std::uint32_t b = slots.add(20);
    CHECK(b != a);  // not reusable before release
    slots.release(a);
    std::uint32_t c = slots.add(30);
    CHECK(c == a);
    CHECK(slots.find(c, gen) == nullptr);  // the old generation still misses
    REQUIRE(slots.find(c, slots.gen(c)));
    CHECK(*slots.find(c, slots.gen(c)) == 30);
    CHECK(slots.live_count() == 2);
    slots.release(b);  // releasing a live slot does nothing
    CHECK(slots.find(b, slots.gen(b)));
}

TEST_CASE("deadline math") {
    TimePoint now{std::chrono::seconds(100)};
    CHECK(time_left(now - 1s, now) == Clock::duration::zero());
    CHECK(time_left(now + 5ms, now) == Clock::duration(5ms));
    CHECK(earliest(std::nullopt, std::nullopt) == std::nullopt);
    CHECK(earliest(now, std::nullopt) == now);
    CHECK(earliest(now + 1s, now) == now);
    CHECK(epoll_timeout_ms(std::nullopt, now) == -1);
    CHECK(epoll_timeout_ms(now - 1s, now) == 0);
    CHECK(epoll_timeout_ms(now + 1us, now) == 1);  // rounded up, never early
    CHECK(epoll_timeout_ms(now + 1000h, now) == INT_MAX);
    auto ts = to_timespec(1500ms);
    CHECK(ts.tv_sec == 1);
    CHECK(ts.tv_nsec == 500'000'000);

    Deadline d;
    d.set(now);
    d.expire(now - 1ms);
    CHECK(d.get() == now);
    d.expire(now);
    CHECK(d.get() == std::nullopt);  // one-shot
}

TEST_CASE("a send buffer tracks partial progress across iovecs") {
    char a[] = "abc", b[] = "defgh";
    iovec iov[] = {{a, 3}, {nullptr, 0}, {b, 5}};
    SendBuffer s;
    s.assign(iov);
    CHECK(s.remaining_bytes() == 8);
    s.advance(4);
    CHECK(s.written() == 4);
    msghdr* m = s.message();
    REQUIRE(m->msg_iovlen == 1);
    CHECK(static_cast<char*>(m->msg_iov[0].iov_base) == b + 1);
    CHECK(m->msg_iov[0].iov_len == 4);
    CHECK(iov[2].iov_len == 5);  // the daemon's list is untouched
    s.advance(4);
    CHECK(s.empty());
    CHECK(s.written() == 8);

    std::vector<iovec> many(IOV_MAX + 10, iovec{a, 1});
    s.assign(many);
    CHECK(s.remaining_bytes() == IOV_MAX);
    s.assign({});
    CHECK(s.empty());
}

TEST_CASE("options out of range are refused with a reason") {
    CHECK(check_options(LoopOptions{}) == std::nullopt);
    LoopOptions o;
    o.queue_depth = 0;
    CHECK(check_options(o)->find("queue_depth") != std::string::npos);
    o = {};
    o.recv_buffers = kMaxRecvBuffers + 1;
    CHECK(check_options(o)->find("recv_buffers") != std::string::npos);
    o = {};
    o.recv_buffer_size = 0;
    CHECK(check_options(o)->find("recv_buffer_size") != std::string::npos);
}

TEST_CASE("make_uring_loop fails cleanly, with a reason") {
    std::string why;
    auto good = make_uring_loop(LoopOptions{}, why);
    CHECK((good != nullptr) == why.empty());  // a loop, or a reason
    if (good) CHECK(std::string(good->name()) == "io_uring");

    LoopOptions bad;
    bad.recv_buffers = 0;
    why.clear();
    CHECK(make_uring_loop(bad, why) == nullptr);
    CHECK(!why.empty());
}

TEST_CASE("io_uring can be forced into each older kernel's task-running mode") {
    for (TaskRun mode : {TaskRun::deferred, TaskRun::cooperative, TaskRun::plain}) {
        std::string why;
        auto loop = UringLoop::create(LoopOptions{}, why, mode);
        if (!loop) {
            MESSAGE("io_uring unavailable: " << why);
            continue;
        }
        auto& uring = static_cast<UringLoop&>(*loop);
        // This kernel may lack the newer modes, never the requested older one.
        CHECK(static_cast<int>(uring.task_run()) >= static_cast<int>(mode));
        if (mode == TaskRun::plain) CHECK(uring.task_run() == TaskRun::plain);
    }
}

TEST_CASE("the epoll backend names itself") {
    auto loop = make_epoll_loop(LoopOptions{});
    REQUIRE(loop);
    CHECK(std::string(loop->name()) == "epoll");
}
