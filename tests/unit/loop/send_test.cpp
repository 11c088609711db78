// Sends: partial completion, resumption, iovec lists, and the end of turn.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "tests/unit/loop/harness.hpp"

using namespace xs::daemon;
using namespace xs::daemon::testing;

namespace {

// Sends `data` on `id`, re-sending the rest after every partial on_sent.
struct BulkSender {
    EventLoop& loop;
    ConnId id;
    const std::string& data;
    std::size_t done = 0;
    int partials = 0;

    void start() { next(); }
    void next() {
        iovec v{const_cast<char*>(data.data()) + done, data.size() - done};
        loop.send(id, std::span<const iovec>(&v, 1));
    }
    void sent(std::size_t n) {
        std::size_t asked = data.size() - done;
        CHECK(n <= asked);
        if (n < asked) ++partials;
        done += n;
        if (done < data.size()) next();
    }
};

}  // namespace

TEST_CASE_TEMPLATE("a large send completes in parts, resumed through on_sent", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    ::fcntl(theirs, F_SETFL, ::fcntl(theirs, F_GETFL) | O_NONBLOCK);
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    const std::string data = pattern(8 << 20);
    BulkSender bulk{*loop, 1, data};
    rec.sent_hook = [&](ConnId, std::size_t n) { bulk.sent(n); };

    // The peer is read from the loop's own thread, between deliveries, so
    // no read runs while a send is being written: the socket holds far less
    // than 8 MiB, hence at least the first completion must be partial.
    std::string got;
    loop->watch_readable(theirs, 1);
    rec.readable_hook = [&](int) {
        char buf[65536];
        ssize_t n;
        while ((n = ::read(theirs, buf, sizeof buf)) > 0) got.append(buf, std::size_t(n));
    };
    bulk.start();
    REQUIRE(rec.run_until([&] { return bulk.done == data.size() && got.size() == data.size(); },
                          30s));
    CHECK(bulk.partials >= 1);
    CHECK(got == data);
    loop->unwatch(theirs);
    ::close(theirs);
}

TEST_CASE_TEMPLATE("a send of several buffers arrives in order", TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    std::string a = "first-", b, c = "third";
    std::vector<iovec> iov{{a.data(), a.size()}, {b.data(), 0}, {c.data(), c.size()}};
    loop->send(1, iov);
    iov.clear();  // the loop keeps its own copy of the list
    REQUIRE(rec.run_until([&] { return !rec.sent[1].empty(); }));
    CHECK(rec.sent[1] == std::vector<std::size_t>{a.size() + c.size()});
    CHECK(read_exact(theirs, 11) == "first-third");
    ::close(theirs);
}

TEST_CASE_TEMPLATE("a send of more than IOV_MAX buffers is completed by the daemon", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    const std::string data = pattern(3000, 5);
    std::vector<iovec> iov;
    for (std::size_t i = 0; i < data.size(); ++i)
        iov.push_back({const_cast<char*>(data.data()) + i, 1});
    std::size_t done = 0;
    rec.sent_hook = [&](ConnId, std::size_t n) {
        done += n;
        if (done < data.size())
            loop->send(1, std::span<const iovec>(iov).subspan(done));
    };
    loop->send(1, iov);
    REQUIRE(rec.run_until([&] { return done == data.size(); }));
    CHECK(rec.sent[1].size() >= 3);  // at most 1024 one-byte buffers per send
    CHECK(read_exact(theirs, data.size()) == data);
    ::close(theirs);
}

TEST_CASE_TEMPLATE("an empty send completes with zero bytes", TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    loop->send(1, {});
    REQUIRE(rec.run_until([&] { return !rec.sent[1].empty(); }));
    CHECK(rec.sent[1] == std::vector<std::size_t>{0});
    ::close(theirs);
}

TEST_CASE_TEMPLATE("sends queued in a turn go out at its end, one send per connection each",
                   TestType, LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    constexpr int kConns = 50;
    std::vector<int> peers;
    for (int i = 1; i <= kConns; ++i) {
        auto [mine, theirs] = socket_pair();
        loop->add_socket(ConnId(i), mine);
        peers.push_back(theirs);
    }
    Recorder rec(*loop);
    std::vector<std::string> replies;
    for (int i = 1; i <= kConns; ++i) replies.push_back("reply " + std::to_string(i));
    // All sends are queued from one turn's end, as the daemon does.
    bool queued = false;
    rec.turn_hook = [&] {
        if (queued) return;
        queued = true;
        for (int i = 1; i <= kConns; ++i) {
            iovec v{replies[i - 1].data(), replies[i - 1].size()};
            loop->send(ConnId(i), std::span<const iovec>(&v, 1));
        }
    };
    rec.run_turns(1);  // queues them
    REQUIRE(rec.run_until([&] { return int(rec.sent.size()) == kConns; }));
    for (int i = 1; i <= kConns; ++i) {
        CHECK(rec.sent[ConnId(i)] == std::vector<std::size_t>{replies[i - 1].size()});
        CHECK(read_exact(peers[i - 1], replies[i - 1].size()) == replies[i - 1]);
        ::close(peers[i - 1]);
    }
}

TEST_CASE_TEMPLATE("submit_sends starts the sends queued so far before the turn ends", TestType,
                   LOOP_BACKENDS) {
    MAKE_LOOP(loop);
    auto [mine, theirs] = socket_pair();
    loop->add_socket(1, mine);
    Recorder rec(*loop);
    std::string reply = "early reply";
    int queued_before = -1, after_submit = -1;
    bool done = false;
    // The daemon's way: a reply queued, submitted at once, then more work
    // in the same turn; the peer has the bytes while that work runs.
    rec.turn_hook = [&] {
        if (done) return;
        done = true;
        iovec v{reply.data(), reply.size()};
        loop->send(1, std::span<const iovec>(&v, 1));
        queued_before = bytes_queued(theirs);
        loop->submit_sends();
        after_submit = bytes_queued(theirs);
    };
    rec.run_turns(1);
    CHECK(queued_before == 0);
    CHECK(after_submit == static_cast<int>(reply.size()));
    // Completion comes as usual, in a later turn, and only once.
    REQUIRE(rec.run_until([&] { return !rec.sent[1].empty(); }));
    rec.run_turns(2);
    CHECK(rec.sent[1] == std::vector<std::size_t>{reply.size()});
    CHECK(read_exact(theirs, reply.size()) == reply);
    ::close(theirs);
}
