// Fake domains: the toolstack and hypervisor side of a domain's life
// (create, shut down, destroy) and what getdomaininfo reports about it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/domid.hpp"
#include "base/result.hpp"
#include "tools/fakexen/host.hpp"

namespace xs::fakexen {

struct DomainInfo {
    DomId domid;
    DomainRecord record;
};

// Create a fake host in `dir` with dom0 running (control domain), dom0's
// ring page file (xsd_kva) and an unbound dom0 port for it (xsd_port).
Result<std::shared_ptr<Host>> init_host(const std::string& dir);

// A new domain: zeroed ring page, an unbound port of that domain for dom0
// (its xenstore event channel), a fresh unique id. EEXIST if it exists.
Result<DomainInfo> create_domain(Host& host, DomId domid, std::uint32_t flags = 0);
// Write `port` into the domain's ring page (evtchn_port), as Xen's dom0less
// builder does for domains that boot without a toolstack: a daemon starting
// later connects them without an INTRODUCE.
Result<> publish_ring_port(Host& host, DomId domid, std::uint32_t port);
// The guest shut down with `reason` (SHUTDOWN_*). Raises VIRQ_DOM_EXC.
Result<> shutdown_domain(Host& host, DomId domid, std::uint32_t reason);
// Destroy: the domain becomes dying (its event channels close), then gone
// unless `stop_at_dying` (a zombie some backend still holds). Raises
// VIRQ_DOM_EXC at each step. Destroying a dying domain finishes the job.
Result<> destroy_domain(Host& host, DomId domid, bool stop_at_dying = false);

// The domain as getdomaininfo sees it; ESRCH if the hypervisor does not know it.
Result<DomainInfo> domain_info(Host& host, DomId domid);
// Existing domains with domid >= first, in order, at most `max`.
std::vector<DomainInfo> list_domains(Host& host, DomId first = 0,
                                     std::size_t max = static_cast<std::size_t>(-1));

// dom0's xenstore port as written in xsd_port.
Result<std::uint32_t> read_xsd_port(const Host& host);

// SHUTDOWN_* names ("poweroff", "reboot", "suspend", "crash", "watchdog",
// "soft_reset") and back.
std::optional<std::uint32_t> shutdown_reason_from_name(std::string_view name);
std::string_view shutdown_reason_name(std::uint32_t reason);
std::string_view state_name(DomainState state);

}  // namespace xs::fakexen
