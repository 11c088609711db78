// Fake event channels: binding rules and errnos, pending/mask semantics,
// unbinding, VIRQ_DOM_EXC, and notifications that cross process boundaries.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>

#include <vector>

#include "temp_host.hpp"
#include "tools/fakexen/evtchn.hpp"

using namespace xs::fakexen;
using fakexen_test::exit_status;
using fakexen_test::kPatienceMs;
using fakexen_test::readable;
using fakexen_test::spawn;
using fakexen_test::TempHost;

namespace {

void set_nonblocking(EventHandle& h) { ::fcntl(h.fd(), F_SETFL, ::fcntl(h.fd(), F_GETFL) | O_NONBLOCK); }

// dom0 bound to guest `domid`'s xenstore port, the guest attached to it.
struct Pair {
    std::unique_ptr<EventHandle> dom0, guest;
    std::uint32_t local = 0, remote = 0;

    Pair(TempHost& t, xs::DomId domid) {
        remote = create_domain(t.h(), domid).value().record.store_port;
        dom0 = EventHandle::open(t.host, 0).value();
        guest = EventHandle::open(t.host, domid).value();
        REQUIRE(guest->attach(remote).has_value());
        local = dom0->bind_interdomain(domid, remote).value();
        set_nonblocking(*dom0);
        set_nonblocking(*guest);
        // Binding marks the new port pending (Xen does); clear that first.
        REQUIRE(dom0->pending().value() == local);
        REQUIRE(dom0->unmask(local).has_value());
    }
};

}  // namespace

TEST_CASE("bind_interdomain connects both ends and reports the peer") {
    TempHost t;
    Pair p(t, 3);
    auto ports = ports_of(t.h(), 3);
    REQUIRE(ports.size() == 1);
    CHECK(ports[0].record.state == PortState::kInterdomain);
    CHECK(ports[0].record.remote_domid == 0);
    CHECK(ports[0].record.remote_port == p.local);
}

TEST_CASE("bind_interdomain errors are the ones Linux and Xen give") {
    TempHost t;
    std::uint32_t gport = create_domain(t.h(), 4).value().record.store_port;
    auto dom0 = EventHandle::open(t.host, 0).value();
    CHECK(dom0->bind_interdomain(9, gport).error().code == ESRCH);  // no such domain
    CHECK(dom0->bind_interdomain(4, 0).error().code == EINVAL);
    CHECK(dom0->bind_interdomain(4, kMaxPorts + 5).error().code == EINVAL);
    // dom0's own xsd port is not a port of domain 4.
    CHECK(dom0->bind_interdomain(4, read_xsd_port(t.h()).value()).error().code == EINVAL);
    // An unbound port meant for someone else.
    std::uint32_t other = alloc_unbound(t.h(), 4, 5).value();
    CHECK(dom0->bind_interdomain(4, other).error().code == EINVAL);
    // Already connected: not unbound any more.
    REQUIRE(dom0->bind_interdomain(4, gport).has_value());
    CHECK(dom0->bind_interdomain(4, gport).error().code == EINVAL);
}

TEST_CASE("dom0 can bind its own xsd port (the loopback channel)") {
    TempHost t;
    auto dom0 = EventHandle::open(t.host, 0).value();
    CHECK(dom0->bind_interdomain(0, read_xsd_port(t.h()).value()).has_value());
}

TEST_CASE("a notification is pending once, masked until unmask, and redelivered after it") {
    TempHost t;
    Pair p(t, 2);
    CHECK_FALSE(readable(p.dom0->fd(), 0));
    REQUIRE(p.guest->notify(p.remote).has_value());
    REQUIRE(p.guest->notify(p.remote).has_value());  // coalesced with the first
    CHECK(readable(p.dom0->fd(), 0));
    CHECK(p.dom0->pending().value() == p.local);
    CHECK_FALSE(readable(p.dom0->fd(), 0));
    CHECK(p.dom0->pending().error().code == EAGAIN);

    REQUIRE(p.guest->notify(p.remote).has_value());  // arrives while masked
    CHECK_FALSE(readable(p.dom0->fd(), 0));
    REQUIRE(p.dom0->unmask(p.local).has_value());
    CHECK(readable(p.dom0->fd(), 0));
    CHECK(p.dom0->pending().value() == p.local);
    REQUIRE(p.dom0->unmask(p.local).has_value());
    CHECK_FALSE(readable(p.dom0->fd(), 0));  // nothing new arrived
}

