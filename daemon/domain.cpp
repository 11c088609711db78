// Guest domains: introduction (mapping the ring, binding the event
// channel), death (VIRQ_DOM_EXC), release, and the store domain's own ring.
#include <fcntl.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unordered_map>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"
#include "daemon/ring_port.hpp"

namespace xs::daemon {

void Daemon::attach_hypervisor(std::unique_ptr<transport::Hypervisor> hv) {
    hv_ = std::move(hv);
    int fd = hv_->event_fd();
    // Non-blocking, so every pending port can be drained in one go.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    auto virq = hv_->bind_dom_exc();
    if (virq) virq_port_ = *virq;
    else log::error("cannot bind VIRQ_DOM_EXC: %s: domain deaths will go unnoticed", std::strerror(virq.error().code));
    loop_.watch_readable(fd, kEventToken);
}

// The store domain's own ring: page and port from files the kernel provides.
Result<> Daemon::introduce_store_domain() {
    std::ifstream in(cfg_.dom0_port);
    std::string text;
    if (!(in >> text)) return fail(ENOENT);
    char* end = nullptr;
    unsigned long port = std::strtoul(text.c_str(), &end, 0);
    if (*end != '\0' || port == 0 || port > 0xFFFFFFFFul) return fail(EINVAL);
    return introduce_domain(store_domid(), static_cast<std::uint32_t>(port));
}

Result<> Daemon::introduce_domain(DomId domid, std::uint32_t port) {
    if (!hv_) return fail(ENOSYS);  // no hypervisor: sockets only
    bool known = domains_.find(domid) != nullptr;
    Domain& d = domains_.get(domid);
    // A failed introduction leaves no record behind (a record would make
    // permissions naming a domain that does not exist take effect).
    auto refuse = [&](Error e) -> Result<> {
        if (!known) domains_.erase(domid);
        return fail(e);
    };
    Connection* c = d.introduced ? find(d.conn) : nullptr;
    if (!c) {
        bool from_file = domid == store_domid();
        Result<ring::Interface*> page =
            from_file ? hv_->map_file_ring(cfg_.dom0_kva) : hv_->map_guest_ring(domid);
        if (!page) return refuse(page.error());
        // A ring may name its own event channel (dom0less, Hyperlaunch).
        std::uint32_t wanted = std::atomic_ref<std::uint32_t>((*page)->evtchn_port).load(std::memory_order_acquire);
        Result<std::uint32_t> local = hv_->bind_interdomain(domid, wanted ? wanted : port);
        if (!local) {
            hv_->unmap_ring(*page, from_file);
            return refuse(local.error());
        }
        c = &add_connection(Connection::Kind::Ring, domid, domid == priv_domid_);
        c->ring = std::make_unique<RingPort>(*hv_, *page, from_file, *local);
        c->features = d.features;
        d.credit.configure(cfg_.write_rate, static_cast<double>(cfg_.write_burst));
        by_port_[*local] = c->id();
        d.introduced = true;
        d.conn = c->id();
        if (auto info = hv_->domain(domid); info && *info) d.unique_id = (*info)->unique;
        std::atomic_ref<std::uint32_t>((*page)->server_features).store(d.features, std::memory_order_release);
        if (domid != priv_domid_) fire_special(store::kIntroduceDomain, domid);
        log::info("domain %u introduced (port %u)", domid, *local);
    } else {
        // A live domain introduced again: rebind its channel (a failure
        // leaves it unbound, as upstream) and reset the ring below.
        by_port_.erase(c->ring->port());
        hv_->unbind(c->ring->port());
        c->ring->set_port(0);
        if (auto local = hv_->bind_interdomain(domid, port)) {
            c->ring->set_port(*local);
            by_port_[*local] = c->id();
        }
    }
    reset_ring(*c, false);
    return {};
}

// Everything a domain leaves behind goes: its connection (watches first, so
// it gets no events for its own nodes), its nodes (or, with -K, they pass to
// the privileged domain), permissions naming it, its quota overrides.
void Daemon::destroy_domain(DomId domid) {
    Domain* d = domains_.find(domid);
    if (!d) return;
    bool was_introduced = d->introduced;
    if (Connection* c = find(d->conn)) {
        drop_state(*c);
        if (c->ring) by_port_.erase(c->ring->port());
        close(*c);
        c->ring.reset();
    }
    store::Effects e = store_.remove_domain(domid, cfg_.keep_orphans);
    account(e.deltas);
    for (const store::Change& ch : e.changes) fire(ch, nullptr);
    unpin_transactions();
    domains_.erase(domid);
    quotas_.forget(domid);
    if (was_introduced) {
        fire_special(store::kReleaseDomain, domid);
        log::info("domain %u released", domid);
    }
}

// VIRQ_DOM_EXC: find out which known domains died or shut down.
void Daemon::check_domains() {
    if (!hv_) return;
    bool notify_release = false;
    // The hypervisor's whole list in one go (one getdomaininfolist call for
    // up to a few hundred domains), not one call per domain we know: the
    // VIRQ fires at every domain's creation and death, and with a hundred
    // domains the calls one by one made this a turn of its own.
    auto all = hv_->domains();
    if (!all) return;  // cannot tell now; try again on the next event
    std::unordered_map<DomId, transport::DomainInfo> live;
    for (const transport::DomainInfo& i : *all) live.emplace(i.domid, i);
    std::vector<DomId> ids;
    for (const auto& [id, d] : domains_.all())
        if (id != priv_domid_ && id != store_domid()) ids.push_back(id);
    for (DomId id : ids) {
        Domain* d = domains_.find(id);
        if (!d) continue;
        auto info = live.find(id);
        // An introduced domain goes when it starts dying (its ring is
        // unusable); a record kept only for permissions and quotas stays
        // until the domain is really gone, as upstream.
        bool dead = info == live.end() || (d->unique_id && info->second.unique != d->unique_id);
        bool gone = dead || (d->introduced && info->second.dying);
        if (gone) {
            destroy_domain(id);
            continue;
        }
        if (info->second.shutdown && d->introduced && !d->shutdown_noticed) {
            d->shutdown_noticed = true;
            fire_special_numbered(store::kReleaseDomain, id);
            notify_release = true;
        }
    }
    if (notify_release) fire_special_plain(store::kReleaseDomain);
}

// Pending ports for at most kGuestSlice (at least one): the fd stays
// readable while ports wait, so the rest come next turn. VIRQ_DOM_EXC is
// looked into once, after the drain: a domain's destruction raises it twice
// (dying, then gone), and the second comes back at the unmask of the first,
// so checking at each pop made two walks of the hypervisor's list where
// one, made after both were taken, sees the same.
void Daemon::on_event_channel() {
    const Clock::time_point until = loop_.now() + kGuestSlice;
    bool domains_changed = false;
    for (bool first = true; first || loop_.now() < until; first = false) {
        auto port = hv_->pending();
        if (!port) break;
        hv_->unmask(*port);
        if (*port == virq_port_) {
            domains_changed = true;
            continue;
        }
        auto it = by_port_.find(*port);
        if (it == by_port_.end()) continue;
        if (Connection* c = find(it->second)) {
            schedule_ring(*c);
            mark_dirty(*c);  // the guest may have made room for our output
        }
    }
    if (domains_changed) check_domains();
}

}  // namespace xs::daemon
