/* The rest of libxenctrl.so.4.17's interface that Debian's xenstored,
 * oxenstored and libxenguest.so.4.17 import: stubs, so those programs load
 * against the fake library. None of them is called by a xenstore daemon;
 * each fails with ENOSYS (NULL for pointer results, -1 for the others;
 * callers of the void ones ignore the value).
 *
 * Plain C and without xenctrl.h on purpose: the stubs take no arguments,
 * which is harmless under the x86-64 calling convention (the caller owns its
 * argument registers and stack), and keeps this list short. */
#include <errno.h>
#include <stddef.h>

#define STUB_INT(name) \
    long name(void);   \
    long name(void) {  \
        errno = ENOSYS; \
        return -1;     \
    }

#define STUB_PTR(name) \
    void* name(void);  \
    void* name(void) { \
        errno = ENOSYS; \
        return NULL;   \
    }

STUB_INT(discard_file_cache)
STUB_INT(read_exact)
STUB_INT(write_exact)
STUB_INT(writev_exact)
STUB_INT(xc__hypercall_bounce_post)
STUB_INT(xc__hypercall_bounce_pre)
STUB_PTR(xc__hypercall_buffer_alloc)
STUB_PTR(xc__hypercall_buffer_alloc_pages)
STUB_INT(xc__hypercall_buffer_free)
STUB_INT(xc__hypercall_buffer_free_pages)
STUB_INT(xc_add_mmu_update)
STUB_PTR(xc_alloc_mmu_updates)
STUB_INT(xc_assign_device)
STUB_INT(xc_clear_domain_pages)
STUB_PTR(xc_cpumap_alloc)
STUB_INT(xc_deassign_device)
STUB_INT(xc_domain_add_to_physmap)
STUB_INT(xc_domain_cacheflush)
STUB_INT(xc_domain_claim_pages)
STUB_INT(xc_domain_create)
STUB_INT(xc_domain_destroy)
STUB_INT(xc_domain_get_guest_width)
STUB_INT(xc_domain_get_tsc_info)
STUB_INT(xc_domain_hvm_getcontext)
STUB_INT(xc_domain_hvm_setcontext)
STUB_INT(xc_domain_increase_reservation_exact)
STUB_INT(xc_domain_iomem_permission)
STUB_INT(xc_domain_ioport_permission)
STUB_INT(xc_domain_irq_permission)
STUB_INT(xc_domain_max_vcpus)
STUB_INT(xc_domain_memory_exchange_pages)
STUB_INT(xc_domain_nr_gpfns)
STUB_INT(xc_domain_pause)
STUB_INT(xc_domain_populate_physmap)
STUB_INT(xc_domain_populate_physmap_exact)
STUB_INT(xc_domain_resume)
STUB_INT(xc_domain_set_memmap_limit)
STUB_INT(xc_domain_set_pod_target)
STUB_INT(xc_domain_set_tsc_info)
STUB_INT(xc_domain_sethandle)
STUB_INT(xc_domain_setmaxmem)
STUB_INT(xc_domain_shutdown)
STUB_INT(xc_domain_subscribe_for_suspend)
STUB_INT(xc_domain_unpause)
STUB_INT(xc_domctl)
STUB_INT(xc_evtchn_reset)
STUB_INT(xc_flush_mmu_updates)
STUB_INT(xc_get_cpu_featureset)
STUB_INT(xc_get_max_cpus)
STUB_INT(xc_get_pfn_type_batch)
STUB_INT(xc_getcpuinfo)
STUB_PTR(xc_gnttab_map_table_v1)
STUB_PTR(xc_gnttab_map_table_v2)
STUB_INT(xc_gnttab_op)
STUB_INT(xc_hvm_param_get)
STUB_INT(xc_hvm_param_set)
STUB_INT(xc_logdirty_control)
STUB_INT(xc_machphys_mfn_list)
STUB_INT(xc_make_page_below_4G)
STUB_PTR(xc_map_foreign_pages)
STUB_PTR(xc_map_foreign_ranges)
STUB_INT(xc_maximum_ram_page)
STUB_INT(xc_memory_op)
STUB_INT(xc_mmuext_op)
STUB_INT(xc_physinfo)
STUB_INT(xc_readconsolering)
STUB_INT(xc_report)
STUB_INT(xc_report_error)
STUB_INT(xc_report_progress_single)
STUB_INT(xc_report_progress_step)
STUB_INT(xc_reportv)
STUB_INT(xc_sched_credit_domain_get)
STUB_INT(xc_sched_credit_domain_set)
STUB_INT(xc_sched_id)
STUB_INT(xc_send_debug_keys)
STUB_INT(xc_set_progress_prefix)
STUB_INT(xc_shadow_control)
STUB_INT(xc_sysctl)
STUB_INT(xc_test_assign_device)
STUB_INT(xc_vcpu_getaffinity)
STUB_INT(xc_vcpu_getcontext)
STUB_INT(xc_vcpu_getinfo)
STUB_INT(xc_vcpu_setaffinity)
STUB_INT(xc_vcpu_setcontext)
STUB_INT(xc_version)
STUB_INT(xc_watchdog)
