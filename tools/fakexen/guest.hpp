// The guest side of a fake domain's xenstore connection, in-process: a test
// can attach to any number of domains of a fake host and play each guest's
// kernel (its ring page and its end of the xenstore event channel). No
// environment variables are involved.
//
//   auto g = Guest::attach(host_dir, 7).value();
//   xs::client::Client c(ring_channel(g));   // a protocol client as dom7
//   c.write("data/x", "1");
//
// Hostile-guest tests use the raw interface instead: page(), write_raw(),
// notify(), wait(), reconnect().
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "base/domid.hpp"
#include "base/result.hpp"
#include "tools/client/xs_client.hpp"
#include "tools/fakexen/evtchn.hpp"
#include "tools/fakexen/host.hpp"
#include "transport/ring_layout.hpp"

namespace xs::fakexen {

class Guest {
public:
    ~Guest();
    Guest(const Guest&) = delete;
    Guest& operator=(const Guest&) = delete;

    // Attach to the xenstore page and event channel of domain `domid` (dom0
    // uses xsd_kva and the xsd_port port). The domain must exist and not be
    // dying. EBUSY if another live guest is attached to the same domain.
    static Result<std::shared_ptr<Guest>> attach(const std::string& host_dir, DomId domid);
    static Result<std::shared_ptr<Guest>> attach(std::shared_ptr<Host> host, DomId domid);

    DomId domid() const { return domid_; }
    std::uint32_t port() const { return port_; }  // the guest's end of the channel
    int event_fd() const { return events_->fd(); }  // readable when a kick is waiting

    // ---- raw access ----
    ring::Interface& page() { return *page_; }
    // Kick the daemon (EVTCHNOP_send on the guest's port).
    Result<> notify();
    // Wait up to `timeout` for a kick from the daemon; true if one came
    // (consumed and unmasked, so the next kick wakes us again).
    bool wait(std::chrono::milliseconds timeout);
    // Consume every kick already waiting, without blocking.
    void drain();
    // As much of `bytes` as fits into the request ring, then notify.
    Result<std::size_t> write_raw(std::string_view bytes);
    // Up to `cap` bytes from the response ring, then notify if any were read.
    Result<std::size_t> read_raw(char* dst, std::size_t cap);
    // The reconnection handshake: set connection = XENSTORE_RECONNECT,
    // notify, and wait for the daemon to set it back to XENSTORE_CONNECTED.
    // ETIMEDOUT if it does not within `timeout`.
    Result<> reconnect(std::chrono::milliseconds timeout);

private:
    Guest(std::shared_ptr<Host> host, DomId domid, std::uint32_t port, ring::Interface* page,
          std::unique_ptr<EventHandle> events)
        : host_(std::move(host)), domid_(domid), port_(port), page_(page), events_(std::move(events)) {}

    std::shared_ptr<Host> host_;
    DomId domid_;
    std::uint32_t port_;
    ring::Interface* page_;
    std::unique_ptr<EventHandle> events_;
};

// How long a ring channel waits for ring space before write_all() gives up.
inline constexpr std::chrono::milliseconds kRingWriteTimeout{5000};

// A protocol byte channel over the guest's ring (for xs::client::Client).
std::unique_ptr<client::Channel> ring_channel(std::shared_ptr<Guest> guest);

}  // namespace xs::fakexen
