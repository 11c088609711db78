#define __XEN_TOOLS__ 1
#include "transport/xenctrl_shim.h"

#include <xenctrl.h>

void* xs_xc_open(void) { return xc_interface_open(NULL, NULL, 0); }

void xs_xc_close(void* xc) {
    if (xc) xc_interface_close((xc_interface*)xc);
}

/* FNV-1a over the domain handle and the domid. */
static uint64_t unique_of(const xc_domaininfo_t* d) {
    uint64_t h = 1469598103934665603ull;
    const unsigned char* p = (const unsigned char*)d->handle;
    for (size_t i = 0; i < sizeof d->handle; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return (h ^ d->domain) * 1099511628211ull;
}

size_t xs_xc_scratch_size(unsigned max) { return (size_t)max * sizeof(xc_domaininfo_t); }

int xs_xc_domains(void* xc, uint32_t first, unsigned max, void* scratch, struct xs_dominfo* out) {
    if (!xc || max == 0 || !scratch) return -1;
    xc_domaininfo_t* info = scratch;
    int n = xc_domain_getinfolist((xc_interface*)xc, first, max, info);
    for (int i = 0; i < n; ++i) {
        out[i].domid = info[i].domain;
        out[i].dying = !!(info[i].flags & XEN_DOMINF_dying);
        out[i].shutdown = !!(info[i].flags & XEN_DOMINF_shutdown);
        out[i].shutdown_reason = (info[i].flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
        out[i].crashed = out[i].shutdown && out[i].shutdown_reason == SHUTDOWN_crash;
        out[i].unique = unique_of(&info[i]);
    }
    return n;
}
