#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <string>
#include <vector>

#include "bench/conn.hpp"
#include "bench/proc_stats.hpp"
#include "bench/stream.hpp"
#include "transport/wire.hpp"

using namespace xs::bench;
using namespace xs::wire;

namespace {

// A connection whose far end the test plays by hand.
struct Pair {
    int far = -1;
    std::unique_ptr<Conn> conn;
    explicit Pair(std::size_t window) {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        far = sv[1];
        conn = std::make_unique<Conn>(unix_stream(sv[0]), window, 0);
    }
    ~Pair() { ::close(far); }

    std::vector<Header> requests() {
        std::string buf(65536, '\0');
        ssize_t n = ::recv(far, buf.data(), buf.size(), 0);
        REQUIRE(n > 0);
        buf.resize(static_cast<std::size_t>(n));
        std::vector<Header> out;
        for (std::size_t pos = 0; pos < buf.size();) {
            Header h;
            std::memcpy(&h, buf.data() + pos, sizeof h);
            out.push_back(h);
            pos += kHeaderSize + h.len;
        }
        return out;
    }
    void reply(std::uint32_t type, std::uint32_t req, std::string_view payload) {
        std::string s;
        append_message(s, Header{type, req, 0, 0}, payload);
        REQUIRE(::send(far, s.data(), s.size(), 0) == static_cast<ssize_t>(s.size()));
    }
    // Every complete message now readable, as (kind, tag or token).
    std::vector<std::pair<Conn::Kind, std::string>> drain() {
        bool filled = false;
        conn->fill_input(filled);
        std::vector<std::pair<Conn::Kind, std::string>> got;
        Reply r{};
        Event e{};
        for (;;) {
            auto k = conn->next(r, e, 1000);
            REQUIRE(k.has_value());
            if (*k == Conn::Kind::kNone) return got;
            got.emplace_back(*k, *k == Conn::Kind::kReply ? std::to_string(r.tag) : std::string(e.token));
        }
    }
};

}  // namespace

TEST_CASE("requests leave in one batch and replies are matched by req_id, in any order") {
    Pair p(4);
    std::uint32_t a = p.conn->send(kRead, 0, {std::string_view("/a\0", 3)}, 100, 0);
    std::uint32_t b = p.conn->send(kWrite, 5, {std::string_view("/b\0", 3), "value"}, 200, 0);
    std::uint32_t c = p.conn->send(kRead, 0, {std::string_view("/c\0", 3)}, 300, 0);
    CHECK(p.conn->in_flight() == 3);
    REQUIRE(p.conn->flush());
    auto reqs = p.requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[1].type == kWrite);
    CHECK(reqs[1].tx_id == 5);
    CHECK(reqs[1].len == 8);
    CHECK(a != b);
    CHECK(b != c);
    CHECK(a != 0);

    p.reply(kRead, c, "x");
    p.reply(kError, b, std::string_view("EAGAIN\0", 7));
    p.reply(kWatchEvent, 0, std::string_view("/w\0tok\0", 7));
    p.reply(kRead, a, "y");
    auto got = p.drain();
    REQUIRE(got.size() == 4);
    CHECK(got[0].second == "300");
    CHECK(got[1].second == "200");
    CHECK(got[2].first == Conn::Kind::kEvent);
    CHECK(got[2].second == "tok");
    CHECK(got[3].second == "100");
    CHECK(p.conn->in_flight() == 0);
}

TEST_CASE("the window bounds requests in flight") {
    Pair p(2);
    CHECK(p.conn->can_send());
    p.conn->send(kRead, 0, {"/a"}, 0, 0);
    p.conn->send(kRead, 0, {"/a"}, 0, 0);
    CHECK_FALSE(p.conn->can_send());
}

TEST_CASE("a reply nobody asked for, or of the wrong type, is an error") {
    {
        Pair p(1);
        p.reply(kRead, 77, "x");
        bool filled = false;
        p.conn->fill_input(filled);
        Reply r{};
        Event e{};
        CHECK_FALSE(p.conn->next(r, e, 0).has_value());
    }
    {
        Pair p(1);
        std::uint32_t id = p.conn->send(kRead, 0, {"/a"}, 0, 0);
        REQUIRE(p.conn->flush());
        p.reply(kWrite, id, "OK");
        bool filled = false;
        p.conn->fill_input(filled);
        Reply r{};
        Event e{};
        auto k = p.conn->next(r, e, 0);
        REQUIRE_FALSE(k.has_value());
        CHECK(k.error().message.find("WRITE") != std::string::npos);
    }
}

TEST_CASE("the latency of a reply is its receipt time minus its send time") {
    Pair p(1);
    std::uint32_t id = p.conn->send(kRead, 0, {"/a"}, 9, 1000);
    REQUIRE(p.conn->flush());
    p.reply(kRead, id, "v");
    bool filled = false;
    p.conn->fill_input(filled);
    Reply r{};
    Event e{};
    REQUIRE(p.conn->next(r, e, 4500).value() == Conn::Kind::kReply);
    CHECK(r.latency_ns == 3500);
    CHECK(r.tag == 9);
    CHECK(r.payload == "v");
}

TEST_CASE("replies larger than the protocol maximum are accepted (oxenstored's DIRECTORY)") {
    Pair p(1);
    std::uint32_t id = p.conn->send(kDirectory, 0, {"/big"}, 0, 0);
    REQUIRE(p.conn->flush());
    std::string big(300000, 'n');
    std::string msg;
    append_message(msg, Header{kDirectory, id, 0, 0}, big);
    std::thread writer([&] { ::send(p.far, msg.data(), msg.size(), 0); });
    Reply r{};
    Event e{};
    Conn::Kind k = Conn::Kind::kNone;
    while (k == Conn::Kind::kNone) {
        bool filled = false;
        REQUIRE(p.conn->fill_input(filled) >= 0);
        auto n = p.conn->next(r, e, 0);
        REQUIRE(n.has_value());
        k = *n;
    }
    writer.join();
    CHECK(r.payload.size() == big.size());
}

TEST_CASE("process facts: the peer of a socketpair is this process") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(peer_pid(sv[0]).value_or(-1) == ::getpid());
    ::close(sv[0]);
    ::close(sv[1]);
    CHECK(cpu_seconds(::getpid()).has_value());
    CHECK(cpu_seconds_from_stat(::getpid()).has_value());
    CHECK(peak_rss_kib(::getpid()).value_or(0) > 0);
    CHECK(process_name(::getpid()).value_or("") == "unit-bench");
}

TEST_CASE("status fields and placement labels") {
    std::string status = "Name:\tx\nVmHWM:\t    2176 kB\nVmRSS:\t  1000 kB\n";
    CHECK(status_field_kib(status, "VmHWM").value_or(-1) == 2176);
    CHECK(status_field_kib(status, "VmRSS").value_or(-1) == 1000);
    CHECK_FALSE(status_field_kib(status, "VmSwap").has_value());
    CHECK_FALSE(status_field_kib("VmHWMX:\t1 kB\n", "VmHWM").has_value());
    CHECK(placement_label({0}, {0}) == "same-cpu");
    CHECK(placement_label({0}, {1}) == "split");
    CHECK(placement_label({0, 1}, {1}) == "unpinned");
}
