// The measured phase of the live-update workload: every load connection
// keeps one request in flight (WRITE one of its nodes, wait for the reply
// and, when it watches that node, for the event; READ it back and check
// it), while the control connection live-updates the daemon U times with
// CONTROL live-update -f / -s, load running in between. Every answer is
// checked; a request, reply or event that never comes, or comes twice,
// fails the run instead of giving a number.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/context.hpp"
#include "bench/engine.hpp"
#include "bench/histogram.hpp"
#include "bench/liveupdate_plan.hpp"

namespace xs::bench {

// One load connection: its nodes ("path\0"), the first `watched` of which
// it watches (token kLuToken), and where its loop stands.
struct LuClient {
    enum class Step { kIdle, kWrite, kRead };
    std::string label;  // "socket 3", "guest 12": for failure messages
    std::vector<std::string> keys;
    std::uint64_t watched = 0;
    Step step = Step::kIdle;
    std::uint64_t round = 0;
    std::string value;
    bool want_event = false, got_reply = false, got_event = false;
    std::uint64_t since_ns = 0;  // when the request now awaited was sent
};

inline constexpr std::string_view kLuToken = "lu";

struct LuConfig {
    std::uint64_t updates = 1;
    std::uint64_t interval_ns = 0;  // load before each update
    std::uint64_t timeout_ns = 0;   // how long one update may take, -f to OK
    std::string binary;
    std::optional<std::uint64_t> version;
    std::optional<pid_t> pid;       // the daemon, for its RSS
};

// What one update gave.
struct UpdateFigures {
    double s_to_ok_ms = 0;
    DowntimeTracker::Gaps gaps;
    std::uint64_t busy = 0;  // -s answered BUSY and sent again
};

class LuDriver final : public Driver {
public:
    // The engine's connections are the clients, in order, then the control connection.
    LuDriver(std::vector<LuClient> clients, LuConfig cfg, Meter& meter);

    void start(Engine& e) override;
    void on_reply(Engine& e, Conn& c, const Reply& r) override;
    void on_event(Engine& e, Conn& c, const Event& ev) override;
    bool finished() const override { return phase_ == Phase::kDone; }
    std::uint64_t wake_at_ns() const override { return next_tick_; }
    void on_tick(Engine& e) override;

    const std::vector<UpdateFigures>& updates() const { return figures_; }
    const Histogram& latency() const { return latency_; }
    std::uint64_t measured_ns() const { return t_end_ - t_start_; }
    const Measurement& meter_figures() const { return meter_out_; }
    std::uint64_t events() const { return events_; }
    // VmRSS and RssAnon before the first update and after the last (-1: unknown).
    std::int64_t rss_before = -1, rss_after = -1, anon_before = -1, anon_after = -1;

private:
    enum class Phase { kLoad, kUpdating, kDraining, kSettling, kDone };
    enum class Control { kNone, kBinary, kStart };

    void begin_round(Engine& e, std::size_t i);
    void send_read(Engine& e, std::size_t i);
    void client_reply(Engine& e, std::size_t i, const Reply& r);
    void control_reply(Engine& e, const Reply& r);
    void start_update(Engine& e);
    void send_start(Engine& e);
    void update_done(Engine& e);
    void close_update();
    void check_silence(Engine& e);
    void sample_rss(std::int64_t& rss, std::int64_t& anon) const;
    Conn& control(Engine& e) { return *e.conns()[clients_.size()]; }

    std::vector<LuClient> clients_;
    LuConfig cfg_;
    Meter& meter_;
    Measurement meter_out_;
    DowntimeTracker gaps_;
    Histogram latency_;
    std::vector<UpdateFigures> figures_;
    UpdateFigures current_;
    Phase phase_ = Phase::kLoad;
    Control control_ = Control::kNone;
    std::uint64_t t_start_ = 0, t_end_ = 0, next_tick_ = 0, next_update_ = 0;
    std::uint64_t update_began_ = 0, s_sent_ = 0, last_ok_ = 0, settle_until_ = 0;
    std::uint64_t longest_update_ns_ = 0;  // -s to OK
    std::uint64_t events_ = 0;
    std::size_t idle_ = 0;  // clients that stopped (draining)
};

}  // namespace xs::bench
