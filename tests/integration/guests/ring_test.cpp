// The shared ring as a guest sees it (cxenstored.md §5.9, §1.1, xsa.md
// XSA-38/325 and the ring rows of table 2): full rings in both directions,
// 32-bit index wraparound with messages straddling the buffer end, a kick
// after every read, features in the page, the page's evtchn_port, bad
// indices (error 2) and oversized lengths (error 3) cutting a guest off
// while its domain stays until it dies, the reconnection handshake, and
// re-INTRODUCE resetting the ring.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>

#include "tests/integration/guests/domain_events.hpp"
#include "tests/integration/guests/ring_access.hpp"
#include "tests/support/guest_harness.hpp"
#include "tools/fakexen/domains.hpp"
#include "tools/fakexen/evtchn.hpp"
#include "transport/ring.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;
namespace ring = xs::ring;
namespace wire = xs::wire;

using namespace guests;

TEST_CASE("INTRODUCE advertises every feature in the page and leaves error and connection at 0") {
    GuestHarness h;
    auto g = h.add_guest(1);
    CHECK(load(g.page().server_features) == 15);
    CHECK(load(g.page().error) == 0);
    CHECK(load(g.page().connection) == 0);
    CHECK(value(g->request_string(wire::kGetFeature, {})) == "15");
    CHECK(outcome(g->write("data/x", "1")) == "OK");
}

TEST_CASE("a completely full request ring (1024 bytes of requests) is answered in full") {
    GuestHarness h;
    auto g = h.add_guest(1);
    // 16 WRITEs of 64 bytes each, queued before a single kick.
    std::string all;
    for (int i = 0; i < 16; ++i)
        all += write_of_size(64, "data/f" + std::to_string(10 + i), 100 + static_cast<std::uint32_t>(i));
    REQUIRE(all.size() == ring::kRingSize);
    put(g.page(), all);
    CHECK(load(g.page().req_prod) - load(g.page().req_cons) == ring::kRingSize);
    REQUIRE(g.ring->notify().has_value());
    for (std::uint32_t i = 0; i < 16; ++i) {
        auto r = g->wait_reply(100 + i);
        CAPTURE(i);
        REQUIRE(r);
        CHECK(summary(r) == "OK");
    }
    auto listing = h.dom0().directory("/local/domain/1/data");
    REQUIRE(listing.has_value());
    CHECK(listing->size() == 16);
    CHECK(value(h.dom0().read("/local/domain/1/data/f25")) == std::string(64 - 16 - 9, 'v'));
}

TEST_CASE("indices near 2^32: requests and replies straddle the buffer end and the wrap") {
    GuestHarness h;
    auto g = h.add_guest(1);
    // An idle ring may sit at any index: move all four close to 2^32 so the
    // next message starts at offset 1008 and the indices wrap inside it.
    auto& page = g.page();
    constexpr std::uint32_t kStart = 0xFFFFFFF0u;
    move_indices(page, kStart);
    std::string v60(60, 's');
    REQUIRE(outcome(g->write("data/straddle", v60)) == "OK");
    CHECK(value(g->read("data/straddle")) == v60);
    CHECK(load(page.req_prod) < kStart);  // wrapped
    CHECK(load(page.rsp_prod) < kStart);
    // Keep going through several more laps of the ring.
    for (int i = 0; i < 60; ++i) {
        std::string v(static_cast<std::size_t>(7 * i % 300), static_cast<char>('a' + i % 26));
        REQUIRE(outcome(g->write("data/lap", v)) == "OK");
        REQUIRE(value(g->read("data/lap")) == v);
    }
    CHECK(value(h.dom0().read("/local/domain/1/data/straddle")) == v60);
}

TEST_CASE("a full response ring: the daemon waits for the guest, kicks after reading, and nothing is lost") {
    GuestHarness h;
    auto g = h.add_guest(1);
    std::string big(900, 'b');
    for (int i = 0; i < 900; ++i) big[static_cast<std::size_t>(i)] = static_cast<char>('A' + i % 50);
    REQUIRE(outcome(g->write("data/big", big)) == "OK");
    auto& page = g.page();
    // Four replies of 916 bytes do not fit into 1024: the ring fills up.
    for (std::uint32_t i = 0; i < 4; ++i) put(page, raw_message(wire::kRead, "data/big\0"s, 500 + i));
    REQUIRE(g.ring->notify().has_value());
    CHECK(eventually([&] { return load(page.rsp_prod) - load(page.rsp_cons) == ring::kRingSize; }));
    CHECK(eventually([&] { return load(page.req_cons) == load(page.req_prod); }));
    // A further request is still read, and the read is signalled, although
    // no reply can be written yet.
    g.ring->drain();
    put(page, raw_message(wire::kGetDomainPath, "1\0"s, 600));
    REQUIRE(g.ring->notify().has_value());
    CHECK(eventually([&] { return load(page.req_cons) == load(page.req_prod); }));
    CHECK(g.ring->wait(scaled(5000ms)));
    for (std::uint32_t i = 0; i < 4; ++i) {
        auto r = g->wait_reply(500 + i);
        REQUIRE(r);
        CHECK(r->payload == big);
    }
    CHECK(summary(g->wait_reply(600)) == "/local/domain/1");
}

