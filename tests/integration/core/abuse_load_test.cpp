// Load-shaped abuse over the socket (xsa.md: XSA-326/416 unread replies,
// XSA-418 deep trees, XSA-349 event floods): memory stays bounded, replies
// arrive complete and in order, recursion does not overflow a small stack.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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

constexpr std::size_t kMiB = 1u << 20;

// The highest RSS seen while sampling for `span`.
std::size_t peak_rss(Daemon& d, std::chrono::milliseconds span) {
    std::size_t peak = d.rss().value_or(0);
    auto deadline = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
        peak = std::max(peak, d.rss().value_or(0));
    }
    return peak;
}

// Sends as much of `data` from `sent` on as the socket takes without blocking.
void send_some(int fd, const std::string& data, std::size_t& sent) {
    while (sent < data.size()) {
        ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<std::size_t>(n);
    }
}

std::string chain(std::string_view top, std::size_t levels) {
    std::string p(top);
    for (std::size_t i = 0; i < levels; ++i) p += "/a";
    return p;
}

}  // namespace

TEST_CASE("10,000 pipelined requests with unread replies: memory bounded, replies in order") {
    Harness h;
    auto& c = h.client();
    const std::string value(4000, 'R');  // 10,000 replies would be 40 MB if all were queued
    REQUIRE(outcome(c.write("/pipe/v", value)) == "OK");
    for (int i = 0; i < 50; ++i) REQUIRE(outcome(c.read("/pipe/v")) == "OK");  // warm up
    auto rss0 = h.daemon().rss();
    REQUIRE(rss0);

    const std::uint32_t kCount = 10000;
    std::string requests;
    for (std::uint32_t i = 0; i < kCount; ++i) requests += raw_message(wire::kRead, "/pipe/v\0"s, i + 1);

    int fd = h.daemon().connect_fd();
    REQUIRE(fd >= 0);
    Client reader(xs::client::unix_channel(::dup(fd)));
    std::size_t sent = 0;
    send_some(fd, requests, sent);
    // Do not read for a while: let the daemon do whatever it does with a peer that does not read.
    std::size_t peak = peak_rss(h.daemon(), scaled(2000ms));
    send_some(fd, requests, sent);
    peak = std::max(peak, peak_rss(h.daemon(), scaled(1000ms)));

    // Now read everything, sending the rest as the daemon takes it.
    std::uint32_t next = 1;
    bool in_order = true;
    bool payload_ok = true;
    auto deadline = std::chrono::steady_clock::now() + scaled(120000ms);
    while (next <= kCount && std::chrono::steady_clock::now() < deadline) {
        send_some(fd, requests, sent);
        auto m = reader.receive(100ms);
        if (!m) {
            if (reader.closed()) break;
            continue;
        }
        if (m->header.req_id != next || m->header.type != wire::kRead) in_order = false;
        if (m->payload != value) payload_ok = false;
        ++next;
        if (next % 1000 == 0) peak = std::max(peak, h.daemon().rss().value_or(0));
    }
    ::close(fd);
    CHECK_MESSAGE(next == kCount + 1, "received " << (next - 1) << " of " << kCount << " replies");
    CHECK(in_order);
    CHECK(payload_ok);
    std::size_t growth = peak > *rss0 ? peak - *rss0 : 0;
    CHECK_MESSAGE(growth < scaled_bytes(32 * kMiB), "RSS grew by " << growth / 1024 << " KiB");
}

TEST_CASE("a watcher that never reads does not block writers; memory stays bounded") {
    Harness h;
    auto& writer = h.client();
    auto rss0 = h.daemon().rss();
    REQUIRE(rss0);
    int fd = h.daemon().connect_fd();
    REQUIRE(fd >= 0);
    Client watcher(xs::client::unix_channel(fd));
    const std::string token(200, 't');
    REQUIRE(outcome(watcher.watch("/flood", token)) == "OK");
    // 10,000 changes under the watch, while the watcher reads nothing.
    std::vector<std::uint32_t> ids;
    for (int i = 0; i < 10000; ++i) {
        ids.push_back(writer.send(wire::kWrite, "/flood/n" + std::to_string(i % 2000) + '\0' + "v"));
        if (ids.size() == 200) {
            for (auto id : ids) REQUIRE(summary(writer.wait_reply(id)) == "OK");
            ids.clear();
        }
    }
    for (auto id : ids) REQUIRE(summary(writer.wait_reply(id)) == "OK");
    std::size_t peak = peak_rss(h.daemon(), scaled(500ms));
    std::size_t growth = peak > *rss0 ? peak - *rss0 : 0;
    CHECK_MESSAGE(growth < scaled_bytes(64 * kMiB), "RSS grew by " << growth / 1024 << " KiB");
    // The watcher still works: whatever events it gets are well-formed, then its replies.
    std::size_t events = 0;
    bool well_formed = true;
    while (auto m = watcher.next_event(200ms)) {
        auto e = parse_event(*m);
        if (e.token != token || e.path.rfind("/flood", 0) != 0) well_formed = false;
        ++events;
    }
    CHECK(well_formed);
    CHECK(events >= 1);
    CHECK(events <= 10001);
    CHECK(outcome(watcher.read("/flood/n1")) == "OK");
}

