// A fresh stub domain connects the domains that already exist, dom0less
// style: nobody is there to INTRODUCE dom0 or domains the hypervisor built
// at boot. Later domains are introduced by dom0's toolstack as usual.
#include <atomic>
#include <cstring>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"
#include "store/path.hpp"

namespace xs::daemon {

std::vector<DomId> Daemon::start_stub_domain() {
    std::vector<DomId> connected;
    if (auto ok = introduce_store_domain(); ok) connected.push_back(store_domid());
    else log::warning("cannot connect dom0's ring: %s", std::strerror(ok.error().code));
    auto all = hv_ ? hv_->domains() : Result<std::vector<transport::DomainInfo>>(fail(ENOSYS));
    if (!all) log::warning("cannot list the domains: %s", std::strerror(all.error().code));
    for (const transport::DomainInfo& info : all ? *all : std::vector<transport::DomainInfo>{}) {
        if (info.domid == priv_domid_ || info.domid == store_domid() || info.dying || info.shutdown) continue;
        // Port 0: only a ring page that names its event channel is connected.
        if (auto ok = introduce_domain(info.domid, 0); ok) {
            connected.push_back(info.domid);
            continue;
        }
        if (Domain* d = domains_.find(info.domid); d && !d->introduced) domains_.erase(info.domid);
        log::info("domain %u not connected: its ring names no event channel (introduce it)", info.domid);
    }
    // What xenstore-control checks to tell a stub domain (and its chunked
    // live update) from a daemon in dom0.
    store::OpContext ctx = store_.context(store::Caller{priv_domid_, true, std::nullopt}, store::Budget{});
    std::string domid = std::to_string(store_domid());
    auto e = store_.edit([&](store::Tree& t) { return t.write(ctx, "/tool/xenstored/domid", domid); });
    if (e) account(e->deltas);
    return connected;
}

}  // namespace xs::daemon
