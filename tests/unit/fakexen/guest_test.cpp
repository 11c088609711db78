// The guest library against a stand-in daemon thread on dom0's side: the
// ring channel under a protocol client, flow control through a ring smaller
// than the messages, the raw page, and the reconnection handshake.
#include <doctest/doctest.h>

#include <sys/mman.h>

#include <atomic>
#include <functional>
#include <thread>

#include "temp_host.hpp"
#include "tools/fakexen/grant.hpp"
#include "tools/fakexen/guest.hpp"
#include "transport/ring.hpp"

using namespace xs::fakexen;
using fakexen_test::kPatienceMs;
using fakexen_test::readable;
using fakexen_test::TempHost;
using xs::ring::Direction;

namespace {

// dom0's side of one guest's ring, served by a thread: `step` runs after
// every kick from the guest (and once at start).
class FakeDaemon {
public:
    using Step = std::function<void(xs::ring::Interface&, EventHandle&, std::uint32_t)>;

    FakeDaemon(TempHost& t, xs::DomId domid, Step step) {
        std::uint32_t gport = domain_info(t.h(), domid).value().record.store_port;
        events_ = EventHandle::open(t.host, 0).value();
        port_ = events_->bind_interdomain(domid, gport).value();
        page_ = static_cast<xs::ring::Interface*>(
            map_grant(t.h(), domid, 1, PROT_READ | PROT_WRITE).value());
        thread_ = std::thread([this, step] {
            while (!stop_) {
                if (readable(events_->fd(), 20)) {
                    auto p = events_->pending();
                    if (p) (void)events_->unmask(*p);
                }
                step(*page_, *events_, port_);
            }
        });
    }
    ~FakeDaemon() {
        stop_ = true;
        thread_.join();
        ::munmap(page_, kPageSize);
    }

private:
    std::unique_ptr<EventHandle> events_;
    std::uint32_t port_ = 0;
    xs::ring::Interface* page_ = nullptr;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// Copies requests back as responses. Like a daemon, it keeps reading
// requests while the response ring is full.
struct Echo {
    std::shared_ptr<std::string> backlog = std::make_shared<std::string>();

