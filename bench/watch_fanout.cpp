// Workload 4: watch fan-out. W watches on unrelated paths are registered
// (pipelined over a few connections, which stay open), then one writer
// writes a node that exactly one other connection watches, one write at a
// time: the write's latency and the matching event's latency are measured.
#include "bench/batch.hpp"
#include "bench/clock.hpp"
#include "bench/workloads.hpp"

namespace xs::bench {

namespace {

using namespace std::string_view_literals;

struct Paths {
    std::string root;
    std::string hot;        // watched by the watcher
    std::string hot_value;  // written by the writer (beneath `hot`)
};

// The writer waits for its reply and, unless in echo mode, for the
// watcher's event before the next write, so each event maps to one write
// and no event is merged with an identical queued one.
class FanoutDriver final : public Driver {
public:
    FanoutDriver(const Paths& paths, std::uint64_t warmup, std::uint64_t writes, bool expect_events, Meter& meter)
        : paths_(paths), warmup_(warmup), total_(warmup + writes), events_(expect_events), meter_(meter) {
        path_nul_ = paths_.hot_value;
        path_nul_.push_back('\0');
    }

    void start(Engine& e) override {
        if (warmup_ == 0) begin(e);
        send_write(e);
    }

    void on_reply(Engine& e, Conn& c, const Reply& r) override {
        if (c.index() != kWriter || r.is_error()) {
            e.fail("WRITE " + paths_.hot_value + ": " + (r.is_error() ? std::string(r.error()) : "reply on the watcher"));
            return;
        }
        if (measuring_) write_lat_.record(r.latency_ns);
        got_reply_ = true;
        maybe_next(e);
    }

    void on_event(Engine& e, Conn& c, const Event& ev) override {
        if (c.index() != kWatcher || ev.path != paths_.hot_value || ev.token != "hot" || got_event_) {
            e.fail("unexpected watch event " + std::string(ev.path) + " " + std::string(ev.token));
            return;
        }
        if (measuring_) event_lat_.record(e.now() - sent_ns_);
        got_event_ = true;
        maybe_next(e);
    }

    bool finished() const override { return done_ == total_; }
    const Histogram& write_latency() const { return write_lat_; }
    const Histogram& event_latency() const { return event_lat_; }
    std::uint64_t measured_ns() const { return t1_ - t0_; }

    static constexpr int kWatcher = 0;
    static constexpr int kWriter = 1;

private:
    void begin(Engine& e) {
        measuring_ = true;
        meter_.start();
        t0_ = e.refresh_now();
    }

    void send_write(Engine& e) {
        Conn& w = *e.conns()[kWriter];
        value_ = std::to_string(done_);
        sent_ns_ = e.now();
        e.send(w, wire::kWrite, 0, {path_nul_, value_});
        got_reply_ = got_event_ = false;
        e.wake(w);
    }

    void maybe_next(Engine& e) {
        if (!got_reply_ || (events_ && !got_event_)) return;
        ++done_;
        if (finished()) {
            t1_ = e.now();
            return;
        }
        if (done_ == warmup_) begin(e);
        send_write(e);
    }

