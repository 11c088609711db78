#include "tools/fakexen/evtchn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "tools/fakexen/wakeup.hpp"

namespace xs::fakexen {

namespace {

// ---- port table (host lock held) ----

HandleRecord* live_handle(Host& host, HandleRef ref) {
    if (ref == 0 || ref_slot(ref) >= kMaxHandles) return nullptr;
    HandleRecord& h = host.handle(ref_slot(ref));
    if (!h.in_use || h.generation != ref_gen(ref)) return nullptr;
    return &h;
}

bool valid_port(std::uint32_t port) { return port != 0 && port < kMaxPorts; }

void enqueue(Host& host, HandleRef ref, HandleRecord& h, std::uint32_t port) {
    if (h.count == 0) host.ring_after_unlock(ref);
    h.queue[(h.head + h.count) % kPortsPerHandle] = port;
    ++h.count;
}

// An event for `port`: Xen sets it pending; the listener's driver masks it
// and queues it for the process, unless it is already masked.
void deliver(Host& host, std::uint32_t port) {
    PortRecord& p = host.port(port);
    HandleRecord* h = live_handle(host, p.handle);
    if (h == nullptr || p.masked || h->count == kPortsPerHandle) {
        p.pending = 1;  // heard at the next attach or unmask
        return;
    }
    p.masked = 1;
    p.pending = 0;
    enqueue(host, p.handle, *h, port);
}

// After a full queue drained a little: hand out the events that found it
// full (they wait as pending, unmasked ports of this handle).
void redeliver_pending(Host& host, HandleRef ref) {
    for (std::uint32_t port = 1; port < kMaxPorts; ++port) {
        const PortRecord& p = host.port(port);
        if (p.handle == ref && p.pending && !p.masked) deliver(host, port);
    }
}

// Stop `port`'s listener from listening (the port itself stays as it is).
// Like Linux's driver, an event already queued for the port stays queued:
// the process may still read that stale port number once.
void drop_listener(Host& host, std::uint32_t port) {
    PortRecord& p = host.port(port);
    if (HandleRecord* h = live_handle(host, p.handle)) {
        if (h->nports > 0) --h->nports;
    }
    p.handle = 0;
    p.attached = 0;
    p.masked = 0;
}

// EVTCHNOP_close: the peer of an interdomain channel becomes an unbound
// port waiting for our domain again.
void close_port(Host& host, std::uint32_t port) {
    drop_listener(host, port);
    PortRecord& p = host.port(port);
    if (p.state == PortState::kInterdomain && valid_port(p.remote_port)) {
        PortRecord& peer = host.port(p.remote_port);
        if (peer.state == PortState::kInterdomain && peer.remote_port == port) {
            peer.state = PortState::kUnbound;
            peer.remote_domid = p.domid;
            peer.remote_port = 0;
        }
    }
    p = PortRecord{};
}

Result<std::uint32_t> alloc_port(Host& host, DomId dom) {
    for (std::uint32_t port = 1; port < kMaxPorts; ++port) {
        PortRecord& p = host.port(port);
        if (p.state != PortState::kFree) continue;
        p = PortRecord{};
        p.domid = dom;
        return port;
    }
    return fail(ENOSPC);
}

void free_handle(Host& host, std::uint32_t slot) {
    HandleRecord& h = host.handle(slot);
    HandleRef ref = make_ref(slot, h.generation);
    for (std::uint32_t port = 1; port < kMaxPorts; ++port) {
        PortRecord& p = host.port(port);
        if (p.handle != ref) continue;
        if (p.attached) {
            drop_listener(host, port);
        } else {
            close_port(host, port);
        }
    }
    h.in_use = 0;
    h.count = 0;
    h.nports = 0;
}

// Handles whose processes all exited without closing them: release their
// ports as the kernel would have when the last fd closed.
void reap_dead_handles(Host& host) {
    for (std::uint32_t slot = 0; slot < kMaxHandles; ++slot) {
        HandleRecord& h = host.handle(slot);
        if (h.in_use && !wakeup::alive(host, make_ref(slot, h.generation)))
            free_handle(host, slot);
    }
}

}  // namespace

// ---- hypervisor-side operations ----

Result<std::uint32_t> alloc_unbound_locked(Host& host, DomId dom, DomId remote) {
    if (dom == kDomidSelf) return fail(EINVAL);
    if (dom >= kMaxDomains || !domain_exists(host.domain(dom).state)) return fail(ESRCH);
    auto port = alloc_port(host, dom);
    if (!port) return port;
    PortRecord& p = host.port(*port);
    p.state = PortState::kUnbound;
    p.remote_domid = remote == kDomidSelf ? dom : remote;
    return port;
}

Result<std::uint32_t> alloc_unbound(Host& host, DomId dom, DomId remote) {
    auto lock = host.lock();
    return alloc_unbound_locked(host, dom, remote);
}

Result<> send_as_domain(Host& host, DomId dom, std::uint32_t port) {
    auto lock = host.lock();
    if (!valid_port(port)) return fail(EINVAL);
    const PortRecord& p = host.port(port);
    if (p.state == PortState::kFree || p.domid != dom) return fail(EINVAL);
    if (p.state == PortState::kInterdomain) deliver(host, p.remote_port);
    return {};
}

void raise_virq_locked(Host& host, std::uint32_t virq) {
    for (std::uint32_t port = 1; port < kMaxPorts; ++port) {
        const PortRecord& p = host.port(port);
        if (p.state == PortState::kVirq && p.virq == virq) deliver(host, port);
    }
}

void raise_virq(Host& host, std::uint32_t virq) {
    auto lock = host.lock();
    raise_virq_locked(host, virq);
}

void close_domain_ports_locked(Host& host, DomId dom) {
    for (std::uint32_t port = 1; port < kMaxPorts; ++port) {
        const PortRecord& p = host.port(port);
        if (p.state != PortState::kFree && p.domid == dom) close_port(host, port);
    }
}

std::vector<PortInfo> ports_of(Host& host, DomId dom) {
    auto lock = host.lock();
    std::vector<PortInfo> out;
    for (std::uint32_t port = 1; port < kMaxPorts; ++port) {
        const PortRecord& p = host.port(port);
        if (p.state != PortState::kFree && p.domid == dom) out.push_back({port, p});
    }
    return out;
}

// ---- handles ----

Result<std::unique_ptr<EventHandle>> EventHandle::open(std::shared_ptr<Host> host, DomId self,
                                                       bool cloexec) {
    if (self >= kMaxDomains) return fail(EINVAL);
    auto lock = host->lock();
    if (!domain_exists(host->domain(self).state)) return fail(ESRCH);
    reap_dead_handles(*host);
    std::uint32_t slot = 0;
    while (slot < kMaxHandles && host->handle(slot).in_use) ++slot;
    if (slot == kMaxHandles) return fail(ENFILE);

    HostHeader& hdr = host->header();
    if (++hdr.next_generation == 0) ++hdr.next_generation;
    HandleRef ref = make_ref(slot, hdr.next_generation);

    int fd = wakeup::bind_socket(*host, ref, cloexec);
    if (fd < 0) return fail(errno);
    HandleRecord& h = host->handle(slot);
    h.generation = ref_gen(ref);
    h.domid = self;
    h.restrict_domid = kNoRestriction;
    h.pid = ::getpid();
    h.nports = 0;
    h.head = 0;
    h.count = 0;
    h.in_use = 1;
    return std::unique_ptr<EventHandle>(new EventHandle(std::move(host), ref, self, fd));
}

Result<std::unique_ptr<EventHandle>> EventHandle::adopt(std::shared_ptr<Host> host, int fd) {
    HandleRef ref = wakeup::ref_of(*host, fd);
    if (ref == 0) return fail(EINVAL);
    auto lock = host->lock();
    HandleRecord* h = live_handle(*host, ref);
    if (h == nullptr) return fail(EINVAL);
    h->pid = ::getpid();
    return std::unique_ptr<EventHandle>(new EventHandle(std::move(host), ref, h->domid, fd));
}

EventHandle::~EventHandle() {
    {
        auto lock = host_->lock();
        if (live_handle(*host_, ref_) != nullptr) free_handle(*host_, ref_slot(ref_));
    }
    ::close(fd_);
}

bool EventHandle::owns_locked(std::uint32_t port) {
    return valid_port(port) && host_->port(port).handle == ref_;
}

Result<std::uint32_t> EventHandle::bind_new_port_locked(PortState state, DomId remote) {
    HandleRecord* h = live_handle(*host_, ref_);
    if (h == nullptr) return fail(EBADF);
    if (h->nports >= kPortsPerHandle) return fail(ENOSPC);
    auto port = alloc_port(*host_, domid_);
    if (!port) return port;
    PortRecord& p = host_->port(*port);
    p.state = state;
    p.remote_domid = remote;
    p.handle = ref_;
    ++h->nports;
    return port;
}

Result<std::uint32_t> EventHandle::bind_unbound_port(DomId remote) {
    auto lock = host_->lock();
    if (host_->handle(ref_slot(ref_)).restrict_domid != kNoRestriction) return fail(EACCES);
    return bind_new_port_locked(PortState::kUnbound, remote == kDomidSelf ? domid_ : remote);
}

Result<std::uint32_t> EventHandle::bind_interdomain(DomId remote, std::uint32_t remote_port) {
    auto lock = host_->lock();
    std::uint16_t only = host_->handle(ref_slot(ref_)).restrict_domid;
    if (only != kNoRestriction && only != remote) return fail(EACCES);
    DomId rdom = remote == kDomidSelf ? domid_ : remote;
    if (rdom >= kMaxDomains || !domain_exists(host_->domain(rdom).state)) return fail(ESRCH);
    if (!valid_port(remote_port)) return fail(EINVAL);
    PortRecord* r = &host_->port(remote_port);
    // A peer whose process died without closing: release it first, as the
    // kernel would have done at its exit.
    if (r->state == PortState::kInterdomain) reap_dead_handles(*host_);
    if (r->state != PortState::kUnbound || r->domid != rdom || r->remote_domid != domid_)
        return fail(EINVAL);

    auto local = bind_new_port_locked(PortState::kInterdomain, rdom);
    if (!local) return local;
    PortRecord& l = host_->port(*local);
    l.remote_port = remote_port;
    r->state = PortState::kInterdomain;
    r->remote_domid = domid_;
    r->remote_port = *local;
    // Like Xen: the new port starts pending, covering any notification the
    // other side sent while its port was unbound.
    deliver(*host_, *local);
    return local;
}

Result<std::uint32_t> EventHandle::bind_virq(std::uint32_t virq) {
    auto lock = host_->lock();
    if (host_->handle(ref_slot(ref_)).restrict_domid != kNoRestriction) return fail(EACCES);
    if (virq >= kNrVirqs) return fail(EINVAL);
    auto bound_here = [&] {
        for (std::uint32_t port = 1; port < kMaxPorts; ++port) {
            const PortRecord& p = host_->port(port);
            if (p.state == PortState::kVirq && p.virq == virq && p.domid == domid_) return true;
        }
        return false;
    };
    if (bound_here()) {
        reap_dead_handles(*host_);
        if (bound_here()) return fail(EEXIST);  // one binding per VIRQ per domain
    }
    auto port = bind_new_port_locked(PortState::kVirq, 0);
    if (!port) return port;
    host_->port(*port).virq = virq;
    return port;
}

Result<> EventHandle::unbind(std::uint32_t port) {
    auto lock = host_->lock();
    if (!valid_port(port)) return fail(EINVAL);
    if (!owns_locked(port)) return fail(ENOTCONN);
    if (host_->port(port).attached) {
        drop_listener(*host_, port);
    } else {
        close_port(*host_, port);
    }
    return {};
}

Result<> EventHandle::notify(std::uint32_t port) {
    auto lock = host_->lock();
    if (!valid_port(port)) return fail(EINVAL);
    if (!owns_locked(port)) return fail(ENOTCONN);
    PortRecord& p = host_->port(port);
    switch (p.state) {
    case PortState::kInterdomain:
        ++p.sends;
        deliver(*host_, p.remote_port);
        return {};
    case PortState::kUnbound:
        return {};  // nobody on the other end yet: Xen drops it silently
    default:
        return fail(EINVAL);
    }
}

Result<std::uint32_t> EventHandle::pending() {
    for (;;) {
        {
            auto lock = host_->lock();
            HandleRecord* h = live_handle(*host_, ref_);
            if (h == nullptr) return fail(EBADF);
            if (h->count > 0) {
                bool was_full = h->count == kPortsPerHandle;
                std::uint32_t port = h->queue[h->head];
                h->head = (h->head + 1) % kPortsPerHandle;
                if (--h->count == 0) wakeup::drain(fd_);
                if (was_full) redeliver_pending(*host_, ref_);
                return port;
            }
            wakeup::drain(fd_);  // defensive: never spin on a stray doorbell
        }
        int fl = ::fcntl(fd_, F_GETFL);
        if (fl >= 0 && (fl & O_NONBLOCK)) return fail(EAGAIN);
        pollfd pfd{fd_, POLLIN, 0};
        if (::poll(&pfd, 1, -1) < 0) return fail(errno);
    }
}

Result<> EventHandle::unmask(std::uint32_t port) {
    auto lock = host_->lock();
    if (!owns_locked(port)) return {};  // the driver ignores ports that are not ours
    PortRecord& p = host_->port(port);
    p.masked = 0;
    if (p.pending) deliver(*host_, port);
    return {};
}

Result<> EventHandle::restrict_to(DomId domid) {
    auto lock = host_->lock();
    HandleRecord& h = host_->handle(ref_slot(ref_));
    if (h.restrict_domid != kNoRestriction) return fail(EACCES);
    if (domid == 0 || domid >= kMaxDomains) return fail(EINVAL);
    h.restrict_domid = domid;
    return {};
}

Result<> EventHandle::attach(std::uint32_t port) {
    auto lock = host_->lock();
    if (!valid_port(port)) return fail(EINVAL);
    PortRecord* p = &host_->port(port);
    if (p->state == PortState::kFree || p->domid != domid_) return fail(EINVAL);
    if (p->handle == ref_) return {};
    if (p->handle != 0) {
        reap_dead_handles(*host_);
        if (live_handle(*host_, p->handle) != nullptr) return fail(EBUSY);
    }
    HandleRecord* h = live_handle(*host_, ref_);
    if (h == nullptr) return fail(EBADF);
    if (h->nports >= kPortsPerHandle) return fail(ENOSPC);
    p->handle = ref_;
    p->attached = 1;
    p->masked = 0;
    ++h->nports;
    if (p->pending) deliver(*host_, port);
    return {};
}

}  // namespace xs::fakexen