TEST_CASE("events on several ports queue in order of arrival") {
    TempHost t;
    Pair a(t, 1);
    std::uint32_t gport = create_domain(t.h(), 2).value().record.store_port;
    auto g2 = EventHandle::open(t.host, 2).value();
    REQUIRE(g2->attach(gport).has_value());
    std::uint32_t local2 = a.dom0->bind_interdomain(2, gport).value();
    REQUIRE(a.dom0->pending().value() == local2);  // the bind's own event
    REQUIRE(a.dom0->unmask(local2).has_value());

    REQUIRE(g2->notify(gport).has_value());
    REQUIRE(a.guest->notify(a.remote).has_value());
    CHECK(a.dom0->pending().value() == local2);
    CHECK(a.dom0->pending().value() == a.local);
    CHECK(a.dom0->pending().error().code == EAGAIN);
}

TEST_CASE("notify and unbind need a port of this handle") {
    TempHost t;
    Pair p(t, 2);
    auto other = EventHandle::open(t.host, 0).value();
    CHECK(other->notify(p.local).error().code == ENOTCONN);
    CHECK(other->unbind(p.local).error().code == ENOTCONN);
    CHECK(other->unbind(0).error().code == EINVAL);
    CHECK(other->unmask(p.local).has_value());  // ignored, like the driver does
}

TEST_CASE("unbinding one end turns the other back into an unbound port that can be bound again") {
    TempHost t;
    Pair p(t, 5);
    REQUIRE(p.dom0->unbind(p.local).has_value());
    auto ports = ports_of(t.h(), 5);
    REQUIRE(ports.size() == 1);
    CHECK(ports[0].record.state == PortState::kUnbound);
    CHECK(ports[0].record.remote_domid == 0);
    // Sending into an unbound port is dropped silently.
    CHECK(p.guest->notify(p.remote).has_value());
    CHECK_FALSE(readable(p.dom0->fd(), 0));

    std::uint32_t again = p.dom0->bind_interdomain(5, p.remote).value();
    CHECK(again != 0);
    CHECK(p.dom0->pending().value() == again);
}

TEST_CASE("closing a handle unbinds its ports; a guest's attached port stays") {
    TempHost t;
    Pair p(t, 6);
    p.dom0.reset();
    auto ports = ports_of(t.h(), 6);
    REQUIRE(ports.size() == 1);
    CHECK(ports[0].record.state == PortState::kUnbound);
    p.guest.reset();
    ports = ports_of(t.h(), 6);
    REQUIRE(ports.size() == 1);  // still the domain's port, just unheard
    CHECK(ports[0].record.handle == 0);
}

TEST_CASE("an event sent before anyone listens is heard when the guest attaches") {
    TempHost t;
    std::uint32_t gport = create_domain(t.h(), 3).value().record.store_port;
    auto dom0 = EventHandle::open(t.host, 0).value();
    std::uint32_t local = dom0->bind_interdomain(3, gport).value();
    REQUIRE(dom0->notify(local).has_value());  // nobody attached to gport yet
    auto guest = EventHandle::open(t.host, 3).value();
    REQUIRE(guest->attach(gport).has_value());
    CHECK(readable(guest->fd(), 0));
    CHECK(guest->pending().value() == gport);
}

TEST_CASE("a second listener on an attached port is refused") {
    TempHost t;
    std::uint32_t gport = create_domain(t.h(), 3).value().record.store_port;
    auto g1 = EventHandle::open(t.host, 3).value();
    auto g2 = EventHandle::open(t.host, 3).value();
    REQUIRE(g1->attach(gport).has_value());
    CHECK(g2->attach(gport).error().code == EBUSY);
    auto dom0 = EventHandle::open(t.host, 0).value();
    CHECK(dom0->attach(gport).error().code == EINVAL);  // not dom0's port
}

TEST_CASE("bind_unbound_port and restrict") {
    TempHost t;
    create_domain(t.h(), 8).value();
    auto dom0 = EventHandle::open(t.host, 0).value();
    std::uint32_t port = dom0->bind_unbound_port(8).value();
    auto g = EventHandle::open(t.host, 8).value();
    std::uint32_t gl = g->bind_interdomain(0, port).value();
    CHECK(gl != port);

    auto r = EventHandle::open(t.host, 0).value();
    CHECK(r->restrict_to(0).error().code == EINVAL);
    REQUIRE(r->restrict_to(8).has_value());
    CHECK(r->restrict_to(8).error().code == EACCES);  // only once
    CHECK(r->bind_unbound_port(8).error().code == EACCES);
    CHECK(r->bind_virq(kVirqDomExc).error().code == EACCES);
    create_domain(t.h(), 9).value();
    std::uint32_t p9 = ports_of(t.h(), 9).at(0).port;
    CHECK(r->bind_interdomain(9, p9).error().code == EACCES);
}

