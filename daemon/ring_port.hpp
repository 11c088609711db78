// The shared-ring side of a guest connection: its mapped page and its
// bound event channel, released together.
#pragma once

#include <cstdint>

#include "transport/hypervisor.hpp"
#include "transport/ring_layout.hpp"

namespace xs::daemon {

class RingPort {
public:
    RingPort(transport::Hypervisor& hv, ring::Interface* page, bool from_file, std::uint32_t local_port)
        : hv_(hv), page_(page), from_file_(from_file), port_(local_port) {}
    ~RingPort() {
        if (port_) hv_.unbind(port_);
        hv_.unmap_ring(page_, from_file_);
    }
    RingPort(const RingPort&) = delete;
    RingPort& operator=(const RingPort&) = delete;

    ring::Interface& page() { return *page_; }
    std::uint32_t port() const { return port_; }
    void set_port(std::uint32_t p) { port_ = p; }
    void notify() {
        pending_ = false;
        if (port_) hv_.notify(port_);
    }
    // Requests consumed and the guest not waiting for room: it hears of it
    // with the replies, one kick at the end of the turn for both
    // (flush_ring), instead of one now and one then.
    void notify_later() { pending_ = true; }
    bool notify_pending() const { return pending_; }

private:
    transport::Hypervisor& hv_;
    ring::Interface* page_;
    bool from_file_;
    std::uint32_t port_;
    bool pending_ = false;
};

}  // namespace xs::daemon