// docs/operations.md, --event-queue: past N waiting events a connection's
// further events are dropped (and logged); another watcher gets every one.
TEST_CASE("--event-queue N: a socket watcher that never reads keeps at most N waiting events, others get all") {
    Harness h(DaemonOptions::with_args({"--event-queue", "20"}));
    auto& writer = h.client();
    int idle_fd = h.daemon().connect_fd(), reader_fd = h.daemon().connect_fd();
    REQUIRE(idle_fd >= 0);
    REQUIRE(reader_fd >= 0);
    Client idle(xs::client::unix_channel(idle_fd));
    Client reader(xs::client::unix_channel(reader_fd));
    // Big events fill the idle watcher's socket buffer soon; after that
    // they wait in the daemon, 20 at most.
    const std::string token(3000, 'i');
    REQUIRE(outcome(idle.watch("/q", token)) == "OK");
    REQUIRE(outcome(reader.watch("/q", "r")) == "OK");
    REQUIRE(reader.next_event(scaled(2000ms)));  // the initial event
    constexpr int kWrites = 400;
    for (int i = 0; i < kWrites; ++i) {
        REQUIRE(outcome(writer.write("/q/n" + std::to_string(i), "v")) == "OK");
        auto ev = reader.next_event(scaled(2000ms));
        REQUIRE(ev);
        CHECK(parse_event(*ev).path == "/q/n" + std::to_string(i));
    }
    CHECK(h.daemon().stderr_text().find("dropped: 20 are waiting") != std::string::npos);
    std::size_t events = 0;
    while (auto m = idle.next_event(scaled(300ms))) ++events;
    CHECK(events < kWrites);  // some were dropped
    CHECK(events >= 20);
    CHECK(outcome(idle.read("/q/n1")) == "OK");  // and it is still served
}

TEST_CASE("a 1500-level chain is created, read, watched and removed (small stack)") {
    Harness h(DaemonOptions::with_stack(scaled_bytes(1 * kMiB)));
    auto& c = h.client();
    std::string deep = chain("/deep", 1500);
    REQUIRE(deep.size() < 4000);
    REQUIRE(outcome(c.write(deep, "bottom")) == "OK");
    CHECK(value(c.read(deep)) == "bottom");
    CHECK(joined(c.get_perms(deep)) == "n0");
    CHECK(joined(c.directory(chain("/deep", 750))) == "a");
    REQUIRE(outcome(c.watch(deep, "bottom")) == "OK");
    REQUIRE(outcome(c.watch("/deep", "top")) == "OK");
    REQUIRE(take_events(c).size() == 2);
    CHECK(value(c.control({"check"})) == "OK");
    REQUIRE(outcome(c.rm("/deep")) == "OK");
    CHECK(joined(sorted(take_events(c))) == "/deep|top;" + deep + "|bottom");
    CHECK(outcome(c.read(deep)) == "ENOENT");
    CHECK(outcome(c.read("/deep/a")) == "ENOENT");
    CHECK(value(c.control({"check"})) == "OK");
}

TEST_CASE("the deepest chain a payload can name (2047 levels), in and out of a transaction") {
    Harness h(DaemonOptions::with_stack(scaled_bytes(1 * kMiB)));
    auto& c = h.client();
    std::string deepest = chain("", 2047);  // 4094 characters + NUL = 4095 bytes
    REQUIRE(outcome(c.mkdir(deepest)) == "OK");
    CHECK(outcome(c.read(deepest)) == "OK");
    REQUIRE(outcome(c.rm("/a")) == "OK");
    CHECK(outcome(c.read("/a")) == "ENOENT");

    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(c.mkdir(deepest, *t)) == "OK");
    CHECK(outcome(c.read(deepest, *t)) == "OK");
    REQUIRE(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(outcome(c.read(deepest)) == "OK");
    auto t2 = c.transaction_start();
    REQUIRE(outcome(t2) == "OK");
    REQUIRE(outcome(c.rm("/a", *t2)) == "OK");
    REQUIRE(outcome(c.transaction_end(*t2, true)) == "OK");
    CHECK(outcome(c.read("/a")) == "ENOENT");
    CHECK(value(c.control({"check"})) == "OK");
}

TEST_CASE("watch/reset churn does not leak (XSA-330)") {
    Harness h;
    auto& c = h.client();
    REQUIRE(sync(c));
    auto rss0 = h.daemon().rss();
    REQUIRE(rss0);
    for (std::uint32_t round = 0; round < 200; ++round) {
        std::string batch;
        std::uint32_t base = 100000 + round * 100;
        for (std::uint32_t i = 0; i < 50; ++i) {
            batch += raw_message(wire::kWatch, "/churnw/" + std::to_string(i) + '\0' + "tok" + '\0', base + i);
        }
        batch += raw_message(wire::kResetWatches, ""s, base + 50);
        REQUIRE(c.send_raw(batch));
        for (std::uint32_t i = 0; i <= 50; ++i) REQUIRE(summary(c.wait_reply(base + i)) == "OK");
        while (c.queued_events() > 0) c.next_event(0ms);
    }
    REQUIRE(outcome(c.write("/churnw/0", "")) == "OK");
    CHECK(take_events(c).empty());
    auto rss1 = h.daemon().rss();
    REQUIRE(rss1);
    CHECK_MESSAGE(*rss1 < *rss0 + scaled_bytes(16 * kMiB), "RSS grew from " << *rss0 << " to " << *rss1);
}
