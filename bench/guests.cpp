// Workload 7: guests over rings. G fake guests, each on its own xenstore
// ring (the fake-Xen guest library), run a small loop with one request in
// flight, as a guest kernel's xenstore client does: WRITE one of its nodes,
// READ it back (checked), then WRITE a node it watches and wait for both
// the reply and the watch event. Requests/s over all guests, each
// request's latency and the event latency are reported.
#include "bench/clock.hpp"
#include "bench/engine.hpp"
#include "bench/guest_setup.hpp"
#include "bench/ring_stream.hpp"
#include "bench/workloads.hpp"

namespace xs::bench {

namespace {

constexpr std::uint64_t kKeys = 4;
constexpr std::uint64_t kRequestsPerRound = 3;
constexpr std::string_view kToken = "w";

std::string z(std::string_view s) { return std::string(s) + std::string(1, '\0'); }

struct GuestLoop {
    enum class Step { kWatch, kWrite, kRead, kWatchedWrite, kUnwatch, kDone };
    std::vector<std::string> keys;  // "path\0"
    std::string watched;            // path without NUL
    std::string watch_payload;      // "path\0token\0"
    std::string value;
    Step step = Step::kWatch;
    std::uint64_t round = 0;
    std::uint64_t sent_ns = 0;
    bool got_reply = false, got_event = false;
};

class GuestDriver final : public Driver {
public:
    GuestDriver(const std::vector<DomId>& domids, std::uint64_t warmup, std::uint64_t rounds, bool check,
                Meter& meter)
        : warmup_(warmup), total_(warmup + rounds), check_(check), meter_(meter) {
        for (DomId d : domids) {
            GuestLoop g;
            std::string base = guest_home(d) + "/bench";
            for (std::uint64_t k = 0; k < kKeys; ++k) g.keys.push_back(z(base + "/k" + std::to_string(k)));
            g.watched = base + "/w";
            g.watch_payload = z(g.watched) + z(kToken);
            guests_.push_back(std::move(g));
        }
    }

    void start(Engine& e) override {
        for (std::size_t i = 0; i < guests_.size(); ++i)
            e.send(*e.conns()[i], wire::kWatch, 0, {guests_[i].watch_payload});
    }

    void on_reply(Engine& e, Conn& c, const Reply& r) override;
    void on_event(Engine& e, Conn& c, const Event& ev) override;
    bool finished() const override { return closed_ == guests_.size(); }

    const Histogram& latency() const { return latency_; }
    const Histogram& event_latency() const { return event_latency_; }
    std::uint64_t measured_ns() const { return t1_ - t0_; }
    const Measurement& meter_figures() const { return figures_; }

private:
    void begin_round(Engine& e, Conn& c, GuestLoop& g);
    void end_round(Engine& e, Conn& c, GuestLoop& g);
    void record(const Reply& r) {
        if (measuring_) latency_.record(r.latency_ns);
    }

