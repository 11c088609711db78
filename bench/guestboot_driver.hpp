// The guest-boot handshake on the engine (see bench/guestboot_plan.hpp):
// toolstack connections create domains one after another (as one libxl
// process per domain does, one request in flight), backend connections
// play dom0's block backend for up to 64 domains each, and every guest
// runs its frontend over its own ring. A side that waits for a state
// change reads the other side's `state` node whenever its watch fires, as
// xenbus drivers do; a missing event leaves it waiting, which the driver
// notices when nothing has moved for the stall time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/engine.hpp"
#include "bench/histogram.hpp"
#include "bench/sequence.hpp"

namespace xs::bench {

// One domain of the boot: where its nodes are and how it is introduced.
struct BootDomain {
    BootPaths paths;
    std::uint32_t gfn = 0, port = 0;  // INTRODUCE <domid> <gfn> <port>
};

// Connection layout in the engine: toolstacks first, then backends, then
// one guest ring per domain (in domain order).
struct BootLayout {
    std::size_t toolstacks = 1, backends = 1, domains = 0;
    std::size_t backend_conn(std::size_t dom) const { return toolstacks + dom % backends; }
    std::size_t toolstack_conn(std::size_t dom) const { return dom % toolstacks; }
    std::size_t guest_conn(std::size_t dom) const { return toolstacks + backends + dom; }
};

class BootDriver final : public Driver {
public:
    BootDriver(std::vector<BootDomain> domains, BootLayout layout, std::uint64_t stall_ns);

    void start(Engine& e) override;
    void on_reply(Engine& e, Conn& c, const Reply& r) override;
    void on_event(Engine& e, Conn& c, const Event& ev) override;
    bool finished() const override { return booted_ == domains_.size(); }
    std::uint64_t wake_at_ns() const override { return last_progress_ + stall_ns_; }
    void on_tick(Engine& e) override;

    const Histogram& guest_latency() const { return guest_latency_; }
    const Histogram& toolstack_latency() const { return toolstack_latency_; }
    const Histogram& boot_latency() const { return boot_latency_; }
    std::uint64_t elapsed_ns() const { return t1_ - t0_; }
    const SeqCounters& counters() const { return counters_; }
    std::uint64_t events() const { return events_; }
    // Sides still waiting for an event when the run stopped (0 after a full boot).
    std::uint64_t waiting() const;

private:
    enum class Phase { kQueued, kCreate, kIntroduce, kWatch, kInitWait, kIdle, kReadState, kConnect, kDone };
    struct Side {
        Phase phase = Phase::kQueued;
        Sequence seq;
        bool dirty = false;  // an event came: read the other side's state
        bool initialised = false;
    };
    struct Dom {
        Side toolstack, backend, guest;
        std::uint64_t start_ns = 0;
    };

    void next_creation(Engine& e, std::size_t toolstack);
    void toolstack_done(Engine& e, std::size_t i);
    void backend_done(Engine& e, std::size_t i);
    void guest_done(Engine& e, std::size_t i);
    void read_state(Engine& e, std::size_t i, Side& s, Conn& c, const std::string& path);
    void idle(Engine& e, std::size_t i, Side& s, Conn& c, const std::string& path);
    // How many sides are in each phase ("backend idle=3 done=7; ...").
    std::string phases() const;
    Conn& conn(Engine& e, std::size_t index) { return *e.conns()[index]; }

    std::vector<BootDomain> domains_;
    std::vector<Dom> state_;
    BootLayout layout_;
    std::vector<std::size_t> next_of_toolstack_;  // the next domain each toolstack creates
    std::uint64_t stall_ns_, last_progress_ = 0, t0_ = 0, t1_ = 0;
    std::size_t booted_ = 0;
    std::uint64_t events_ = 0;
    SeqCounters counters_;
    Histogram guest_latency_, toolstack_latency_, boot_latency_;
};

// Teardown: every backend connection drops its watches, and every
// toolstack, domain after domain, sends RELEASE and removes the domain's
// home and backend. One sample per domain: RELEASE to the last RM.
class TeardownDriver final : public Driver {
public:
    TeardownDriver(std::vector<BootDomain> domains, BootLayout layout);

    void start(Engine& e) override;
    void on_reply(Engine& e, Conn& c, const Reply& r) override;
    void on_event(Engine&, Conn&, const Event&) override { ++events_; }
    bool finished() const override { return done_ == 2 * domains_.size(); }

    const Histogram& latency() const { return latency_; }
    std::uint64_t elapsed_ns() const { return t1_ - t0_; }
    std::uint64_t events() const { return events_; }

private:
    void next_domain(Engine& e, std::size_t toolstack);

    std::vector<BootDomain> domains_;
    BootLayout layout_;
    std::vector<Sequence> seqs_;        // per domain: RELEASE, RM, RM
    std::vector<Sequence> unwatches_;   // per domain, on its backend connection
    std::vector<std::uint64_t> start_;
    std::vector<std::size_t> next_of_toolstack_;
    std::size_t done_ = 0;
    std::uint64_t events_ = 0, t0_ = 0, t1_ = 0;
    SeqCounters counters_;
    Histogram latency_;
};

// Watch tokens: the backend's on a frontend state carries the domain's index.
std::string backend_token(std::size_t dom);
inline constexpr std::string_view kGuestToken = "be";

}  // namespace xs::bench
