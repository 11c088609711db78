// Drop-in libxenctrl.so.4.17 on a fake host: the calls a xenstore daemon
// makes (interface open/close, domain info in both the xc_dominfo_t and the
// xc_domaininfo_t form, unbound port allocation, foreign mapping of a
// domain's xenstore page, error reporting). Every other function the
// reference daemons and libxenguest import is a stub failing with ENOSYS
// (ctrl_stubs.c), so they load.
//
// Built as gnu++23: Xen's public headers need GNU anonymous structs.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#define XC_WANT_COMPAT_MAP_FOREIGN_API 1  // declares xc_map_foreign_range
extern "C" {
#include <xenctrl.h>
}

#include "tools/fakexen/domains.hpp"
#include "tools/fakexen/evtchn.hpp"
#include "tools/fakexen/grant.hpp"

using xs::fakexen::DomainInfo;
using xs::fakexen::DomainState;
using xs::fakexen::Host;

struct xc_interface_core {
    // libxenguest (Debian's, loaded by xenstore-control) reads its loggers
    // from the handle at libxenctrl 4.17's offsets: keep those fields first,
    // null, so it logs nothing (xc_dom_allocate, xc_dom_kernel_file).
    int flags = 0;
    void* error_handler = nullptr;
    void* error_handler_tofree = nullptr;
    void* dombuild_logger = nullptr;
    void* dombuild_logger_tofree = nullptr;
    std::shared_ptr<Host> host;
    xs::DomId self;
};

namespace {

thread_local xc_error last_error{XC_ERROR_NONE, {}};

void set_error(int err, const char* what) {
    last_error.code = XC_INTERNAL_ERROR;
    std::snprintf(last_error.message, sizeof last_error.message, "%s: %s", what, std::strerror(err));
    errno = err;
}

// Xen lets the control domain and the xenstore domain read any domain's info.
bool privileged(xc_interface* xch, bool xenstore_ok) {
    auto me = xs::fakexen::domain_info(*xch->host, xch->self);
    if (!me) return false;
    std::uint32_t f = me->record.flags;
    return (f & xs::fakexen::kDomFlagControl) || (xenstore_ok && (f & xs::fakexen::kDomFlagXenstore));
}

void fill_handle(xen_domain_handle_t handle, const DomainInfo& d) {
    std::memset(handle, 0, sizeof(xen_domain_handle_t));
    // The unique id, so a reused domid is visible through the 4.17 API too.
    std::memcpy(handle, &d.record.unique_id, sizeof d.record.unique_id);
}

void fill_dominfo(xc_dominfo_t& info, const DomainInfo& d) {
    info = xc_dominfo_t{};
    info.domid = d.domid;
    info.dying = d.record.state == DomainState::kDying;
    info.shutdown = d.record.state == DomainState::kShutdown;
    info.running = d.record.state == DomainState::kRunning;
    info.xenstore = (d.record.flags & xs::fakexen::kDomFlagXenstore) != 0;
    info.shutdown_reason = info.shutdown ? d.record.shutdown_reason : 0;
    // As libxenctrl does: a crash is reported as crashed, not shutdown.
    if (info.shutdown && info.shutdown_reason == SHUTDOWN_crash) {
        info.shutdown = 0;
        info.crashed = 1;
    }
    info.nr_pages = 256;
    info.max_memkb = 1024;
    info.nr_online_vcpus = 1;
    info.max_vcpu_id = 0;
    fill_handle(info.handle, d);
}

void fill_domaininfo(xc_domaininfo_t& info, const DomainInfo& d) {
    info = xc_domaininfo_t{};
    info.domain = d.domid;
    std::uint32_t flags = 0;
    switch (d.record.state) {
    case DomainState::kDying: flags |= XEN_DOMINF_dying; break;
    case DomainState::kShutdown:
        flags |= XEN_DOMINF_shutdown |
                 ((d.record.shutdown_reason & XEN_DOMINF_shutdownmask) << XEN_DOMINF_shutdownshift);
        break;
    case DomainState::kRunning: flags |= XEN_DOMINF_running; break;
    default: break;
    }
    if (d.record.flags & xs::fakexen::kDomFlagXenstore) flags |= XEN_DOMINF_xs_domain;
    info.flags = flags;
    info.tot_pages = 256;
    info.max_pages = 256;
    info.nr_online_vcpus = 1;
    info.max_vcpu_id = 0;
    fill_handle(info.handle, d);
}

}  // namespace

