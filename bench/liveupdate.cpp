// Workload "liveupdate": the downtime of a live update as clients see it.
// A store of N nodes in the big-store shape, C load connections (sockets,
// and fake guests over their rings) each keeping a request in flight on
// its own nodes, W watches on those nodes; then U live updates of the
// daemon to --lu-binary (its own program by default) through CONTROL
// live-update, with load before and between them. Per update: -s to OK,
// and the longest time any client waited for an answer across it.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bench/batch.hpp"
#include "bench/bigstore_plan.hpp"
#include "bench/clock.hpp"
#include "bench/guest_setup.hpp"
#include "bench/liveupdate_driver.hpp"
#include "bench/ring_stream.hpp"
#include "bench/workloads.hpp"

namespace xs::bench {

namespace {

constexpr std::uint64_t kBuildConns = 4;
constexpr std::uint64_t kBuildWindow = 64;

std::string z(std::string_view s) { return std::string(s) + std::string(1, '\0'); }

struct LuRun {
    Context& ctx;
    const LiveUpdateParams& p;
    std::uint64_t guests;
    std::vector<DomId> domids;
    std::string root;  // <prefix>/lu: the store and the socket clients' nodes
};

// A guest's nodes: in its own home, which it owns.
std::string guest_dir(DomId d) { return guest_home(d) + "/bench-lu"; }

Checked<std::string> daemon_binary(Context& ctx) {
    if (!ctx.opts().liveupdate.binary.empty()) return ctx.opts().liveupdate.binary;
    if (!ctx.daemon_pid()) return failed("the daemon's pid is unknown: give --lu-binary or --daemon-pid");
    std::string link = "/proc/" + std::to_string(*ctx.daemon_pid()) + "/exe";
    std::string buf(4096, '\0');
    ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size());
    if (n <= 0 || static_cast<std::size_t>(n) == buf.size())
        return failed("readlink " + link + ": " + std::strerror(errno) + " (give --lu-binary)");
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

// The store, pipelined over a few sockets; its build time.
Checked<double> build_store(Context& ctx, const BigStorePlan& plan) {
    Engine e;
    for (std::uint64_t i = 0; i < kBuildConns; ++i) {
        auto s = ctx.transport().open();
        if (!s) return unexpected(s.error());
        e.add(std::move(*s), kBuildWindow);
    }
    auto make = [&](std::uint64_t i) {
        BatchRequest r{wire::kWrite, {}};
        plan.write_payload(i, r.payload);
        return r;
    };
    auto r = run_batch(e, plan.writes(), make, ctx.deadline());
    if (!r) return failed(r.error().status, "building the store: " + r.error().message);
    return ns_to_s(r->elapsed_ns);
}

std::vector<LuClient> make_clients(const LuRun& run) {
    std::vector<LuClient> out;
    std::uint64_t sockets = run.p.conns - run.guests;
    for (std::uint64_t i = 0; i < run.p.conns; ++i) {
        LuClient c;
        bool guest = i >= sockets;
        DomId d = guest ? run.domids[i - sockets] : 0;
        c.label = guest ? "guest " + std::to_string(d) : "socket " + std::to_string(i);
        std::string base = guest ? guest_dir(d) : run.root + "/c" + std::to_string(i);
        c.watched = lu_watches_of(i, run.p.conns, run.p.watches);
        for (std::uint64_t k = 0; k < lu_keys_of(c.watched); ++k) c.keys.push_back(z(base + "/k" + std::to_string(k)));
        out.push_back(std::move(c));
    }
    return out;
}

// The clients' connections in their order (sockets, then guests), then
// the control connection.
Checked<> open_conns(const LuRun& run, Engine& e) {
    for (std::uint64_t i = 0; i < run.p.conns - run.guests; ++i) {
        auto s = run.ctx.transport().open();
        if (!s) return unexpected(s.error());
        e.add(std::move(*s), 1);
    }
    RingTransport rings(run.ctx.opts().fakexen, run.domids);
    for (std::uint64_t i = 0; i < run.guests; ++i) {
        auto s = rings.open();
        if (!s) return unexpected(s.error());
        e.add(std::move(*s), 1);
    }
    auto s = run.ctx.transport().open();
    if (!s) return unexpected(s.error());
    e.add(std::move(*s), 1);
    return {};
}

// Set-up and tear-down: each connection works through its own list of
// requests, one in flight (guests have a quota of outstanding requests),
// until every list is done and `events` watch events have come.
class QueueDriver final : public Driver {
public:
    QueueDriver(std::vector<std::vector<BatchRequest>> lists, std::uint64_t events)
        : lists_(std::move(lists)), next_(lists_.size(), 0), events_wanted_(events) {}

