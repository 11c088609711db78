// On-disk layout of a fake host: the records every process maps from the
// file `<host>/host`. The layout is documented in docs/fakexen.md; change
// both together and bump kLayoutVersion.
//
// All mutable fields are changed only while holding HostHeader::lock (a
// robust, process-shared mutex), so plain fields suffice; the mutex gives
// the ordering between processes.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <cstdint>

namespace xs::fakexen {

inline constexpr char kMagic[8] = {'X', 'S', 'F', 'A', 'K', 'E', 'X', 'N'};
inline constexpr std::uint32_t kLayoutVersion = 1;

// Table sizes. Domids below 0x7FF0 are real domains (DOMID_FIRST_RESERVED).
inline constexpr std::uint32_t kMaxDomains = 0x7FF0;
// Event-channel ports on the whole fake host (port 0 is never used).
inline constexpr std::uint32_t kMaxPorts = 32768;
// Open xenevtchn handles on the whole fake host.
inline constexpr std::uint32_t kMaxHandles = 1024;
// Ports one handle can hold; also the depth of its delivery queue, so the
// queue can never overflow (a port is queued at most once).
inline constexpr std::uint32_t kPortsPerHandle = 4096;

inline constexpr std::size_t kPageSize = 4096;

// ---- domains ----
enum class DomainState : std::uint32_t {
    kNone = 0,       // never created
    kRunning = 1,
    kShutdown = 2,   // shut down (reason in shutdown_reason), not yet destroyed
    kDying = 3,      // destruction started: event channels closed
    kDestroyed = 4,  // gone; the record keeps unique_id history only
};

// The hypervisor still knows the domain (getdomaininfo finds it).
inline constexpr bool domain_exists(DomainState s) {
    return s == DomainState::kRunning || s == DomainState::kShutdown || s == DomainState::kDying;
}

// Domain flags (DomainRecord::flags).
inline constexpr std::uint32_t kDomFlagControl = 1u << 0;   // privileged (toolstack) domain
inline constexpr std::uint32_t kDomFlagXenstore = 1u << 1;  // the xenstore domain

struct DomainRecord {
    DomainState state;
    std::uint32_t shutdown_reason;  // SHUTDOWN_* while state == kShutdown
    std::uint64_t unique_id;        // new value each time the domid is created
    std::uint32_t flags;
    std::uint32_t store_port;  // the domain's own end of its xenstore event channel
    std::uint64_t ring_gfn;    // frame number of the xenstore page (INTRODUCE's gfn)
};

// ---- event channels ----
enum class PortState : std::uint32_t {
    kFree = 0,
    kUnbound = 1,      // waits for remote_domid to bind_interdomain to it
    kInterdomain = 2,  // connected to (remote_domid, remote_port)
    kVirq = 3,         // delivers virtual IRQ `virq`
};

struct PortRecord {
    PortState state;
    std::uint16_t domid;         // owning domain
    std::uint16_t remote_domid;  // kUnbound: who may bind; kInterdomain: peer domain
    std::uint32_t remote_port;   // kInterdomain: the peer port
    std::uint32_t virq;          // kVirq: the VIRQ number
    std::uint64_t handle;        // HandleRef of the listening handle, 0 if none
    std::uint32_t attached;      // 1: the listener attached without owning the port
    std::uint32_t pending;       // an event arrived while masked or unheard
    std::uint32_t masked;        // delivered, waiting for unmask
    std::uint32_t sends;         // notifies sent from this port (for tests: kicks per request)
};

// A HandleRef names one open handle: slot + 1 in the low half, the slot's
// generation in the high half (slots are reused, refs are not).
using HandleRef = std::uint64_t;
inline constexpr HandleRef make_ref(std::uint32_t slot, std::uint32_t gen) {
    return (static_cast<std::uint64_t>(gen) << 32) | (slot + 1);
}
inline constexpr std::uint32_t ref_slot(HandleRef r) { return static_cast<std::uint32_t>(r) - 1; }
inline constexpr std::uint32_t ref_gen(HandleRef r) { return static_cast<std::uint32_t>(r >> 32); }

inline constexpr std::uint16_t kNoRestriction = 0xFFFF;

// One open xenevtchn handle. Delivered ports wait in `queue`; the handle's
// wake-up socket holds one doorbell datagram exactly while the queue is
// non-empty, so its fd polls readable like /dev/xen/evtchn does.
struct HandleRecord {
    std::uint32_t in_use;
    std::uint32_t generation;
    std::uint16_t domid;
    std::uint16_t restrict_domid;  // kNoRestriction or the only domain it may bind to
    std::int32_t pid;              // informational: the opener
    std::uint32_t nports;
    std::uint32_t head;   // index of the oldest queued port
    std::uint32_t count;  // queued ports
    std::uint32_t pad;
    std::uint32_t queue[kPortsPerHandle];
};

struct HostHeader {
    char magic[8];
    std::uint32_t version;
    std::uint32_t pad0;
    std::uint64_t host_id;          // random; names the wake-up sockets of this host
    std::uint64_t next_unique_id;   // last domain unique id handed out
    std::uint32_t next_generation;  // last handle generation handed out
    std::uint32_t domid_end;        // one past the highest domid ever created: where scans stop
    pthread_mutex_t lock;
};

// Byte offsets of the tables inside the host file (each page aligned).
inline constexpr std::size_t align_page(std::size_t n) { return (n + kPageSize - 1) & ~(kPageSize - 1); }
inline constexpr std::size_t kDomainsOffset = align_page(sizeof(HostHeader));
inline constexpr std::size_t kPortsOffset =
    kDomainsOffset + align_page(sizeof(DomainRecord) * kMaxDomains);
inline constexpr std::size_t kHandlesOffset =
    kPortsOffset + align_page(sizeof(PortRecord) * kMaxPorts);
inline constexpr std::size_t kHostFileSize =
    kHandlesOffset + align_page(sizeof(HandleRecord) * kMaxHandles);

// Well-known event-channel constants (xen/event_channel.h, xen/xen.h).
inline constexpr std::uint32_t kNrVirqs = 24;
inline constexpr std::uint32_t kVirqDomExc = 3;
inline constexpr std::uint16_t kDomidSelf = 0x7FF0;

// Names of the files inside a fake host directory.
inline constexpr const char* kHostFile = "host";
inline constexpr const char* kRingsDir = "rings";
inline constexpr const char* kXsdKvaFile = "xsd_kva";
inline constexpr const char* kXsdPortFile = "xsd_port";

// The frame number the fake toolstack gives every xenstore page (the HVM
// "special page" Xen's toolstack uses for xenstore).
inline constexpr std::uint64_t kRingGfn = 0xfeffc;

}  // namespace xs::fakexen
