// The CPU comparison of the guest-boot workload: every connection replays
// one guest's request mix (guest_mix(): its reads, then its ring
// transaction) `rounds` times, one request in flight, on that guest's
// nodes. Run once over the guests' rings and once over as many dom0
// sockets, it gives the daemon's CPU time per request on each transport.
#pragma once

#include <cstdint>
#include <vector>

#include "bench/engine.hpp"
#include "bench/histogram.hpp"
#include "bench/sequence.hpp"

namespace xs::bench {

class MixRoundDriver final : public Driver {
public:
    // Connection first_conn + j replays the mix of paths[j].
    MixRoundDriver(std::vector<BootMix> mixes, std::size_t first_conn, std::uint64_t rounds, std::uint64_t stall_ns);

    void start(Engine& e) override;
    void on_reply(Engine& e, Conn& c, const Reply& r) override;
    void on_event(Engine& e, Conn& c, const Event& ev) override;
    bool finished() const override { return done_ == mixes_.size(); }
    std::uint64_t wake_at_ns() const override { return last_progress_ + stall_ns_; }
    void on_tick(Engine& e) override;

    const Histogram& latency() const { return latency_; }
    std::uint64_t elapsed_ns() const { return t1_ - t0_; }
    const SeqCounters& counters() const { return counters_; }
    // Requests per round: the plain ones, the transaction's and its start and end.
    std::uint64_t requests_per_round() const;

private:
    struct Loop {
        Sequence seq;
        bool in_tx = false;
        std::uint64_t round = 0;
    };
    void next(Engine& e, Conn& c, std::size_t j);

    std::vector<BootMix> mixes_;
    std::vector<Loop> loops_;
    std::size_t first_conn_;
    std::uint64_t rounds_;
    std::size_t done_ = 0;
    std::uint64_t t0_ = 0, t1_ = 0, stall_ns_, last_progress_ = 0;
    SeqCounters counters_;
    Histogram latency_;
};

}  // namespace xs::bench