    std::vector<GuestLoop> guests_;
    std::uint64_t warmup_, total_;
    bool check_;
    Meter& meter_;
    std::uint64_t started_ = 0, done_ = 0, t0_ = 0, t1_ = 0;
    std::size_t closed_ = 0;
    bool measuring_ = false;
    Histogram latency_, event_latency_;
    Measurement figures_;
};

void GuestDriver::begin_round(Engine& e, Conn& c, GuestLoop& g) {
    if (started_ == total_) {
        g.step = GuestLoop::Step::kUnwatch;
        e.send(c, wire::kUnwatch, 0, {g.watch_payload});
        return;
    }
    ++started_;
    ++g.round;
    g.value = "r" + std::to_string(g.round);
    g.step = GuestLoop::Step::kWrite;
    e.send(c, wire::kWrite, 0, {g.keys[g.round % kKeys], g.value});
}

void GuestDriver::end_round(Engine& e, Conn& c, GuestLoop& g) {
    ++done_;
    if (done_ == warmup_) {
        measuring_ = true;
        meter_.start();
        t0_ = e.now();
    }
    if (done_ == total_) {
        measuring_ = false;
        t1_ = e.now();
        meter_.finish(figures_);
    }
    begin_round(e, c, g);
}

void GuestDriver::on_reply(Engine& e, Conn& c, const Reply& r) {
    GuestLoop& g = guests_[static_cast<std::size_t>(c.index())];
    const std::string who = "guest " + std::to_string(c.index()) + ": ";
    if (r.is_error())
        return e.fail(who + std::string(wire::type_name(r.request_type)) + ": " + std::string(r.error()));
    switch (g.step) {
        case GuestLoop::Step::kWatch:
            g.got_reply = true;
            if (g.got_event || !check_) begin_round(e, c, g);
            return;
        case GuestLoop::Step::kWrite:
            record(r);
            g.step = GuestLoop::Step::kRead;
            e.send(c, wire::kRead, 0, {g.keys[g.round % kKeys]});
            return;
        case GuestLoop::Step::kRead:
            record(r);
            if (check_ && r.payload != g.value)
                return e.fail(who + "READ gave '" + std::string(r.payload) + "', expected '" + g.value + "'");
            g.step = GuestLoop::Step::kWatchedWrite;
            g.got_reply = g.got_event = false;
            g.sent_ns = e.now();
            e.send(c, wire::kWrite, 0, {z(g.watched), g.value});
            return;
        case GuestLoop::Step::kWatchedWrite:
            record(r);
            g.got_reply = true;
            if (g.got_event || !check_) end_round(e, c, g);
            return;
        case GuestLoop::Step::kUnwatch:
            g.step = GuestLoop::Step::kDone;
            ++closed_;
            return;
        case GuestLoop::Step::kDone:
            return e.fail(who + "reply after the end");
    }
}

void GuestDriver::on_event(Engine& e, Conn& c, const Event& ev) {
    GuestLoop& g = guests_[static_cast<std::size_t>(c.index())];
    bool expected = (g.step == GuestLoop::Step::kWatch || g.step == GuestLoop::Step::kWatchedWrite) &&
                    !g.got_event && ev.path == g.watched && ev.token == kToken;
    if (!expected)
        return e.fail("guest " + std::to_string(c.index()) + ": unexpected watch event " + std::string(ev.path) +
                      " " + std::string(ev.token));
    g.got_event = true;
    if (g.step == GuestLoop::Step::kWatchedWrite && measuring_) event_latency_.record(e.now() - g.sent_ns);
    if (!g.got_reply) return;
    if (g.step == GuestLoop::Step::kWatch) begin_round(e, c, g);
    else end_round(e, c, g);
}

Checked<Measurement> measure_guests(Context& ctx, const std::vector<DomId>& domids, const Fields& params,
                                    const std::string& variant) {
    const GuestsParams& p = ctx.opts().guests;
    if (auto r = prepare_guests(ctx, domids); !r) return unexpected(r.error());
    RingTransport rings(ctx.opts().fakexen, domids);
    Engine e;
    for (std::size_t i = 0; i < domids.size(); ++i) {
        auto s = rings.open();
        if (!s) return unexpected(s.error());
        e.add(std::move(*s), 1);
    }
    Meter meter(ctx);
    std::uint64_t rounds = p.rounds * p.guests;
    GuestDriver d(domids, rounds / 10, rounds, !ctx.echo(), meter);
    if (auto r = e.run(d, ctx.deadline()); !r) return unexpected(r.error());

    Measurement m = ctx.measurement("guests", variant, params);
    const Measurement& f = d.meter_figures();
    m.ops = d.latency().count();
    m.seconds = ns_to_s(d.measured_ns());
    m.latency = latency_of(d.latency());
    m.daemon_cpu_s = f.daemon_cpu_s;
    m.daemon_peak_rss_kib = f.daemon_peak_rss_kib;
    m.peak_rss_reset = f.peak_rss_reset;
    m.client_cpu_s = f.client_cpu_s;
    m.set("guests", static_cast<std::int64_t>(p.guests));
    m.set("rounds", static_cast<std::int64_t>(rounds));
    m.set("requests_per_round", static_cast<std::int64_t>(kRequestsPerRound));
    m.set("rounds_per_s", m.seconds > 0 ? static_cast<double>(rounds) / m.seconds : 0.0);
    auto ev = latency_of(d.event_latency());
    m.set("event_p50_us", ev ? Value(ev->p50_us) : Value());
    m.set("event_p99_us", ev ? Value(ev->p99_us) : Value());
    m.set("event_p999_us", ev ? Value(ev->p999_us) : Value());
    return m;
}

}  // namespace

void run_guests(Context& ctx) {
    const GuestsParams& p = ctx.opts().guests;
    Fields params{{"guests", static_cast<std::int64_t>(p.guests)},
                  {"first_domid", static_cast<std::int64_t>(p.first_domid)},
                  {"rounds_per_guest", static_cast<std::int64_t>(p.rounds)}};
    std::string variant = "g=" + std::to_string(p.guests);
    if (ctx.echo()) {
        emit_failure(ctx, "guests", variant, params,
                     Failure{std::string(kStatusUnsupported), "xstore-echo serves its socket only: no rings"});
        return;
    }
    auto domids = guest_domids(p.first_domid, p.guests);
    auto m = measure_guests(ctx, domids, params, variant);
    if (m) ctx.emit(std::move(*m));
    else emit_failure(ctx, "guests", variant, params, m.error());
    for (DomId d : domids) ctx.cleanup("guests", guest_home(d) + "/bench");
}

}  // namespace xs::bench
