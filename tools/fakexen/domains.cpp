#include "tools/fakexen/domains.hpp"

#include <algorithm>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "tools/fakexen/evtchn.hpp"
#include "transport/ring_layout.hpp"

namespace xs::fakexen {

namespace {

// Xen's SHUTDOWN_* codes, by value.
constexpr std::array<std::string_view, 6> kReasons = {"poweroff", "reboot", "suspend",
                                                      "crash",    "watchdog", "soft_reset"};

Result<> write_text_file(const std::string& path, const std::string& text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(errno);
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    int e = errno;
    ::close(fd);
    if (!ok) return fail(e);
    return {};
}

// Fill a record for a domain that starts running now (host lock held).
void start_record(Host& host, DomainRecord& d, std::uint32_t flags) {
    d = DomainRecord{};
    d.state = DomainState::kRunning;
    d.unique_id = ++host.header().next_unique_id;
    d.flags = flags;
    d.ring_gfn = kRingGfn;
}

}  // namespace

Result<std::shared_ptr<Host>> init_host(const std::string& dir) {
    auto host = Host::create(dir);
    if (!host) return host;
    Host& h = **host;
    auto lock = h.lock();
    if (auto r = write_zero_file(h.xsd_kva_path(), kPageSize); !r) return fail(r.error());
    start_record(h, h.domain(0), kDomFlagControl);
    h.header().domid_end = 1;
    // What dom0's kernel does at boot when xenstored runs in dom0: an unbound
    // port of its own, published in /proc/xen/xsd_port.
    auto port = alloc_unbound_locked(h, 0, 0);
    if (!port) return fail(port.error());
    h.domain(0).store_port = *port;
    if (auto r = write_text_file(h.xsd_port_path(), std::to_string(*port)); !r)
        return fail(r.error());
    return host;
}

Result<DomainInfo> create_domain(Host& host, DomId domid, std::uint32_t flags) {
    if (domid >= kMaxDomains) return fail(EINVAL);
    auto lock = host.lock();
    DomainRecord& d = host.domain(domid);
    if (domain_exists(d.state)) return fail(EEXIST);
    // A new file, not a rewrite: mappings of a previous domain with this
    // domid keep seeing the old page.
    if (auto r = write_zero_file(host.ring_path(domid), kPageSize); !r)
        return fail(r.error());
    DomainRecord old = d;
    start_record(host, d, flags);
    if (domid >= host.header().domid_end) host.header().domid_end = domid + 1u;
    auto port = alloc_unbound_locked(host, domid, 0);
    if (!port) {
        d = old;
        return fail(port.error());
    }
    d.store_port = *port;
    return DomainInfo{domid, d};
}

Result<> publish_ring_port(Host& host, DomId domid, std::uint32_t port) {
    int fd = ::open(host.ring_path(domid).c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno);
    ssize_t n = ::pwrite(fd, &port, sizeof port, offsetof(ring::Interface, evtchn_port));
    int e = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(sizeof port)) return fail(n < 0 ? e : EIO);
    return {};
}

Result<> shutdown_domain(Host& host, DomId domid, std::uint32_t reason) {
    if (domid >= kMaxDomains) return fail(ESRCH);
    auto lock = host.lock();
    DomainRecord& d = host.domain(domid);
    if (!domain_exists(d.state)) return fail(ESRCH);
    if (d.state == DomainState::kDying) return fail(EINVAL);
    d.state = DomainState::kShutdown;
    d.shutdown_reason = reason;
    raise_virq_locked(host, kVirqDomExc);
    return {};
}

Result<> destroy_domain(Host& host, DomId domid, bool stop_at_dying) {
    if (domid == 0) return fail(EPERM);
    if (domid >= kMaxDomains) return fail(ESRCH);
    auto lock = host.lock();
    DomainRecord& d = host.domain(domid);
    if (!domain_exists(d.state)) return fail(ESRCH);
    if (d.state != DomainState::kDying) {
        d.state = DomainState::kDying;
        close_domain_ports_locked(host, domid);
        raise_virq_locked(host, kVirqDomExc);
    }
    if (!stop_at_dying) {
        d.state = DomainState::kDestroyed;
        raise_virq_locked(host, kVirqDomExc);
    }
    return {};
}

Result<DomainInfo> domain_info(Host& host, DomId domid) {
    if (domid >= kMaxDomains) return fail(ESRCH);
    auto lock = host.lock();
    const DomainRecord& d = host.domain(domid);
    if (!domain_exists(d.state)) return fail(ESRCH);
    return DomainInfo{domid, d};
}

std::vector<DomainInfo> list_domains(Host& host, DomId first, std::size_t max) {
    std::vector<DomainInfo> out;
    auto lock = host.lock();
    // Like the hypervisor's domain list, only as long as the domains created.
    std::uint32_t end = std::min<std::uint32_t>(host.header().domid_end, kMaxDomains);
    for (std::uint32_t id = first; id < end && out.size() < max; ++id) {
        const DomainRecord& d = host.domain(static_cast<DomId>(id));
        if (domain_exists(d.state)) out.push_back({static_cast<DomId>(id), d});
    }
    return out;
}

Result<std::uint32_t> read_xsd_port(const Host& host) {
    int fd = ::open(host.xsd_port_path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno);
    char buf[32] = {};
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return fail(EINVAL);
    char* end = nullptr;
    unsigned long v = std::strtoul(buf, &end, 0);
    if (end == buf || v == 0 || v >= kMaxPorts) return fail(EINVAL);
    return static_cast<std::uint32_t>(v);
}

std::optional<std::uint32_t> shutdown_reason_from_name(std::string_view name) {
    for (std::size_t i = 0; i < kReasons.size(); ++i)
        if (kReasons[i] == name) return static_cast<std::uint32_t>(i);
    return std::nullopt;
}

std::string_view shutdown_reason_name(std::uint32_t reason) {
    return reason < kReasons.size() ? kReasons[reason] : std::string_view("unknown");
}

std::string_view state_name(DomainState state) {
    switch (state) {
    case DomainState::kNone: return "none";
    case DomainState::kRunning: return "running";
    case DomainState::kShutdown: return "shutdown";
    case DomainState::kDying: return "dying";
    case DomainState::kDestroyed: return "destroyed";
    }
    return "unknown";
}

}  // namespace xs::fakexen
