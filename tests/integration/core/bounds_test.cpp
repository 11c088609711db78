// The bounds on what one socket client that never reads can make the
// daemon hold (docs/security.md, "Resource bounds"), each exceeded: the
// client is paused or loses events as documented, the queue stays within
// the bound (CONTROL memreport counts it), and other clients are served.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;
namespace wire = xs::wire;

namespace {

constexpr std::size_t kOverhead = 128;  // bookkeeping per queued message (docs/operations.md)

// Bytes queued for every connection, bookkeeping included (CONTROL memreport).
std::size_t queued_cost(Client& c) {
    auto text = c.control({"memreport"});
    REQUIRE(text.has_value());
    auto at = text->find("queued output: ");
    REQUIRE(at != std::string::npos);
    unsigned long long bytes = 0, cost = 0;
    REQUIRE(std::sscanf(text->c_str() + at, "queued output: %llu bytes (%llu with bookkeeping)", &bytes, &cost) == 2);
    return cost;
}

void send_some(int fd, const std::string& data, std::size_t& sent) {
    while (sent < data.size()) {
        ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<std::size_t>(n);
    }
}

}  // namespace

TEST_CASE("--socket-queue BYTES: a client that does not read is paused at the bound; others are served") {
    constexpr std::size_t kBound = 65536;
    Harness h(DaemonOptions::with_args({"--socket-queue", std::to_string(kBound)}));
    auto& other = h.client();
    const std::string big(4000, 'R');
    REQUIRE(outcome(other.write("/sq/v", big)) == "OK");
    constexpr std::uint32_t kCount = 2000;  // 8 MB of replies
    std::string requests;
    for (std::uint32_t i = 0; i < kCount; ++i) requests += raw_message(wire::kRead, "/sq/v\0"s, i + 1);
    int fd = h.daemon().connect_fd();
    REQUIRE(fd >= 0);
    Client idle(xs::client::unix_channel(fd));
    std::size_t sent = 0;
    std::size_t peak = 0;
    // Its replies fill the socket buffer, then the daemon's queue up to the bound.
    auto until = std::chrono::steady_clock::now() + scaled(10000ms);
    while (peak <= kBound && std::chrono::steady_clock::now() < until) {
        send_some(fd, requests, sent);
        peak = std::max(peak, queued_cost(other));
    }
    CHECK(peak > kBound);
    const std::size_t kMaxReply = wire::kHeaderSize + big.size() + kOverhead;
    for (int i = 0; i < 20; ++i) {
        send_some(fd, requests, sent);
        peak = std::max(peak, queued_cost(other));
        // Everyone else keeps being served meanwhile.
        REQUIRE(outcome(other.write("/sq/o" + std::to_string(i), "x")) == "OK");
        auto third = h.connect();
        REQUIRE(value(third->read("/sq/o" + std::to_string(i))) == "x");
    }
    CAPTURE(peak);
    // 8 MB of replies were asked for; the socket buffers hold a few
    // hundred KB: the rest were not produced.
    CHECK(peak <= kBound + kMaxReply);
    // Reading, it gets every reply in order.
    std::uint32_t next = 1;
    bool in_order = true;
    auto deadline = std::chrono::steady_clock::now() + scaled(60000ms);
    while (next <= kCount && std::chrono::steady_clock::now() < deadline) {
        send_some(fd, requests, sent);
        auto m = idle.receive(100ms);
        if (!m) continue;
        if (m->header.req_id != next || m->payload != big) in_order = false;
        ++next;
    }
    CHECK(next == kCount + 1);
    CHECK(in_order);
}

TEST_CASE("--event-queue-bytes BYTES: a dom0 watcher that never reads holds at most BYTES of events; "
          "others get every event") {
    constexpr std::size_t kBound = 262144;
    Harness h(DaemonOptions::with_args({"--event-queue-bytes", std::to_string(kBound)}));
    auto& writer = h.client();
    int idle_fd = h.daemon().connect_fd();
    REQUIRE(idle_fd >= 0);
    Client idle(xs::client::unix_channel(idle_fd));
    auto reader = h.connect();
    // Long paths and a long token: about 4 KiB an event, so a count bound
    // alone (65536 by default) would allow 270 MB.
    const std::string token(3000, 'i');
    REQUIRE(outcome(idle.watch("/e", token)) == "OK");
    REQUIRE(outcome(reader->watch("/e", "r")) == "OK");
    REQUIRE(reader->next_event(scaled(2000ms)));  // the initial event
    const std::string name(1000, 'n');
    constexpr int kWrites = 300;  // 1.2 MB of events for the idle watcher
    std::size_t peak = 0;
    for (int i = 0; i < kWrites; ++i) {
        std::string path = "/e/" + name + std::to_string(i);
        REQUIRE(outcome(writer.write(path, "v")) == "OK");
        auto ev = reader->next_event(scaled(2000ms));
        REQUIRE(ev);
        CHECK(parse_event(*ev).path == path);
        if (i % 20 == 19) peak = std::max(peak, queued_cost(writer));
    }
    CAPTURE(peak);
    CHECK(peak <= kBound);
    CHECK(h.daemon().stderr_text().find("dropped:") != std::string::npos);
    std::size_t events = 0;
    while (auto m = idle.next_event(scaled(300ms))) ++events;
    CHECK(events < static_cast<std::size_t>(kWrites));  // some were dropped
    CHECK(events >= kBound / (16 + 1004 + 3002 + kOverhead));  // at least what fits
    CHECK(outcome(idle.read("/e")) == "OK");  // and it is still served
}