extern "C" {

xc_interface* xc_interface_open(xentoollog_logger*, xentoollog_logger*, unsigned) {
    auto host = Host::from_env();
    auto self = Host::self_domid_from_env();
    if (!host || !self) {
        set_error(!host ? host.error().code : self.error().code, "xc_interface_open");
        return nullptr;
    }
    auto* xch = new xc_interface_core;
    xch->host = *host;
    xch->self = *self;
    return xch;
}

int xc_interface_close(xc_interface* xch) {
    delete xch;
    return 0;
}

int xc_domain_getinfo(xc_interface* xch, uint32_t first_domid, unsigned int max_doms,
                      xc_dominfo_t* info) {
    if (!privileged(xch, true)) {
        set_error(EPERM, "getdomaininfo");
        return -1;
    }
    if (first_domid >= xs::fakexen::kMaxDomains) return 0;
    auto doms = xs::fakexen::list_domains(*xch->host, static_cast<xs::DomId>(first_domid), max_doms);
    for (std::size_t i = 0; i < doms.size(); ++i) fill_dominfo(info[i], doms[i]);
    return static_cast<int>(doms.size());
}

int xc_domain_getinfolist(xc_interface* xch, uint32_t first_domain, unsigned int max_domains,
                          xc_domaininfo_t* info) {
    if (!privileged(xch, true)) {
        set_error(EPERM, "getdomaininfolist");
        return -1;
    }
    if (first_domain >= xs::fakexen::kMaxDomains) return 0;
    auto doms =
        xs::fakexen::list_domains(*xch->host, static_cast<xs::DomId>(first_domain), max_domains);
    for (std::size_t i = 0; i < doms.size(); ++i) fill_domaininfo(info[i], doms[i]);
    return static_cast<int>(doms.size());
}

xc_evtchn_port_or_error_t xc_evtchn_alloc_unbound(xc_interface* xch, uint32_t dom,
                                                  uint32_t remote_dom) {
    if (dom != xch->self && dom != DOMID_SELF && !privileged(xch, false)) {
        set_error(EPERM, "evtchn_alloc_unbound");
        return -1;
    }
    xs::DomId d = dom == DOMID_SELF ? xch->self : static_cast<xs::DomId>(dom);
    auto port = xs::fakexen::alloc_unbound(*xch->host, d, static_cast<xs::DomId>(remote_dom));
    if (!port) {
        set_error(port.error().code, "evtchn_alloc_unbound");
        return -1;
    }
    return static_cast<int>(*port);
}

void* xc_map_foreign_range(xc_interface* xch, uint32_t dom, int size, int prot,
                           unsigned long mfn) {
    if (!privileged(xch, true)) {
        set_error(EPERM, "map_foreign_range");
        return nullptr;
    }
    if (dom > 0xFFFF || size <= 0) {
        set_error(EINVAL, "map_foreign_range");
        return nullptr;
    }
    auto p = xs::fakexen::map_foreign_frame(*xch->host, static_cast<xs::DomId>(dom), mfn,
                                            static_cast<std::size_t>(size), prot);
    if (!p) {
        set_error(p.error().code, "map_foreign_range");
        return nullptr;
    }
    return *p;
}

const xc_error* xc_get_last_error(xc_interface*) { return &last_error; }

void xc_clear_last_error(xc_interface*) { last_error = xc_error{XC_ERROR_NONE, {}}; }

const char* xc_error_code_to_desc(int code) {
    switch (code) {
    case XC_ERROR_NONE: return "No error details";
    case XC_INTERNAL_ERROR: return "Internal error";
    case XC_INVALID_KERNEL: return "Invalid kernel";
    case XC_INVALID_PARAM: return "Invalid configuration";
    case XC_OUT_OF_MEMORY: return "Out of memory";
    default: return "Unknown error code";
    }
}

const char* xc_strerror(xc_interface*, int errcode) { return std::strerror(errcode); }

}  // extern "C"