    void start(Engine& e) override {
        for (std::size_t i = 0; i < lists_.size(); ++i) send_next(e, i);
    }
    void on_reply(Engine& e, Conn& c, const Reply& r) override {
        auto i = static_cast<std::size_t>(c.index());
        if (r.is_error()) {
            const std::string& p = lists_[i][next_[i] - 1].payload;
            return e.fail(std::string(wire::type_name(r.request_type)) + " " + p.substr(0, p.find('\0')) + ": " +
                          std::string(r.error()));
        }
        --in_flight_;
        send_next(e, i);
    }
    void on_event(Engine&, Conn&, const Event&) override { ++events_; }
    bool finished() const override { return in_flight_ == 0 && events_ >= events_wanted_; }

private:
    void send_next(Engine& e, std::size_t i) {
        if (next_[i] == lists_[i].size()) return;
        const BatchRequest& r = lists_[i][next_[i]++];
        e.send(*e.conns()[i], r.type, 0, {r.payload});
        ++in_flight_;
    }

    std::vector<std::vector<BatchRequest>> lists_;
    std::vector<std::size_t> next_;
    std::uint64_t events_wanted_, events_ = 0;
    std::size_t in_flight_ = 0;
};

// Every client node gets a value, and every watch is registered (its
// initial event collected), before the load starts.
Checked<> set_up_clients(Engine& e, const std::vector<LuClient>& clients, std::uint64_t watches, std::uint64_t deadline) {
    std::vector<std::vector<BatchRequest>> lists;
    for (const LuClient& c : clients) {
        std::vector<BatchRequest> l;
        for (const auto& k : c.keys) l.push_back({wire::kWrite, k + "v0"});
        for (std::uint64_t k = 0; k < c.watched; ++k) l.push_back({wire::kWatch, c.keys[k] + z(kLuToken)});
        lists.push_back(std::move(l));
    }
    lists.emplace_back();  // the control connection
    QueueDriver d(std::move(lists), watches);
    if (auto r = e.run(d, deadline); !r) return failed(r.error().status, "setting up the clients: " + r.error().message);
    return {};
}

// UNWATCH everything, so a later run with the same guests gets no stale events.
Checked<> tear_down_clients(Engine& e, const std::vector<LuClient>& clients, std::uint64_t deadline) {
    std::vector<std::vector<BatchRequest>> lists;
    for (const LuClient& c : clients) {
        std::vector<BatchRequest> l;
        for (std::uint64_t k = 0; k < c.watched; ++k) l.push_back({wire::kUnwatch, c.keys[k] + z(kLuToken)});
        lists.push_back(std::move(l));
    }
    lists.emplace_back();  // the control connection
    QueueDriver d(std::move(lists), 0);
    return e.run(d, deadline);
}

Value kib_or_null(std::int64_t v) { return v >= 0 ? Value(v) : Value(); }

void set_update_figures(Measurement& m, const std::vector<UpdateFigures>& u) {
    std::vector<double> s, gmax, gp50;
    std::int64_t busy = 0;
    for (const auto& f : u) {
        s.push_back(f.s_to_ok_ms);
        gmax.push_back(f.gaps.max_ms);
        gp50.push_back(f.gaps.p50_ms);
        busy += static_cast<std::int64_t>(f.busy);
    }
    Spread ss = spread_of(s), gm = spread_of(gmax), gp = spread_of(gp50);
    m.set("s_to_ok_ms", ss.median);
    m.set("s_to_ok_max_ms", ss.max);
    m.set("gap_max_ms", gm.median);
    m.set("gap_max_max_ms", gm.max);
    m.set("gap_p50_ms", gp.median);
    m.set("gap_p50_max_ms", gp.max);
    m.set("busy_retries", busy);
}

Measurement measurement_of(const LuRun& run, const LuDriver& d, const Fields& params, const std::string& variant) {
    Measurement m = run.ctx.measurement("liveupdate", variant, params);
    const Measurement& f = d.meter_figures();
    m.ops = d.latency().count();
    m.seconds = ns_to_s(d.measured_ns());
    m.latency = latency_of(d.latency());
    m.daemon_cpu_s = f.daemon_cpu_s;
    m.daemon_peak_rss_kib = f.daemon_peak_rss_kib;
    m.peak_rss_reset = f.peak_rss_reset;
    m.client_cpu_s = f.client_cpu_s;
    m.set("updates", static_cast<std::int64_t>(d.updates().size()));
    set_update_figures(m, d.updates());
    m.set("events", static_cast<std::int64_t>(d.events()));
    m.set("rss_before_kib", kib_or_null(d.rss_before));
    m.set("rss_after_kib", kib_or_null(d.rss_after));
    m.set("rss_anon_before_kib", kib_or_null(d.anon_before));
    m.set("rss_anon_after_kib", kib_or_null(d.anon_after));
    return m;
}

Checked<Measurement> measure(LuRun& run, const Fields& params, const std::string& variant) {
    Context& ctx = run.ctx;
    auto binary = daemon_binary(ctx);
    if (!binary) return unexpected(binary.error());
    BigStorePlan plan(run.root + "/store", run.p.nodes, std::min<std::uint64_t>(10000, run.p.nodes / 2));
    auto build_s = build_store(ctx, plan);
    if (!build_s) return unexpected(build_s.error());
    if (run.guests)
        if (auto r = prepare_guests(ctx, run.domids); !r) return unexpected(r.error());
    Engine e;
    if (auto r = open_conns(run, e); !r) return unexpected(r.error());
    std::vector<LuClient> clients = make_clients(run);
    if (auto r = set_up_clients(e, clients, run.p.watches, ctx.deadline()); !r) return unexpected(r.error());

    std::uint64_t timeout_ns = static_cast<std::uint64_t>(ctx.opts().timeout_s * 1e9);
    LuConfig cfg{run.p.updates, run.p.interval_ms * 1'000'000, timeout_ns, *binary, run.p.version, ctx.daemon_pid()};
    Meter meter(ctx);
    LuDriver d(clients, cfg, meter);
    // Each update has its own limit (cfg.timeout_ns); this only bounds the whole.
    std::uint64_t deadline = now_ns() + (run.p.updates + 1) * (timeout_ns + cfg.interval_ns);
    if (auto r = e.run(d, deadline); !r) return unexpected(r.error());
    if (auto r = tear_down_clients(e, clients, ctx.deadline()); !r)
        return failed("after the updates: " + r.error().message);

    Measurement m = measurement_of(run, d, params, variant);
    std::uint64_t client_nodes = 0;
    for (const auto& c : clients) client_nodes += c.keys.size();
    m.set("nodes", static_cast<std::int64_t>(plan.nodes()));
    m.set("client_nodes", static_cast<std::int64_t>(client_nodes));
    m.set("conns", static_cast<std::int64_t>(run.p.conns));
    m.set("guests", static_cast<std::int64_t>(run.guests));
    m.set("watches", static_cast<std::int64_t>(run.p.watches));
    m.set("build_s", *build_s);
    return m;
}

void clean_up(const LuRun& run) {
    run.ctx.cleanup("liveupdate", run.root);
    for (DomId d : run.domids) run.ctx.cleanup("liveupdate", guest_dir(d));
}

}  // namespace

void run_liveupdate(Context& ctx) {
    const LiveUpdateParams& p = ctx.opts().liveupdate;
    std::uint64_t guests = ctx.echo() ? 0 : p.guests_for(!ctx.opts().fakexen.empty());
    LuRun run{ctx, p, guests, guest_domids(p.first_domid, guests), ctx.opts().prefix + "/lu"};
    Fields params{{"nodes", static_cast<std::int64_t>(p.nodes)},       {"conns", static_cast<std::int64_t>(p.conns)},
                  {"guests", static_cast<std::int64_t>(guests)},       {"watches", static_cast<std::int64_t>(p.watches)},
                  {"updates", static_cast<std::int64_t>(p.updates)},   {"interval_ms", static_cast<std::int64_t>(p.interval_ms)},
                  {"version", p.version ? Value(static_cast<std::int64_t>(*p.version)) : Value()}};
    std::string variant = "n=" + std::to_string(p.nodes) + " c=" + std::to_string(p.conns) + " g=" +
                          std::to_string(guests) + " w=" + std::to_string(p.watches);
    if (ctx.echo()) {
        emit_failure(ctx, "liveupdate", variant, params,
                     Failure{std::string(kStatusUnsupported), "xstore-echo has no live update"});
        return;
    }
    if (auto r = ctx.remove_tree(run.root); !r) return emit_failure(ctx, "liveupdate", variant, params, r.error());
    auto m = measure(run, params, variant);
    if (m) ctx.emit(std::move(*m));
    else emit_failure(ctx, "liveupdate", variant, params, m.error());
    clean_up(run);
}

}  // namespace xs::bench
