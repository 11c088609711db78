// Fake event channels: the port table of a fake host and the handles that
// listen on ports (what /dev/xen/evtchn gives a process).
//
// Behaviour follows Xen and Linux's evtchn driver where a user can see it:
// sending on an interdomain port marks the peer port pending; a handle gets a
// pending port once, masked, until it unmasks it; an event that arrives
// while masked is delivered again at unmask; closing one end of an
// interdomain channel turns the other end back into an unbound port for the
// closer's domain. Port numbers are unique on the fake host (Xen numbers
// them per domain); a domain can only use its own ports.
#pragma once

#include <memory>
#include <vector>

#include "base/domid.hpp"
#include "base/result.hpp"
#include "tools/fakexen/host.hpp"

namespace xs::fakexen {

// One open handle. Its fd is a datagram socket that holds a doorbell while
// ports are waiting, so it polls readable exactly like the real device.
class EventHandle {
public:
    ~EventHandle();  // unbinds every port the handle bound
    EventHandle(const EventHandle&) = delete;
    EventHandle& operator=(const EventHandle&) = delete;

    // Open a handle acting for domain `self`.
    static Result<std::unique_ptr<EventHandle>> open(std::shared_ptr<Host> host, DomId self,
                                                     bool cloexec = true);
    // Adopt the fd of a handle opened before an exec (xenevtchn_fdopen).
    static Result<std::unique_ptr<EventHandle>> adopt(std::shared_ptr<Host> host, int fd);

    int fd() const { return fd_; }
    DomId domid() const { return domid_; }
    Host& host() { return *host_; }

    // xenevtchn_* operations; errors carry the errno Linux gives.
    Result<std::uint32_t> bind_unbound_port(DomId remote);
    Result<std::uint32_t> bind_interdomain(DomId remote, std::uint32_t remote_port);
    Result<std::uint32_t> bind_virq(std::uint32_t virq);
    Result<> unbind(std::uint32_t port);
    Result<> notify(std::uint32_t port);
    // The next pending port (now masked). Blocks unless the fd is
    // non-blocking, in which case an empty queue is EAGAIN.
    Result<std::uint32_t> pending();
    Result<> unmask(std::uint32_t port);
    Result<> restrict_to(DomId domid);

    // Fake-only: listen on an existing port of our domain without taking
    // it over (a guest kernel's end of its xenstore channel). The port keeps
    // its state; closing the handle only stops listening.
    Result<> attach(std::uint32_t port);

private:
    EventHandle(std::shared_ptr<Host> host, HandleRef ref, DomId domid, int fd)
        : host_(std::move(host)), ref_(ref), domid_(domid), fd_(fd) {}
    Result<std::uint32_t> bind_new_port_locked(PortState state, DomId remote);
    bool owns_locked(std::uint32_t port);

    std::shared_ptr<Host> host_;
    HandleRef ref_;
    DomId domid_;
    int fd_;
};

// ---- hypervisor-side operations (they take the host lock) ----

// A new unbound port of domain `dom` that `remote` may bind to
// (EVTCHNOP_alloc_unbound as the toolstack uses it). No handle listens yet.
Result<std::uint32_t> alloc_unbound(Host& host, DomId dom, DomId remote);
// EVTCHNOP_send by domain `dom` on its port `port`, without a handle (what
// a kernel does, e.g. gntdev's unmap notification).
Result<> send_as_domain(Host& host, DomId dom, std::uint32_t port);
// Send VIRQ `virq` to every port bound to it.
void raise_virq(Host& host, std::uint32_t virq);

// ---- the same, for callers already holding the host lock ----
Result<std::uint32_t> alloc_unbound_locked(Host& host, DomId dom, DomId remote);
void raise_virq_locked(Host& host, std::uint32_t virq);
// Close every port of `dom` (domain death): peers become unbound ports.
void close_domain_ports_locked(Host& host, DomId dom);

// Diagnostics for `xstore-fakexen list` and tests.
struct PortInfo {
    std::uint32_t port;
    PortRecord record;
};
std::vector<PortInfo> ports_of(Host& host, DomId dom);

}  // namespace xs::fakexen