TEST_CASE("VIRQ_DOM_EXC: one binding per domain, raised by shutdown and destroy") {
    TempHost t;
    create_domain(t.h(), 4).value();
    auto v = EventHandle::open(t.host, 0).value();
    set_nonblocking(*v);
    std::uint32_t port = v->bind_virq(kVirqDomExc).value();
    auto second = EventHandle::open(t.host, 0).value();
    CHECK(second->bind_virq(kVirqDomExc).error().code == EEXIST);
    CHECK(second->bind_virq(kNrVirqs).error().code == EINVAL);
    CHECK(second->notify(port).error().code == ENOTCONN);
    CHECK(v->notify(port).error().code == EINVAL);  // not an interdomain port

    REQUIRE(shutdown_domain(t.h(), 4, 3).has_value());
    CHECK(v->pending().value() == port);
    REQUIRE(v->unmask(port).has_value());
    REQUIRE(destroy_domain(t.h(), 4).has_value());
    CHECK(v->pending().value() == port);
    REQUIRE(v->unmask(port).has_value());
    // Unbinding frees the VIRQ for another handle of the domain.
    REQUIRE(v->unbind(port).has_value());
    CHECK(second->bind_virq(kVirqDomExc).has_value());
}

TEST_CASE("the doorbell goes out when the host lock is released, not inside it") {
    TempHost t;
    auto v = EventHandle::open(t.host, 0).value();
    set_nonblocking(*v);
    std::uint32_t port = v->bind_virq(kVirqDomExc).value();
    {
        auto lock = t.h().lock();
        raise_virq_locked(t.h(), kVirqDomExc);
        // Queued, but nobody is woken while the critical section lasts.
        CHECK_FALSE(readable(v->fd(), 0));
    }
    CHECK(readable(v->fd(), kPatienceMs));
    CHECK(v->pending().value() == port);
    REQUIRE(v->unmask(port).has_value());
    CHECK(v->pending().error().code == EAGAIN);  // and the doorbell went with it
    CHECK_FALSE(readable(v->fd(), 0));
}

TEST_CASE("destroying a domain closes its ports: dom0's end becomes unbound") {
    TempHost t;
    Pair p(t, 7);
    REQUIRE(destroy_domain(t.h(), 7).has_value());
    CHECK(ports_of(t.h(), 7).empty());
    bool found = false;
    for (const PortInfo& pi : ports_of(t.h(), 0)) {
        if (pi.port != p.local) continue;
        found = true;
        CHECK(pi.record.state == PortState::kUnbound);
        CHECK(pi.record.remote_domid == 7);
    }
    CHECK(found);
    CHECK(p.dom0->notify(p.local).has_value());  // dropped, not an error
    CHECK(p.dom0->bind_interdomain(7, p.remote).error().code == ESRCH);
}

TEST_CASE("a notification from another process wakes this process's fd") {
    TempHost t;
    std::uint32_t gport = create_domain(t.h(), 1).value().record.store_port;
    auto dom0 = EventHandle::open(t.host, 0).value();
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t child = spawn([&] {
        auto host = Host::open(t.dir);
        if (!host) return 10;
        auto g = EventHandle::open(*host, 1);
        if (!g || !(*g)->attach(gport)) return 11;
        char b = 1;
        if (::write(ready[1], &b, 1) != 1) return 12;
        // Wait for dom0's kick, then answer it.
        if (!readable((*g)->fd(), kPatienceMs)) return 13;
        auto port = (*g)->pending();
        if (!port || *port != gport) return 14;
        if (!(*g)->unmask(gport) || !(*g)->notify(gport)) return 15;
        return 0;
    });
    char b;
    REQUIRE(::read(ready[0], &b, 1) == 1);
    std::uint32_t local = dom0->bind_interdomain(1, gport).value();
    REQUIRE(dom0->pending().value() == local);  // the bind's own event
    REQUIRE(dom0->unmask(local).has_value());
    REQUIRE(dom0->notify(local).has_value());
    CHECK(readable(dom0->fd(), kPatienceMs));
    CHECK(dom0->pending().value() == local);
    CHECK(exit_status(child) == 0);
    ::close(ready[0]);
    ::close(ready[1]);
}

TEST_CASE("pending() blocks until another process sends") {
    TempHost t;
    std::uint32_t gport = create_domain(t.h(), 2).value().record.store_port;
    auto guest = EventHandle::open(t.host, 2).value();
    REQUIRE(guest->attach(gport).has_value());
    pid_t child = spawn([&] {
        auto host = Host::open(t.dir);
        if (!host) return 10;
        auto dom0 = EventHandle::open(*host, 0);
        if (!dom0) return 11;
        auto local = (*dom0)->bind_interdomain(2, gport);
        if (!local || !(*dom0)->notify(*local)) return 12;
        return 0;
    });
    CHECK(guest->pending().value() == gport);  // blocking handle
    CHECK(exit_status(child) == 0);
}

