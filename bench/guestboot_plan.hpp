// What one guest's boot looks like on the wire, after Xen's
// docs/misc/xenstore-paths.md and the PV split-driver protocol
// (xen/include/public/io/xenbus.h, blkif.h): the toolstack writes the
// domain's tree and a vbd's frontend and backend directories in one
// transaction; then backend and frontend step through the XenbusState
// values, each watching the other's `state` node:
//
//   backend   Initialising -> InitWait (features written)
//   frontend  reads its tree, sees InitWait, writes ring-ref,
//             event-channel and protocol and Initialised in a transaction
//   backend   sees Initialised, reads the ring details, writes the disk's
//             size and Connected
//   frontend  sees Connected, reads the size, writes Connected
//   backend   sees Connected: the domain has booted.
//
// Pure code: the paths, payloads and the request lists.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/domid.hpp"

namespace xs::bench {

// XenbusState (xen/include/public/io/xenbus.h).
enum class XenbusState : int {
    kUnknown = 0, kInitialising = 1, kInitWait = 2, kInitialised = 3, kConnected = 4,
    kClosing = 5, kClosed = 6, kReconfiguring = 7, kReconfigured = 8,
};
std::string state_text(XenbusState s);  // "4"

// The vbd every guest gets: xvda, Linux's 51712 (202 << 8).
inline constexpr std::string_view kBootVdev = "51712";

struct BootPaths {
    DomId domid = 0;
    std::string home;      // /local/domain/<d>
    std::string frontend;  // <home>/device/vbd/51712
    std::string backend;   // /local/domain/0/backend/vbd/<d>/51712
    std::string backend_parent;  // /local/domain/0/backend/vbd/<d>: what teardown removes
    std::string fe_state() const { return frontend + "/state"; }
    std::string be_state() const { return backend + "/state"; }
};
BootPaths boot_paths(DomId domid);

// One request of a plan: its type, its payload (NULs included) and, for a
// READ whose answer is known, that answer.
struct BootRequest {
    std::uint32_t type;
    std::string payload;
    std::string expect;  // READ: the value; DIRECTORY: the listing; "" otherwise
    bool check = false;
};

// The toolstack's creation transaction (between TRANSACTION_START and
// TRANSACTION_END): the domain's home readable by the guest, its data/
// owned by it, the frontend directory owned by the guest and readable by
// dom0 (the backend), the backend directory owned by dom0 and readable by
// the guest, both states Initialising.
std::vector<BootRequest> toolstack_create(const BootPaths& p);
// The backend's InitWait: its features, then the state.
std::vector<BootRequest> backend_initwait(const BootPaths& p);
// The backend's answer to Initialised: the ring details it reads, the
// disk's size it writes, then Connected.
std::vector<BootRequest> backend_connect(const BootPaths& p, std::uint32_t event_channel);

// The frontend's first look at its domain: domid, name, its vbd, where the
// backend is.
std::vector<BootRequest> frontend_probe(const BootPaths& p);
// The frontend's Initialised transaction body (ring-ref, event-channel,
// protocol, state).
std::vector<BootRequest> frontend_initialise(const BootPaths& p, std::uint32_t event_channel);
// The frontend's answer to Connected: the disk's size, then Connected.
std::vector<BootRequest> frontend_connect(const BootPaths& p);

// The request mix the CPU comparison replays, ring and socket alike: the
// frontend's reads of its tree and the backend's state, and its ring
// transaction without the state change (so no watch fires).
struct BootMix {
    std::vector<BootRequest> before;  // plain requests
    std::vector<BootRequest> inside;  // in one transaction
};
BootMix guest_mix(const BootPaths& p, std::uint32_t event_channel);

// The teardown, after RELEASE: the domain's home and its backend.
std::vector<BootRequest> toolstack_destroy(const BootPaths& p);

// The guest's name and the backend's disk (values the reads check).
std::string guest_name(DomId d);
inline constexpr std::string_view kSectors = "2097152";
inline constexpr std::string_view kSectorSize = "512";
inline constexpr std::string_view kRingRef = "8";
inline constexpr std::string_view kProtocol = "x86_64-abi";

}  // namespace xs::bench