TEST_CASE("one kick per request read and answered in the same turn; a message longer than the ring still moves") {
    GuestHarness h;
    auto g = h.add_guest(1);
    REQUIRE(outcome(g->write("data/warm", "1")) == "OK");
    auto daemon_kicks = [&] {
        auto lock = h.host().lock();
        return h.host().port(h.host().port(g.ring->port()).remote_port).sends;
    };
    std::uint32_t before = daemon_kicks();
    for (int i = 0; i < 20; ++i) REQUIRE(outcome(g->write("data/k" + std::to_string(i), "v")) == "OK");
    // Consumed and answered: one kick for both (C xenstored sends two).
    CHECK(daemon_kicks() - before == 20);
    // Two ring-fulls (within the node-size quota): the guest waits for room
    // between them, and is kicked as soon as the first is read.
    before = daemon_kicks();
    REQUIRE(outcome(g->write("data/big", std::string(1900, 'b'))) == "OK");
    CHECK(daemon_kicks() - before >= 2);
    CHECK(value(h.dom0().read("/local/domain/1/data/big")) == std::string(1900, 'b'));
}

TEST_CASE("producer index more than 1024 ahead: error 2, the guest is ignored, its domain stays until it dies") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto bad = h.add_guest(1);
    auto peer = h.add_guest(2);
    REQUIRE(events.wait_introduce(2));
    REQUIRE(outcome(bad->write("data/x", "1")) == "OK");
    REQUIRE(outcome(bad->watch("data", "w")) == "OK");
    auto& page = bad.page();
    store(page.req_prod, load(page.req_cons) + 5000);
    REQUIRE(bad.ring->notify().has_value());
    REQUIRE(error_is(bad, ring::kErrorRingIdx));
    CHECK(unanswered(bad, wire::kRead, "data/x\0"s));
    // Everyone else goes on; the domain is still known and owns its nodes.
    CHECK(outcome(peer->write("data/y", "2")) == "OK");
    CHECK(value(h.dom0().read("/local/domain/1/data/x")) == "1");
    CHECK(value(h.dom0().request_string(wire::kIsDomainIntroduced, {"1"})) == "T");
    CHECK(h.accounted(1, "watches") == 0u);  // its watch went with the connection
    events.poll();
    CHECK(events.releases(1) == 0);
    CHECK(events.plain_releases() == 0);
    // It dies: @releaseDomain exactly once, its nodes go.
    bad.reset();
    h.destroy(1);
    REQUIRE(events.wait_release(1));
    events.barrier();
    CHECK(events.releases(1) == 1);
    CHECK(value(h.dom0().request_string(wire::kIsDomainIntroduced, {"1"})) == "F");
    CHECK(outcome(h.dom0().read("/local/domain/1/data/x")) == "ENOENT");
    CHECK(outcome(peer->read("data/y")) == "OK");
}

TEST_CASE("response consumer index ahead of the producer: error 2 when the daemon writes") {
    GuestHarness h;
    auto bad = h.add_guest(1);
    auto peer = h.add_guest(2);
    auto& page = bad.page();
    store(page.rsp_cons, load(page.rsp_prod) + 100);
    bad->send(wire::kGetDomainPath, "1\0"s);
    CHECK(eventually([&] { return load(page.error) == ring::kErrorRingIdx; }));
    CHECK(outcome(peer->write("data/y", "2")) == "OK");
    CHECK(value(h.dom0().request_string(wire::kIsDomainIntroduced, {"1"})) == "T");
}

TEST_CASE("a header longer than 4096 bytes: error 3, no reply, other guests unaffected") {
    GuestHarness h;
    auto peer = h.add_guest(9);
    const std::uint32_t lens[] = {4097, 0x40000001u, 0x80000000u, 0xFFFFFFFFu};
    xs::DomId d = 1;
    for (std::uint32_t len : lens) {
        CAPTURE(len);
        auto g = h.add_guest(d);
        put(g.page(), raw_header(wire::kWrite, 77, 0, len) + "data/x\0abc"s);
        REQUIRE(g.ring->notify().has_value());
        CHECK(eventually([&] { return load(g.page().error) == ring::kErrorProto; }));
        CHECK(load(g.page().rsp_prod) == load(g.page().rsp_cons));
        CHECK(outcome(peer->write("data/p" + std::to_string(d), "ok")) == "OK");
        ++d;
    }
    // The largest legal payload is still a request (refused by the node-size
    // quota, but answered).
    auto g = h.add_guest(d);
    std::string payload = "data/x\0"s + std::string(wire::kPayloadMax - 7, 'z');
    REQUIRE(payload.size() == wire::kPayloadMax);
    auto r = g->call(wire::kWrite, payload);
    REQUIRE(r);
    CHECK(summary(r) == "ENOSPC");
    CHECK(load(g.page().error) == 0);
}

