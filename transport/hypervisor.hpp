// The hypervisor pieces xenstore uses, behind one small interface: domain
// state (libxenctrl), event channels (libxenevtchn) and ring pages
// (libxengnttab for guests, a mapped file for the store domain's own ring).
// Under test the same C libraries are the fake-Xen ones.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/domid.hpp"
#include "base/result.hpp"
#include "transport/ring_layout.hpp"

namespace xs::transport {

struct DomainInfo {
    DomId domid = 0;
    bool dying = false;
    bool shutdown = false;
    bool crashed = false;
    std::uint64_t unique = 0;  // changes when the domid is reused
};

class Hypervisor {
public:
    // Opens libxenevtchn (required), libxengnttab and libxenctrl. nullptr
    // with `why` when this is not a Xen host (or the fake is not set up).
    static std::unique_ptr<Hypervisor> open(std::string& why);
    // The same with the event-channel fd a live update inherited from the
    // previous daemon (its bindings stay in place).
    static std::unique_ptr<Hypervisor> adopt(int evtchn_fd, std::string& why);
    ~Hypervisor();

    // ---- domains ----
    // nullopt: the domain does not exist; error: cannot tell.
    Result<std::optional<DomainInfo>> domain(DomId id);
    Result<std::vector<DomainInfo>> domains();

    // ---- event channels ----
    int event_fd() const;
    Result<std::uint32_t> bind_interdomain(DomId remote, std::uint32_t remote_port);
    Result<std::uint32_t> bind_dom_exc();  // VIRQ_DOM_EXC
    void unbind(std::uint32_t local_port);
    void notify(std::uint32_t local_port);
    // The next pending port, if any (its delivery stays masked until unmask).
    std::optional<std::uint32_t> pending();
    void unmask(std::uint32_t local_port);

    // ---- ring pages ----
    // A guest's page: grant reference 1, read/write.
    Result<ring::Interface*> map_guest_ring(DomId domid);
    // The store domain's own page, from a file (/proc/xen/xsd_kva).
    Result<ring::Interface*> map_file_ring(const std::string& path);
    void unmap_ring(ring::Interface* page, bool from_file);

private:
    Hypervisor() = default;
    static std::unique_ptr<Hypervisor> with_event_channels(void* evtchn, bool adopted, std::string& why);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace xs::transport
