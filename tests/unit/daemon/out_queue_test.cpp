#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "daemon/out_queue.hpp"

using namespace xs;
using namespace xs::daemon;
using namespace std::string_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string drain(OutQueue& q, std::size_t step) {
    std::string all;
    while (!q.empty()) {
        iovec iov[8];
        std::size_t n = q.gather(iov, 8);
        REQUIRE(n > 0);
        std::size_t take = std::min<std::size_t>(step, iov[0].iov_len);
        all.append(static_cast<const char*>(iov[0].iov_base), take);
        q.consume(take, [](const OutMsg&) {});
    }
    return all;
}

}  // namespace

TEST_CASE("replies and events come out in order, byte exact, in any write sizes") {
    for (std::size_t step : {1u, 3u, 7u, 1000u}) {
        OutQueue q;
        q.push_reply(wire::Header{wire::kRead, 5, 9, 0}, wire::kRead, "value");
        CHECK(q.push_event("/a\0tok\0"s, {}, 0xFFFF));
        q.push_reply(wire::Header{wire::kWrite, 6, 0, 0}, wire::kWrite, "OK\0"s);
        CHECK(q.messages() == 3);
        CHECK(q.replies() == 2);
        CHECK(q.events() == 1);
        std::string all = drain(q, step);
        std::string expect;
        wire::append_message(expect, {wire::kRead, 5, 9, 0}, "value");
        wire::append_message(expect, {wire::kWatchEvent, 0, 0, 0}, "/a\0tok\0"s);
        wire::append_message(expect, {wire::kWrite, 6, 0, 0}, "OK\0"s);
        CHECK(all == expect);
        CHECK(q.bytes() == 0);
    }
}

TEST_CASE("an identical unsent event is not queued twice; a partly sent one does not count") {
    OutQueue q;
    CHECK(q.push_event("/a\0t\0"s, {}, 0xFFFF));
    CHECK_FALSE(q.push_event("/a\0t\0"s, {}, 0xFFFF));
    CHECK(q.push_event("/a\0u\0"s, {}, 0xFFFF));
    CHECK(q.events() == 2);
    q.consume(3, [](const OutMsg&) {});  // the first event is now partly written
    CHECK(q.push_event("/a\0t\0"s, {}, 0xFFFF));
    CHECK(q.events() == 3);
}

TEST_CASE("expired events are dropped, replies and partly written events never") {
    OutQueue q;
    auto past = Clock::now() - std::chrono::seconds(1);
    auto future = Clock::now() + std::chrono::hours(1);
    CHECK(q.push_event("/first\0t\0"s, past, 7));
    q.push_reply(wire::Header{wire::kRead, 1, 0, 0}, wire::kRead, "r");
    CHECK(q.push_event("/old\0t\0"s, past, 7));
    CHECK(q.push_event("/new\0t\0"s, future, 7));
    q.consume(2, [](const OutMsg&) {});  // first event partly written
    std::vector<std::string> dropped;
    std::size_t n = q.expire(Clock::now(), [&](const OutMsg& m) { dropped.push_back(m.bytes.substr(16)); });
    CHECK(n == 1);
    REQUIRE(dropped.size() == 1);
    CHECK(dropped[0] == "/old\0t\0"s);
    CHECK(q.messages() == 3);
    CHECK(q.next_deadline() != Clock::time_point{});
    // The dropped event no longer blocks an identical new one.
    CHECK(q.push_event("/old\0t\0"s, future, 7));
}

TEST_CASE("messages put back after a live update: the partly written rest first, events merge as before") {
    OutQueue q;
    std::string event;
    wire::append_message(event, wire::Header{wire::kWatchEvent, 0, 0, 0}, "/a\0tok\0"s);
    q.restore(event.substr(5), false, 0xFFFF, {}, true);   // the unsent rest of an event
    q.restore(event, false, 7, {}, false);                 // a whole one, caused by domain 7
    std::string reply;
    wire::append_message(reply, wire::Header{wire::kRead, 3, 0, 0}, "v");
    q.restore(reply, true, 0xFFFF, {}, false);
    CHECK(q.messages() == 3);
    CHECK(q.replies() == 1);
    CHECK(q.events() == 2);
    CHECK(q.bytes() == event.size() - 5 + event.size() + reply.size());
    // The whole event is waiting unsent: the same one again is merged; the
    // partial one never counted for that.
    CHECK(!q.push_event("/a\0tok\0"s, {}, 0xFFFF));
    std::vector<DomId> sources;
    std::vector<std::size_t> sent;
    q.for_each([&](const OutMsg& m, std::size_t s) {
        sources.push_back(m.source);
        sent.push_back(s);
    });
    CHECK(sources == std::vector<DomId>{0xFFFF, 7, 0xFFFF});
    CHECK(sent == std::vector<std::size_t>{0, 0, 0});
    CHECK(drain(q, 3) == event.substr(5) + event + reply);
}

TEST_CASE("cost: bytes plus bookkeeping per message; event_cost the events' part, back to 0 when sent") {
    OutQueue q;
    q.push_reply(wire::Header{wire::kRead, 1, 0, 0}, wire::kRead, "value");
    std::size_t reply = wire::kHeaderSize + 5 + OutQueue::kMessageOverhead;
    CHECK(q.cost() == reply);
    CHECK(q.event_cost() == 0);
    CHECK(q.push_event("/a\0tok\0"s, {}, 0xFFFF));
    CHECK(OutQueue::event_cost(7) == wire::kHeaderSize + 7 + OutQueue::kMessageOverhead);
    CHECK(q.event_cost() == OutQueue::event_cost(7));
    CHECK(q.cost() == reply + OutQueue::event_cost(7));
    CHECK_FALSE(q.push_event("/a\0tok\0"s, {}, 0xFFFF));  // merged: costs nothing
    CHECK(q.event_cost() == OutQueue::event_cost(7));
    (void)drain(q, 5);
    CHECK(q.cost() == 0);
    CHECK(q.event_cost() == 0);
    q.restore(std::string(wire::kHeaderSize + 3, 'x'), false, 0xFFFF, {}, false);
    CHECK(q.event_cost() == OutQueue::event_cost(3));
    std::size_t dropped = 0;
    q.clear([&](const OutMsg&) { ++dropped; });
    CHECK(dropped == 1);
    CHECK(q.event_cost() == 0);
}

TEST_CASE("expired events give their cost back") {
    OutQueue q;
    auto t0 = Clock::now();
    CHECK(q.push_event("/a\0t\0"s, t0 + std::chrono::seconds(1), 0xFFFF));
    CHECK(q.event_cost() > 0);
    q.expire(t0 + std::chrono::seconds(2), [](const OutMsg&) {});
    CHECK(q.event_cost() == 0);
    CHECK(q.cost() == 0);
}