TEST_CASE("reconnection: partial input, watches and transactions are dropped and the ring starts over") {
    GuestHarness h;
    auto g = h.add_guest(1);
    REQUIRE(outcome(g->watch("data/w", "tok")) == "OK");
    REQUIRE(wait_event(*g));  // the initial event
    auto tx = g->transaction_start();
    REQUIRE(tx.has_value());
    REQUIRE(outcome(g->write("data/in-tx", "1", *tx)) == "OK");
    CHECK(h.accounted(1, "watches") == 1u);
    CHECK(h.accounted(1, "transactions") == 1u);
    // Half a request, then the handshake.
    std::string half = raw_message(wire::kWrite, "data/half\0value"s, 99).substr(0, 20);
    put(g.page(), half);
    REQUIRE(g.ring->notify().has_value());
    REQUIRE(outcome(g.ring->reconnect(scaled(5000ms))) == "OK");
    auto& page = g.page();
    CHECK(load(page.connection) == ring::kConnected);
    CHECK(load(page.req_cons) == 0);
    CHECK(load(page.req_prod) == 0);
    CHECK(load(page.rsp_cons) == 0);
    CHECK(load(page.rsp_prod) == 0);
    // A fresh client on the same ring: the old state is gone.
    g.client = std::make_unique<xs::client::Client>(xs::fakexen::ring_channel(g.ring));
    g->timeout = scaled(10000ms);
    CHECK(outcome(g->transaction_end(*tx, true)) == "ENOENT");
    CHECK(outcome(h.dom0().read("/local/domain/1/data/in-tx")) == "ENOENT");
    CHECK(outcome(h.dom0().read("/local/domain/1/data/half")) == "ENOENT");
    REQUIRE(outcome(h.dom0().write("/local/domain/1/data/w", "changed")) == "OK");
    CHECK(take_events(*g).empty());
    CHECK(h.accounted(1, "watches") == 0u);
    CHECK(h.accounted(1, "transactions") == 0u);
    CHECK(outcome(g->write("data/after", "ok")) == "OK");
    CHECK(value(g->read("data/after")) == "ok");
    CHECK(outcome(g->watch("data/w", "tok")) == "OK");  // the quota was given back
}

TEST_CASE("re-INTRODUCE of a live domain resets its ring, drops its watches and transactions, keeps one connection") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto g = h.add_guest(1);
    REQUIRE(events.wait_introduce(1));
    REQUIRE(outcome(g->watch("data/w", "tok")) == "OK");
    REQUIRE(wait_event(*g));
    auto tx = g->transaction_start();
    REQUIRE(tx.has_value());
    REQUIRE(outcome(g->write("data/in-tx", "1", *tx)) == "OK");
    REQUIRE(outcome(h.introduce(1)) == "OK");
    auto& page = g.page();
    CHECK(load(page.req_prod) == 0);
    CHECK(load(page.rsp_prod) == 0);
    g.client = std::make_unique<xs::client::Client>(xs::fakexen::ring_channel(g.ring));
    g->timeout = scaled(10000ms);
    CHECK(outcome(g->transaction_end(*tx, true)) == "ENOENT");
    REQUIRE(outcome(h.dom0().write("/local/domain/1/data/w", "changed")) == "OK");
    CHECK(take_events(*g).empty());
    CHECK(h.accounted(1, "watches") == 0u);
    CHECK(h.accounted(1, "transactions") == 0u);
    CHECK(outcome(g->write("data/after", "ok")) == "OK");
    // One connection: a watch fires once, and no second @introduceDomain.
    REQUIRE(outcome(g->watch("data/w", "tok2")) == "OK");
    REQUIRE(outcome(h.dom0().write("/local/domain/1/data/w", "again")) == "OK");
    auto evs = take_events(*g);
    CHECK(joined(evs) == "data/w|tok2;data/w|tok2");  // initial event, then the write
    events.poll();
    CHECK(events.introduces(1) == 1);
    CHECK(value(h.dom0().request_string(wire::kIsDomainIntroduced, {"1"})) == "T");
}