TEST_CASE("ports of a process that died without closing are released") {
    TempHost t;
    std::uint32_t gport = create_domain(t.h(), 3).value().record.store_port;
    pid_t child = spawn([&] {
        auto host = Host::open(t.dir);
        if (!host) return 10;
        auto dom0 = EventHandle::open(*host, 0);
        if (!dom0 || !(*dom0)->bind_interdomain(3, gport) || !(*dom0)->bind_virq(kVirqDomExc))
            return 11;
        (void)dom0->release();  // leak it: exit without closing, like a crash
        return 0;
    });
    REQUIRE(exit_status(child) == 0);
    auto dom0 = EventHandle::open(t.host, 0).value();
    CHECK(dom0->bind_interdomain(3, gport).has_value());
    CHECK(dom0->bind_virq(kVirqDomExc).has_value());
}

TEST_CASE("an fd handed over an exec is adopted with its ports") {
    TempHost t;
    Pair p(t, 4);
    REQUIRE(p.guest->notify(p.remote).has_value());
    // The child plays the process after exec: it only has the fd.
    int fd = p.dom0->fd();
    pid_t child = spawn([&] {
        auto host = Host::open(t.dir);
        if (!host) return 10;
        auto adopted = EventHandle::adopt(*host, fd);
        if (!adopted || (*adopted)->domid() != 0) return 11;
        auto port = (*adopted)->pending();
        int status = port && *port == p.local ? 0 : 12;
        (void)adopted->release();  // exiting does not close a handle
        return status;
    });
    CHECK(exit_status(child) == 0);
    int plain = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(EventHandle::adopt(t.host, plain).error().code == EINVAL);
    ::close(plain);
}

TEST_CASE("no event is lost when a handle's queue is full") {
    TempHost t;
    auto peer = EventHandle::open(t.host, 0).value();
    auto x = EventHandle::open(t.host, 0).value();
    set_nonblocking(*x);
    std::vector<std::uint32_t> mine, theirs;
    for (std::uint32_t i = 0; i < kPortsPerHandle; ++i) {
        mine.push_back(x->bind_unbound_port(0).value());
        theirs.push_back(peer->bind_interdomain(0, mine.back()).value());
    }
    CHECK(x->bind_unbound_port(0).error().code == ENOSPC);  // the per-handle limit
    for (std::uint32_t p : theirs) REQUIRE(peer->notify(p).has_value());
    // The queue holds all 4096. Unbinding leaves a stale entry behind (as the
    // driver does), so the queue stays full while a new port gets an event.
    REQUIRE(x->unbind(mine[0]).has_value());
    std::uint32_t late = x->bind_unbound_port(0).value();
    auto peer2 = EventHandle::open(t.host, 0).value();  // `peer` is at its limit
    std::uint32_t late_peer = peer2->bind_interdomain(0, late).value();
    REQUIRE(peer2->notify(late_peer).has_value());
    std::vector<std::uint32_t> got;
    for (auto p = x->pending(); p; p = x->pending()) got.push_back(*p);
    CHECK(got.size() == kPortsPerHandle + 1);
    CHECK(got.back() == late);
}

TEST_CASE("hundreds of listeners woken at once all hear their doorbell") {
    // Doorbells stay charged to the sending socket until read, and one
    // socket holds only about 280 of them: the sender must not lose the rest.
    constexpr std::uint32_t kListeners = 400;
    TempHost t;
    auto sender = EventHandle::open(t.host, 0).value();
    std::vector<std::unique_ptr<EventHandle>> listeners;
    std::vector<std::uint32_t> to;
    for (std::uint32_t i = 0; i < kListeners; ++i) {
        listeners.push_back(EventHandle::open(t.host, 0).value());
        std::uint32_t port = listeners.back()->bind_unbound_port(0).value();
        to.push_back(sender->bind_interdomain(0, port).value());
    }
    for (std::uint32_t p : to) REQUIRE(sender->notify(p).has_value());
    std::uint32_t woken = 0;
    for (auto& l : listeners) woken += readable(l->fd(), 0) ? 1 : 0;
    CHECK(woken == kListeners);
}

TEST_CASE("VIRQ_DOM_EXC reaches another process when a domain is destroyed") {
    TempHost t;
    create_domain(t.h(), 12).value();
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t child = spawn([&] {
        auto host = Host::open(t.dir);
        if (!host) return 10;
        auto h = EventHandle::open(*host, 0);
        if (!h) return 11;
        auto port = (*h)->bind_virq(kVirqDomExc);
        if (!port) return 12;
        char b = 1;
        if (::write(ready[1], &b, 1) != 1) return 13;
        if (!readable((*h)->fd(), kPatienceMs)) return 14;
        auto p = (*h)->pending();
        return p && *p == *port ? 0 : 15;
    });
    char b;
    REQUIRE(::read(ready[0], &b, 1) == 1);
    REQUIRE(destroy_domain(t.h(), 12).has_value());
    CHECK(exit_status(child) == 0);
    ::close(ready[0]);
    ::close(ready[1]);
}
