// Abuse of the framing over the socket (xsa.md: XSA-38/420 header lengths,
// truncated messages, connections that close at awkward moments, connection
// churn). Every test ends with the harness checking that the daemon is alive
// and answers a new connection.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;
namespace wire = xs::wire;

namespace {

// Waits (bounded) until `pred` holds; true if it did.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

// CPU the daemon burns over one second while nobody talks to it.
std::chrono::milliseconds idle_cpu(Daemon& d) {
    auto before = d.cpu();
    std::this_thread::sleep_for(1s);
    auto after = d.cpu();
    if (!before || !after) return std::chrono::milliseconds::max();
    return *after - *before;
}

// A bystander: a connection with a watch, opened before the abuse, must keep working.
struct Bystander {
    std::unique_ptr<Client> conn;
    explicit Bystander(Harness& h) : conn(h.connect()) {
        REQUIRE(outcome(conn->watch("/bystander", "b")) == "OK");
        REQUIRE(take_events(*conn).size() == 1);
    }
    void check(Client& writer, const std::string& value) {
        REQUIRE(outcome(writer.write("/bystander", value)) == "OK");
        CHECK(joined(take_events(*conn)) == "/bystander|b");
        CHECK(value_of_read() == value);
    }
    std::string value_of_read() { return xs::testing::value(conn->read("/bystander")); }
};

}  // namespace

TEST_CASE("a header announcing more than 4096 bytes closes that connection only") {
    Harness h;
    Bystander by(h);
    for (std::uint32_t len : {4097u, 0x40000001u, 0x80000000u, 0xFFFFFFFFu}) {
        for (std::uint32_t type : {std::uint32_t{wire::kRead}, std::uint32_t{wire::kWrite}, std::uint32_t{27}}) {
            CAPTURE(len);
            CAPTURE(type);
            auto bad = h.connect();
            REQUIRE(bad->send_raw(raw_header(type, 1, 0, len)));
            bad->send_raw(std::string(64, 'x'));  // a little payload; may fail if already closed
            auto closed = wait_closed(*bad, scaled(5000ms));
            CHECK(closed.outcome == CloseOutcome::Closed);
            if (closed.message) CHECK(summary(closed.message) == "<no message expected>");
        }
    }
    by.check(h.client(), "after-oversized");
    CHECK(idle_cpu(h.daemon()) < 500ms);
}

TEST_CASE("a request of exactly 4096 payload bytes is accepted") {
    Harness h;
    auto& c = h.client();
    std::string path = "/" + std::string(4094, 'm');
    auto r = c.call(wire::kMkdir, path + '\0');
    CHECK(summary(r) == "OK");
    CHECK(outcome(c.read(path)) == "OK");
}

TEST_CASE("a request sent one byte at a time is answered once it is complete") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/slow", "drip")) == "OK");
    std::string msg = raw_message(wire::kRead, "/slow\0"s, 31337);
    for (std::size_t i = 0; i + 1 < msg.size(); ++i) {
        REQUIRE(c.send_raw(msg.substr(i, 1)));
        if (i == 7 || i == 15 || i == 17) {
            // Mid-header, end of header, mid-payload: nothing may come back yet.
            CHECK(!c.receive(50ms));
        }
    }
    REQUIRE(c.send_raw(msg.substr(msg.size() - 1)));
    auto r = c.wait_reply(31337);
    REQUIRE(r);
    CHECK(r->header.type == wire::kRead);
    CHECK(r->payload == "drip");
}

TEST_CASE("many requests in one send are all answered, in order") {
    Harness h;
    auto& c = h.client();
    std::string batch;
    for (std::uint32_t i = 0; i < 200; ++i) {
        batch += raw_message(wire::kWrite, "/batch/n" + std::to_string(i % 10) + '\0' + std::to_string(i), 5000 + i);
    }
    REQUIRE(c.send_raw(batch));
    for (std::uint32_t i = 0; i < 200; ++i) {
        auto r = c.receive(c.timeout);
        REQUIRE(r);
        CHECK(r->header.req_id == 5000 + i);
        CHECK(summary(r) == "OK");
    }
    CHECK(value(c.read("/batch/n9")) == "199");
}