TEST_CASE("a non-zero evtchn_port in the page is the channel the daemon binds") {
    GuestHarness h;
    h.create(1);
    h.make_home(1, Home::Toolstack);
    std::uint32_t toolstack_port = h.store_port(1);
    // The guest's kernel offers its own port and names it in the page.
    auto alt = xs::fakexen::alloc_unbound(h.host(), 1, 0);
    REQUIRE(alt.has_value());
    {
        auto lock = h.host().lock();
        h.host().domain(1).store_port = *alt;  // the guest listens there
    }
    auto g = h.attach(1);
    store(g.page().evtchn_port, *alt);
    REQUIRE(outcome(h.introduce(1, toolstack_port)) == "OK");
    CHECK(outcome(g->write("data/x", "through the page's port")) == "OK");
    CHECK(value(h.dom0().read("/local/domain/1/data/x")) == "through the page's port");
}

TEST_CASE("GET_FEATURE and SET_FEATURE: per domain, set before INTRODUCE, privileged") {
    GuestHarness h;
    auto& d0 = h.dom0();
    h.create(1);
    h.make_home(1, Home::Toolstack);
    CHECK(value(d0.request_string(wire::kGetFeature, {"1"})) == "15");
    CHECK(outcome(d0.request_string(wire::kSetFeature, {"1", "6"})) == "OK");
    CHECK(value(d0.request_string(wire::kGetFeature, {"1"})) == "6");
    CHECK(outcome(d0.request_string(wire::kSetFeature, {"1", "16"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kSetFeature, {"1"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kSetFeature, {"1", "6", "7"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kSetFeature, {"40", "6"})) == "ENOENT");  // no such domain
    CHECK(outcome(d0.request_string(wire::kGetFeature, {"40"})) == "ENOENT");
    REQUIRE(outcome(h.introduce(1)) == "OK");
    CHECK(outcome(d0.request_string(wire::kSetFeature, {"1", "15"})) == "EBUSY");
    auto g = h.attach(1);
    CHECK(load(g.page().server_features) == 6);
    CHECK(value(g->request_string(wire::kGetFeature, {})) == "6");
    CHECK(outcome(g->request_string(wire::kGetFeature, {"1"})) == "EACCES");
    CHECK(outcome(g->request_string(wire::kSetFeature, {"1", "15"})) == "EACCES");
    CHECK(value(d0.request_string(wire::kGetFeature, {})) == "15");  // a socket has them all
}

// The error codes of issue "differential run" section 2, as upstream 4.22
// gives them with a hypervisor present (cxenstored.md 5.10, 6.6).
TEST_CASE("GET/SET_FEATURE and GET/SET_QUOTA: a domain the hypervisor does not have is ENOENT, an unknown name EINVAL") {
    GuestHarness h;
    auto& d0 = h.dom0();
    h.create(1);
    CHECK(outcome(d0.request_string(wire::kSetFeature, {"40", "x"})) == "ENOENT");  // the domain first, as upstream
    CHECK(outcome(d0.request_string(wire::kSetFeature, {"1", "x"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kGetQuota, {"40", "nodes"})) == "ENOENT");
    CHECK(outcome(d0.request_string(wire::kGetQuota, {"40", "bogus"})) == "ENOENT");
    CHECK(outcome(d0.request_string(wire::kGetQuota, {"1", "bogus"})) == "EINVAL");
    CHECK(value(d0.request_string(wire::kGetQuota, {"1", "nodes"})) == "1000");
    CHECK(outcome(d0.request_string(wire::kSetQuota, {"40", "nodes", "5"})) == "ENOENT");
    CHECK(outcome(d0.request_string(wire::kSetQuota, {"1", "bogus", "5"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kSetQuota, {"bogus", "5"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kSetQuota, {"1", "nodes", "5"})) == "OK");
}

TEST_CASE("without the watch-depth feature a depth argument is EINVAL; without ERROR the error field stays 0") {
    GuestHarness h;
    auto& d0 = h.dom0();
    h.create(1);
    h.make_home(1, Home::Toolstack);
    REQUIRE(outcome(d0.request_string(wire::kSetFeature, {"1", "9"})) == "OK");  // reconnection | domid-any
    REQUIRE(outcome(h.introduce(1)) == "OK");
    auto g = h.attach(1);
    CHECK(outcome(g->watch("data", "t", 1)) == "EINVAL");
    CHECK(outcome(g->watch("data", "t")) == "OK");
    auto peer = h.add_guest(2);
    CHECK(outcome(peer->watch("data", "t", 1)) == "OK");
    // Broken indices: cut off all the same, but the page does not say why.
    store(g.page().req_prod, load(g.page().req_cons) + 3000);
    REQUIRE(g.ring->notify().has_value());
    std::this_thread::sleep_for(scaled(300ms));  // no error field to wait for
    CHECK(unanswered(g, wire::kRead, "data\0"s));
    CHECK(load(g.page().error) == 0);
    CHECK(outcome(peer->write("data/y", "2")) == "OK");
}
