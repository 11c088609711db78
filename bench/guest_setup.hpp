// What the guests workload needs before its guests can talk: each domain
// exists on the fake-Xen host, owns its home /local/domain/<domid> (as
// `xstore-fakexen introduce --guest-home` sets it up) and is introduced to
// the daemon. Domains that already exist and are introduced are reused, so
// the workload can run again against the same daemon.
#pragma once

#include <string>
#include <vector>

#include "bench/context.hpp"
#include "base/domid.hpp"
#include "tools/fakexen/domains.hpp"

namespace xs::bench {

// The domids first .. first + count - 1.
std::vector<DomId> guest_domids(std::uint64_t first, std::uint64_t count);

// "/local/domain/<domid>".
std::string guest_home(DomId domid);

// Every domain of `domids` on the fake host ctx.opts().fakexen, created
// when the hypervisor does not know it yet; it must be running.
Checked<std::vector<fakexen::DomainInfo>> ensure_domains(Context& ctx, const std::vector<DomId>& domids);

// Create, give a home to and introduce every domain of `domids` on the fake
// host ctx.opts().fakexen, over the daemon's socket.
Checked<> prepare_guests(Context& ctx, const std::vector<DomId>& domids);

}  // namespace xs::bench