    void operator()(xs::ring::Interface& page, EventHandle& ev, std::uint32_t port) const {
        char buf[xs::ring::kRingSize];
        bool moved = false;
        auto n = xs::ring::read(page, Direction::kRequest, buf, sizeof buf);
        if (n && *n > 0) {
            backlog->append(buf, *n);
            moved = true;
        }
        auto w = xs::ring::write(page, Direction::kResponse, backlog->data(), backlog->size());
        if (w && *w > 0) {
            backlog->erase(0, *w);
            moved = true;
        }
        if (moved) (void)ev.notify(port);
    }
};

// Implements the reconnection feature's side of the handshake.
void reconnector(xs::ring::Interface& page, EventHandle& ev, std::uint32_t port) {
    if (__atomic_load_n(&page.connection, __ATOMIC_ACQUIRE) != xs::ring::kReconnect) return;
    page.req_cons = page.req_prod = page.rsp_cons = page.rsp_prod = 0;
    __atomic_store_n(&page.connection, xs::ring::kConnected, __ATOMIC_RELEASE);
    (void)ev.notify(port);
}

}  // namespace

TEST_CASE("attach needs a live domain and refuses a second guest") {
    TempHost t;
    CHECK(Guest::attach(t.host, 3).error().code == ESRCH);
    create_domain(t.h(), 3).value();
    auto g = Guest::attach(t.dir, 3).value();
    CHECK(g->domid() == 3);
    CHECK(g->port() == domain_info(t.h(), 3).value().record.store_port);
    CHECK(Guest::attach(t.host, 3).error().code == EBUSY);
    REQUIRE(destroy_domain(t.h(), 3, true).has_value());
    CHECK(Guest::attach(t.host, 3).error().code == ESRCH);
}

TEST_CASE("dom0 attaches to xsd_kva and the xsd port") {
    TempHost t;
    auto g = Guest::attach(t.host, 0).value();
    CHECK(g->port() == read_xsd_port(t.h()).value());
    auto kva = map_page_file(t.h().xsd_kva_path(), PROT_READ | PROT_WRITE).value();
    static_cast<xs::ring::Interface*>(kva)->server_features = 5;
    CHECK(g->page().server_features == 5);
    ::munmap(kva, kPageSize);
}

TEST_CASE("a protocol client works over the ring, with messages larger than the ring") {
    TempHost t;
    create_domain(t.h(), 2).value();
    auto g = Guest::attach(t.host, 2).value();
    FakeDaemon d(t, 2, Echo{});
    xs::client::Client c(ring_channel(g));
    for (int i = 0; i < 30; ++i) {
        std::string payload(3000 + i * 30, static_cast<char>('a' + i % 26));
        auto m = c.call(xs::wire::kWrite, payload);  // the echo is its "reply"
        REQUIRE(m.has_value());
        CHECK(m->header.type == xs::wire::kWrite);
        CHECK(m->payload == payload);
    }
    // About 100 KiB went through a 1 KiB ring: the indices wrapped many times.
    CHECK(g->page().req_prod > 90000u);
    CHECK(g->page().req_prod == g->page().req_cons);
}

TEST_CASE("raw writes land in the request ring and kick dom0") {
    TempHost t;
    create_domain(t.h(), 5).value();
    auto g = Guest::attach(t.host, 5).value();
    std::uint32_t gport = g->port();
    auto dom0 = EventHandle::open(t.host, 0).value();
    std::uint32_t local = dom0->bind_interdomain(5, gport).value();
    REQUIRE(dom0->pending().value() == local);
    REQUIRE(dom0->unmask(local).has_value());
    CHECK(g->write_raw(std::string(2000, 'z')).value() == xs::ring::kRingSize);
    CHECK(g->page().req_prod == xs::ring::kRingSize);
    CHECK(readable(dom0->fd(), kPatienceMs));
    // A hostile index: the library reports the error instead of copying.
    g->page().req_prod = g->page().req_cons + 5000;
    CHECK(g->write_raw("x").error().code == xs::ring::kRingIndexError);
}

TEST_CASE("wait() sees kicks from dom0 and times out without them") {
    TempHost t;
    create_domain(t.h(), 6).value();
    auto g = Guest::attach(t.host, 6).value();
    auto dom0 = EventHandle::open(t.host, 0).value();
    std::uint32_t local = dom0->bind_interdomain(6, g->port()).value();
    CHECK_FALSE(g->wait(std::chrono::milliseconds(0)));
    REQUIRE(dom0->notify(local).has_value());
    CHECK(g->wait(std::chrono::milliseconds(kPatienceMs)));
    CHECK_FALSE(g->wait(std::chrono::milliseconds(0)));  // consumed
    REQUIRE(dom0->notify(local).has_value());
    CHECK(g->wait(std::chrono::milliseconds(kPatienceMs)));  // unmasked again
}

TEST_CASE("reconnect completes when the daemon answers and times out when it does not") {
    TempHost t;
    create_domain(t.h(), 7).value();
    auto g = Guest::attach(t.host, 7).value();
    {
        FakeDaemon d(t, 7, reconnector);
        g->page().req_prod = 77;
        REQUIRE(g->reconnect(std::chrono::milliseconds(kPatienceMs)).has_value());
        CHECK(g->page().connection == xs::ring::kConnected);
        CHECK(g->page().req_prod == 0);
    }
    CHECK(g->reconnect(std::chrono::milliseconds(50)).error().code == ETIMEDOUT);
}

TEST_CASE("the channel reports a ring the daemon gave up on") {
    TempHost t;
    create_domain(t.h(), 8).value();
    auto g = Guest::attach(t.host, 8).value();
    g->page().error = xs::ring::kErrorRingIdx;
    auto ch = ring_channel(g);
    char buf[16];
    CHECK(ch->read_some(buf, sizeof buf, std::chrono::milliseconds(kPatienceMs)) == -1);
    CHECK_FALSE(ch->write_all("abc"));
}