    const Paths& paths_;
    std::uint64_t warmup_, total_;
    bool events_;
    Meter& meter_;
    std::string path_nul_, value_;
    std::uint64_t done_ = 0, sent_ns_ = 0, t0_ = 0, t1_ = 0;
    bool got_reply_ = false, got_event_ = false, measuring_ = false;
    Histogram write_lat_, event_lat_;
};

std::string z(std::string_view s) { return std::string(s) + std::string(1, '\0'); }

// Register `count` unrelated watches; returns the seconds it took (replies
// and, unless in echo mode, their initial events).
Checked<double> register_watches(Context& ctx, Engine& reg, const Paths& paths, std::uint64_t count) {
    const WatchParams& p = ctx.opts().watch;
    for (std::uint64_t i = 0; i < std::min<std::uint64_t>(p.conns, count); ++i) {
        auto s = ctx.transport().open();
        if (!s) return unexpected(s.error());
        reg.add(std::move(*s), p.window);
    }
    if (count == 0) return 0.0;
    std::uint64_t t0 = now_ns();
    auto make = [&](std::uint64_t i) {
        std::string n = std::to_string(i);
        return BatchRequest{wire::kWatch, z(paths.root + "/u" + n + "/x") + z("t" + n)};
    };
    BatchResult partial;
    auto r = run_batch(reg, count, make, ctx.deadline(), {}, &partial);
    if (!r) {
        Failure f = r.error();
        f.message += " (registering: " + std::to_string(partial.ops) + " of " + std::to_string(count) +
                     " watches in " + format_number(ns_to_s(partial.elapsed_ns)) + " s)";
        return unexpected(f);
    }
    std::uint64_t seen = r->events;
    if (!ctx.echo()) {
        if (auto w = run_until_events(reg, count, seen, ctx.deadline()); !w) return unexpected(w.error());
    }
    return ns_to_s(now_ns() - t0);
}

// Open the watcher (its watch registered, initial event consumed) and the writer.
Checked<> open_pair(Context& ctx, Engine& e, const Paths& paths) {
    auto ws = ctx.transport().open();
    if (!ws) return unexpected(ws.error());
    e.add(std::move(*ws), 4);
    auto r = run_batch(e, 1, [&](std::uint64_t) { return BatchRequest{wire::kWatch, z(paths.hot) + z("hot")}; },
                       ctx.deadline());
    if (!r) return unexpected(r.error());
    std::uint64_t seen = r->events;
    if (!ctx.echo()) {
        if (auto w = run_until_events(e, 1, seen, ctx.deadline()); !w) return unexpected(w.error());
    }
    auto wr = ctx.transport().open();
    if (!wr) return unexpected(wr.error());
    e.add(std::move(*wr), 1);
    return {};
}

Checked<Measurement> measure_fanout(Context& ctx, std::uint64_t watches, const Fields& params,
                                    const std::string& variant) {
    const WatchParams& p = ctx.opts().watch;
    Paths paths{ctx.opts().prefix + "/watch", "", ""};
    paths.hot = paths.root + "/hot";
    paths.hot_value = paths.hot + "/v";
    {
        auto c = ctx.setup_client();
        if (!c) return unexpected(c.error());
        if (auto w = (*c)->write(paths.hot_value, "0"); !w)
            return failed("WRITE " + paths.hot_value + ": " + std::string(wire::error_name(w.error().code)));
    }
    Engine reg;
    Meter reg_meter(ctx);
    reg_meter.start();
    auto reg_s = register_watches(ctx, reg, paths, watches);
    if (!reg_s) return unexpected(reg_s.error());
    Measurement reg_m;
    reg_meter.finish(reg_m);

    Engine e;
    if (auto r = open_pair(ctx, e, paths); !r) return unexpected(r.error());
    Meter meter(ctx);
    FanoutDriver d(paths, p.writes / 10, p.writes, !ctx.echo(), meter);
    if (auto r = e.run(d, ctx.deadline()); !r) return unexpected(r.error());

    Measurement m = ctx.measurement("watch", variant, params);
    m.ops = p.writes;
    m.seconds = ns_to_s(d.measured_ns());
    m.latency = latency_of(d.write_latency());
    meter.finish(m);
    m.set("watches", static_cast<std::int64_t>(watches));
    m.set("registration_s", *reg_s);
    m.set("registration_cpu_s", reg_m.daemon_cpu_s ? Value(*reg_m.daemon_cpu_s) : Value());
    auto ev = latency_of(d.event_latency());
    m.set("event_p50_us", ev ? Value(ev->p50_us) : Value());
    m.set("event_p99_us", ev ? Value(ev->p99_us) : Value());
    m.set("event_p999_us", ev ? Value(ev->p999_us) : Value());
    return m;
}

}  // namespace

void run_watch(Context& ctx) {
    const WatchParams& p = ctx.opts().watch;
    for (auto w : p.watches) {
        Fields params{{"watches", static_cast<std::int64_t>(w)},
                      {"writes", static_cast<std::int64_t>(p.writes)},
                      {"conns", static_cast<std::int64_t>(p.conns)}};
        std::string variant = "watches=" + std::to_string(w);
        auto m = measure_fanout(ctx, w, params, variant);
        if (m) ctx.emit(std::move(*m));
        else emit_failure(ctx, "watch", variant, params, m.error());
        ctx.cleanup("watch", ctx.opts().prefix + "/watch");
    }
}

}  // namespace xs::bench