TEST_CASE("connections that close mid-header, mid-payload or before their reply") {
    Harness h;
    Bystander by(h);
    std::string full = raw_message(wire::kWrite, "/partial\0value"s, 9);
    for (std::size_t cut : {std::size_t{1}, std::size_t{8}, std::size_t{15}, std::size_t{16}, std::size_t{20},
                            full.size() - 1}) {
        CAPTURE(cut);
        auto c = h.connect();
        REQUIRE(c->send_raw(full.substr(0, cut)));
    }
    // A truncated WRITE never happened.
    CHECK(outcome(h.client().read("/partial")) == "ENOENT");
    {
        // The whole request, then gone before reading the reply.
        auto c = h.connect();
        REQUIRE(c->send_raw(full));
    }
    by.check(h.client(), "after-partial");
}

TEST_CASE("a connection that closes with 100 requests queued and unread replies") {
    Harness h;
    Bystander by(h);
    auto& c = h.client();
    REQUIRE(outcome(c.write("/bulk", std::string(4000, 'b'))) == "OK");
    for (int round = 0; round < 5; ++round) {
        auto gone = h.connect();
        std::string batch;
        for (std::uint32_t i = 0; i < 100; ++i) {
            batch += raw_message(i % 2 ? wire::kRead : wire::kWrite,
                                 i % 2 ? "/bulk\0"s : "/queued/n" + std::to_string(i) + '\0' + "v", i + 1);
        }
        REQUIRE(gone->send_raw(batch));
        // Also a watch whose events will be pending at close.
        gone->send_raw(raw_message(wire::kWatch, "/queued\0t\0"s, 999));
    }
    by.check(c, "after-queued");
    CHECK(outcome(c.control({"check"})) == "OK");
}

TEST_CASE("1000 connections opened and closed: no descriptor or memory left behind") {
    Harness h;
    auto& c = h.client();
    REQUIRE(sync(c));
    auto fds0 = h.daemon().fds();
    auto rss0 = h.daemon().rss();
    REQUIRE(fds0);
    REQUIRE(rss0);
    for (int i = 0; i < 1000; ++i) {
        if (i % 10 == 0) {
            auto conn = h.connect();
            REQUIRE(outcome(conn->write("/churn/n" + std::to_string(i % 50), "x")) == "OK");
            if (i % 20 == 0) conn->send_raw(raw_message(wire::kWatch, "/churn\0t\0"s, 1));
        } else {
            int fd = h.daemon().connect_fd();
            REQUIRE(fd >= 0);
            ::close(fd);
        }
    }
    REQUIRE(sync(c));
    bool fds_back = eventually([&] {
        auto n = h.daemon().fds();
        return n && *n <= *fds0 + 2;
    }, scaled(10000ms));
    CHECK_MESSAGE(fds_back, "open descriptors: before " << *fds0 << ", after " << h.daemon().fds().value_or(0));
    auto rss1 = h.daemon().rss();
    REQUIRE(rss1);
    CHECK_MESSAGE(*rss1 < *rss0 + scaled_bytes(16u << 20),
                  "RSS grew from " << *rss0 << " to " << *rss1 << " bytes");
}

TEST_CASE("200 connections open at the same time are all served") {
    Harness h;
    std::vector<std::unique_ptr<Client>> conns;
    for (int i = 0; i < 200; ++i) conns.push_back(h.connect());
    // Requests on every connection first, then the replies.
    std::vector<std::uint32_t> ids;
    for (int i = 0; i < 200; ++i) {
        ids.push_back(conns[i]->send(wire::kWrite, "/many/c" + std::to_string(i) + '\0' + std::to_string(i)));
    }
    for (int i = 0; i < 200; ++i) {
        auto r = conns[i]->wait_reply(ids[i]);
        REQUIRE(r);
        CHECK(summary(r) == "OK");
    }
    auto dir = h.client().directory("/many");
    REQUIRE(outcome(dir) == "OK");
    CHECK(dir->size() == 200);
}
