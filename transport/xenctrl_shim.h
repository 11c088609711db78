/* A C shim over the few libxenctrl calls the daemon needs: xenctrl.h does
 * not compile as C++, so the daemon sees only these plain declarations. */
#ifndef XS_XENCTRL_SHIM_H
#define XS_XENCTRL_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xs_dominfo {
    uint32_t domid;
    int dying;
    int shutdown;
    int crashed;
    unsigned shutdown_reason;
    uint64_t unique; /* derived from the domain handle: changes when a domid is reused */
};

/* NULL when there is no hypervisor (or no permission). */
void* xs_xc_open(void);
void xs_xc_close(void* xc);
/* Bytes of scratch space (8-byte aligned) xs_xc_domains needs for `max`. */
size_t xs_xc_scratch_size(unsigned max);
/* Up to `max` existing domains with id >= first, ascending; -1 on error.
 * `scratch` holds xs_xc_scratch_size(max) bytes: the caller keeps it, so a
 * call allocates nothing (VIRQ_DOM_EXC asks at every domain's death). */
int xs_xc_domains(void* xc, uint32_t first, unsigned max, void* scratch, struct xs_dominfo* out);

#ifdef __cplusplus
}
#endif

#endif
