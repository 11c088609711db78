// The fuzzer's fake Xen host (docs/fakexen.md): one per process, in a
// temporary directory, with two guest domains whose kernel side the fuzzer
// plays in-process, and dom0's own ring (xsd_kva, xsd_port) as a third. The daemon reaches it through the drop-in libraries the
// target is linked against.
#pragma once

#include <memory>
#include <string>

#include "base/domid.hpp"
#include "tools/fakexen/guest.hpp"
#include "tools/fakexen/host.hpp"
#include "tools/fakexen/layout.hpp"

namespace xs::fuzz {

class GuestHost {
public:
    static constexpr int kGuests = 2;
    static constexpr int kDom0 = kGuests;  // index of dom0's own ring (never dies)

    // The process's host, created on first use (and XSTORE_FAKEXEN set).
    static GuestHost& get();
    ~GuestHost();

    // Before each input: every guest running with a zeroed page, its
    // event channel unbound for dom0, a fresh attachment, no kicks waiting.
    void prepare();

    DomId domid(int i) const { return i == kDom0 ? DomId{0} : static_cast<DomId>(i + 1); }
    fakexen::Guest& guest(int i) { return *guests_[i]; }
    fakexen::DomainRecord record(int i);
    bool alive(int i);
    // The guest's xenstore event channel is bound by dom0 (the daemon serves
    // it: introduced, not released, not rebound elsewhere).
    bool bound(int i);
    // The guest dies (VIRQ_DOM_EXC reaches the daemon), or stops at dying.
    void destroy(int i, bool stop_at_dying = false);
    // The guest shuts down (it still exists: the daemon keeps serving it).
    void shutdown(int i, std::uint32_t reason);
    // dom0's ring page and port files (the daemon's --xsd-kva, --xsd-port).
    std::string xsd_kva() const;
    std::string xsd_port() const;
    // Remove the host's files now (the process is about to abort, and
    // destructors will not run).
    void discard();

private:
    GuestHost();
    void revive(int i);

    std::string dir_;
    std::shared_ptr<fakexen::Host> host_;
    std::shared_ptr<fakexen::Guest> guests_[kGuests + 1];
};

}  // namespace xs::fuzz
