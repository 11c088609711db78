// The stub-domain build's pure pieces: the "-d" chunk parser and the poll
// loop, driven by a scripted platform.
#include <doctest/doctest.h>

#include <deque>
#include <string>
#include <vector>

#include "daemon/image_update.hpp"
#include "daemon/stub/poll_loop.hpp"

using namespace std::string_literals;
using namespace std::string_view_literals;
using namespace xs::daemon;

namespace {

std::string payload(const std::string& n, const std::string& data) { return "live-update\0-d\0"s + n + '\0' + data + '\0'; }

// wait() answers from a script: which fds are ready at each turn.
struct ScriptedPlatform final : stub::Platform {
    std::deque<std::vector<bool>> script;
    std::vector<std::vector<int>> waited_fds;
    std::vector<std::optional<Clock::time_point>> waited_until;

    void wait(std::span<const int> fds, std::optional<Clock::time_point> until, std::vector<bool>& ready) override {
        waited_fds.emplace_back(fds.begin(), fds.end());
        waited_until.push_back(until);
        ready = script.empty() ? std::vector<bool>(fds.size(), false) : script.front();
        if (!script.empty()) script.pop_front();
    }
    bool stop = false;
    bool stop_requested() const override { return stop; }
    std::optional<std::string> take_handover(std::string&) override { return std::nullopt; }
    std::size_t max_image() const override { return 0; }
    std::string activate(std::string_view, std::string, const std::vector<std::string>&) override { return "no"; }
};

struct Recorder final : LoopClient {
    EventLoop* loop = nullptr;
    std::vector<int> readable;
    int turns = 0;
    int stop_after = 1;
    ConnId on_accept(int, int) override { return 0; }
    void on_receive(ConnId, std::span<const char>) override {}
    void on_hangup(ConnId) override {}
    void on_sent(ConnId, std::size_t) override {}
    void on_readable(int token) override { readable.push_back(token); }
    void on_turn_end() override {
        if (++turns >= stop_after) loop->stop();
    }
};

}  // namespace

TEST_CASE("image_chunk takes exactly the announced bytes, NULs included") {
    CHECK(image_chunk(payload("3", "a\0b"s)) == std::optional<std::string_view>("a\0b"sv));
    CHECK(image_chunk(payload("0", "")) == std::optional<std::string_view>(""sv));
    CHECK_FALSE(image_chunk(payload("4", "a\0b"s)));   // fewer bytes than announced
    CHECK_FALSE(image_chunk(payload("2", "a\0b"s)));   // more
    CHECK_FALSE(image_chunk(payload("x", "abc")));     // not a number
    CHECK_FALSE(image_chunk("live-update\0-b\0003\0abc\0"s));  // not -d
    CHECK_FALSE(image_chunk("live-update\0-d\0"s));    // no size
    std::string no_final_nul = payload("3", "abc");
    no_final_nul.back() = 'x';
    CHECK_FALSE(image_chunk(no_final_nul));
}

TEST_CASE("the poll loop reports the ready fds by token, once per turn, and ends the turn") {
    ScriptedPlatform p;
    auto loop = stub::make_poll_loop(p);
    Recorder r;
    r.loop = loop.get();
    loop->watch_readable(10, 1);
    loop->watch_readable(11, 2);
    loop->watch_readable(10, 3);  // watching again replaces the token
    p.script = {{true, false}, {false, true}, {false, false}};
    r.stop_after = 3;
    loop->run(r);
    CHECK(r.turns == 3);
    CHECK(r.readable == (std::vector<int>{2, 3}));
    REQUIRE(p.waited_fds.size() == 3);
    CHECK(p.waited_fds[0] == (std::vector<int>{11, 10}));
    loop->unwatch(11);
    r.turns = 0;
    r.stop_after = 1;
    loop->run(r);
    CHECK(p.waited_fds.back() == (std::vector<int>{10}));
}

TEST_CASE("the poll loop waits until the deadline and forgets it once passed") {
    ScriptedPlatform p;
    auto loop = stub::make_poll_loop(p);
    Recorder r;
    r.loop = loop.get();
    auto past = Clock::now() - std::chrono::seconds(1);
    loop->set_deadline(past);
    loop->run(r);
    loop->run(r);
    REQUIRE(p.waited_until.size() == 2);
    CHECK(p.waited_until[0] == past);
    CHECK_FALSE(p.waited_until[1].has_value());
    auto later = Clock::now() + std::chrono::hours(1);
    loop->set_deadline(later);
    loop->run(r);
    loop->run(r);
    CHECK(p.waited_until[3] == later);  // not reached: kept
}

TEST_CASE("the poll loop ends when the platform is asked to stop, before delivering anything") {
    ScriptedPlatform p;
    auto loop = stub::make_poll_loop(p);
    Recorder r;
    r.loop = loop.get();
    r.stop_after = 100;
    loop->watch_readable(10, 1);
    p.script = {{true}};
    p.stop = true;
    loop->run(r);
    CHECK(r.turns == 0);
    CHECK(r.readable.empty());
}

TEST_CASE("without sockets the poll loop is quiet as soon as it quiesces") {
    ScriptedPlatform p;
    auto loop = stub::make_poll_loop(p);
    CHECK_FALSE(loop->quiet());
    loop->quiesce();
    CHECK(loop->quiet());
    loop->resume();
    CHECK_FALSE(loop->quiet());
    CHECK(loop->release_socket(1) == -1);
    CHECK(std::string(loop->name()) == "poll");
}
