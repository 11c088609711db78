// Drop-in libxenevtchn.so.1 on a fake host: the xenevtchn.h API of Xen 4.17
// over fake event channels. The process acts for domain
// $XSTORE_FAKEXEN_DOMID (default 0) of the host in $XSTORE_FAKEXEN.
#include <cerrno>
#include <memory>

extern "C" {
#include <xenevtchn.h>
}

#include "tools/fakexen/evtchn.hpp"

using xs::fakexen::EventHandle;
using xs::fakexen::Host;

struct xenevtchn_handle {
    std::unique_ptr<EventHandle> h;
};

namespace {

// Result<T> to the C convention: the value, or -1 with errno set.
template <class T>
int c_result(const xs::Result<T>& r) {
    if (!r) {
        errno = r.error().code;
        return -1;
    }
    if constexpr (std::is_void_v<T>) {
        return 0;
    } else {
        return static_cast<int>(*r);
    }
}

xenevtchn_handle* wrap(xs::Result<std::unique_ptr<EventHandle>> h) {
    if (!h) {
        errno = h.error().code;
        return nullptr;
    }
    return new xenevtchn_handle{std::move(*h)};
}

}  // namespace

extern "C" {

xenevtchn_handle* xenevtchn_open(struct xentoollog_logger*, unsigned int flags) {
    auto host = Host::from_env();
    if (!host) {
        errno = host.error().code;
        return nullptr;
    }
    auto self = Host::self_domid_from_env();
    if (!self) {
        errno = self.error().code;
        return nullptr;
    }
    return wrap(EventHandle::open(*host, *self, (flags & XENEVTCHN_NO_CLOEXEC) == 0));
}

xenevtchn_handle* xenevtchn_fdopen(struct xentoollog_logger*, int fd, unsigned) {
    auto host = Host::from_env();
    if (!host) {
        errno = host.error().code;
        return nullptr;
    }
    return wrap(EventHandle::adopt(*host, fd));
}

int xenevtchn_close(xenevtchn_handle* xce) {
    delete xce;  // a null handle is allowed
    return 0;
}

int xenevtchn_fd(xenevtchn_handle* xce) { return xce->h->fd(); }

int xenevtchn_notify(xenevtchn_handle* xce, evtchn_port_t port) {
    return c_result(xce->h->notify(port));
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle* xce, uint32_t domid) {
    return c_result(xce->h->bind_unbound_port(static_cast<xs::DomId>(domid)));
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle* xce, uint32_t domid,
                                                     evtchn_port_t remote_port) {
    if (domid > 0xFFFF) {
        errno = ESRCH;
        return -1;
    }
    return c_result(xce->h->bind_interdomain(static_cast<xs::DomId>(domid), remote_port));
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle* xce, unsigned int virq) {
    return c_result(xce->h->bind_virq(virq));
}

int xenevtchn_unbind(xenevtchn_handle* xce, evtchn_port_t port) {
    return c_result(xce->h->unbind(port));
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle* xce) {
    return c_result(xce->h->pending());
}

int xenevtchn_unmask(xenevtchn_handle* xce, evtchn_port_t port) {
    return c_result(xce->h->unmask(port));
}

int xenevtchn_restrict(xenevtchn_handle* xce, domid_t domid) {
    return c_result(xce->h->restrict_to(domid));
}

}  // extern "C"
