// Workload 9: a thousand guests booting. For each size N, the toolstack
// (socket connections) creates N domains on the fake-Xen host's daemon and
// every guest, over its own ring, runs the frontend side of a vbd's
// XenbusState handshake against a backend played over the socket
// (bench/guestboot_plan.hpp, bench/guestboot_driver.hpp). Then, with the N
// guests connected and quiet, the daemon's idle CPU; the CPU time per
// request of the guests' request mix over their rings against the same mix
// over as many dom0 sockets; and the teardown (RELEASE and RM). Each size
// uses its own domids, so sizes never meet in one daemon.
#include <algorithm>

#include "bench/clock.hpp"
#include "bench/guest_setup.hpp"
#include "bench/guestboot_driver.hpp"
#include "bench/guestboot_mix.hpp"
#include "bench/proc_stats.hpp"
#include "bench/ring_stream.hpp"
#include "bench/workloads.hpp"

namespace xs::bench {

namespace {

constexpr std::string_view kWorkload = "guestboot";

// Quiet guests: the run ends when the time is up; any message fails it.
class IdleDriver final : public Driver {
public:
    explicit IdleDriver(std::uint64_t until_ns) : until_(until_ns) {}
    void start(Engine&) override {}
    void on_reply(Engine& e, Conn& c, const Reply&) override { fail(e, c, "a reply"); }
    void on_event(Engine& e, Conn& c, const Event& ev) override { fail(e, c, "watch event " + std::string(ev.path)); }
    bool finished() const override { return over_; }
    std::uint64_t wake_at_ns() const override { return until_; }
    void on_tick(Engine& e) override { over_ = e.now() >= until_; }

private:
    void fail(Engine& e, Conn& c, const std::string& what) {
        e.fail("connection " + std::to_string(c.index()) + ": " + what + " while every guest was quiet");
    }
    std::uint64_t until_;
    bool over_ = false;
};

double per_request_us(const Measurement& m) {
    return m.daemon_cpu_s && m.ops ? *m.daemon_cpu_s / static_cast<double>(m.ops) * 1e6 : 0.0;
}

void set_latency(Measurement& m, const std::string& prefix, const Histogram& h, double scale) {
    auto l = latency_of(h);
    m.set(prefix + "p50", l ? Value(l->p50_us / scale) : Value());
    m.set(prefix + "p99", l ? Value(l->p99_us / scale) : Value());
}

struct Size {
    std::uint64_t guests;
    std::vector<BootDomain> domains;
    BootLayout layout;
    Fields params;
    std::string variant;
};

Checked<Size> plan_size(Context& ctx, std::uint64_t guests, std::uint64_t first) {
    const GuestBootParams& p = ctx.opts().guestboot;
    Size s{guests, {}, {}, {}, "g=" + std::to_string(guests)};
    auto infos = ensure_domains(ctx, guest_domids(first, guests));
    if (!infos) return unexpected(infos.error());
    for (const auto& info : *infos)
        s.domains.push_back(BootDomain{boot_paths(info.domid), static_cast<std::uint32_t>(info.record.ring_gfn),
                                       info.record.store_port});
    s.layout.domains = guests;
    s.layout.toolstacks = std::min(p.toolstacks, guests);
    s.layout.backends = (guests + p.backend_domains - 1) / p.backend_domains;
    s.params = {{"guests", static_cast<std::int64_t>(guests)},
                {"first_domid", static_cast<std::int64_t>(first)},
                {"toolstacks", static_cast<std::int64_t>(s.layout.toolstacks)},
                {"backends", static_cast<std::int64_t>(s.layout.backends)},
                {"idle_ms", static_cast<std::int64_t>(p.idle_ms)}};
    return s;
}

// Toolstack and backend sockets, then every guest's ring.
Checked<> open_boot_conns(Context& ctx, Engine& e, const Size& s) {
    for (std::size_t i = 0; i < s.layout.toolstacks + s.layout.backends; ++i) {
        auto c = ctx.transport().open();
        if (!c) return unexpected(c.error());
        e.add(std::move(*c), i < s.layout.toolstacks ? 1 : (s.guests + s.layout.backends - 1) / s.layout.backends);
    }
    std::vector<DomId> domids;
    for (const auto& d : s.domains) domids.push_back(d.paths.domid);
    RingTransport rings(ctx.opts().fakexen, domids);
    for (std::size_t i = 0; i < domids.size(); ++i) {
        auto c = rings.open();
        if (!c) return unexpected(c.error());
        e.add(std::move(*c), 1);
    }
    return {};
}

Checked<Measurement> boot(Context& ctx, Engine& e, const Size& s) {
    const GuestBootParams& p = ctx.opts().guestboot;
    Meter meter(ctx);
    meter.start();
    BootDriver d(s.domains, s.layout, p.stall_s * 1'000'000'000);
    auto r = e.run(d, ctx.deadline());
    if (!r) return unexpected(r.error());
    Measurement m = ctx.measurement(std::string(kWorkload), "boot " + s.variant, s.params);
    m.ops = s.guests;
    m.seconds = ns_to_s(d.elapsed_ns());
    m.latency = latency_of(d.guest_latency());
    meter.finish(m);
    m.set("domains_per_s", m.ops_per_s());
    set_latency(m, "boot_ms_", d.boot_latency(), 1000);
    m.set("boot_max_ms", static_cast<double>(d.boot_latency().max()) / 1e6);
    m.set("guest_requests", static_cast<std::int64_t>(d.guest_latency().count()));
    m.set("dom0_requests", static_cast<std::int64_t>(d.toolstack_latency().count()));
    set_latency(m, "dom0_us_", d.toolstack_latency(), 1);
    m.set("eagain", static_cast<std::int64_t>(d.counters().eagain));
    m.set("missing_events", static_cast<std::int64_t>(d.waiting()));
    m.set("events", static_cast<std::int64_t>(d.events()));
    m.set("p99_over_p50", m.latency && m.latency->p50_us > 0 ? m.latency->p99_us / m.latency->p50_us : 0.0);
    return m;
}

// The daemon's CPU while every guest sits connected with its watch.
Checked<> idle(Context& ctx, Engine& e, Measurement& m) {
    const GuestBootParams& p = ctx.opts().guestboot;
    auto pid = ctx.daemon_pid();
    auto cpu_now = [&] { return pid ? cpu_seconds(*pid).value_or(-1.0) : -1.0; };
    double cpu0 = cpu_now();
    std::uint64_t t0 = now_ns();
    IdleDriver d(t0 + p.idle_ms * 1'000'000);
    if (auto r = e.run(d, ctx.deadline() + p.idle_ms * 1'000'000); !r) return unexpected(r.error());
    double secs = ns_to_s(now_ns() - t0);
    double cpu1 = cpu_now();
    bool known = cpu0 >= 0 && cpu1 >= 0;
    m.set("idle_s", secs);
    m.set("idle_cpu_s", known ? Value(cpu1 - cpu0) : Value());
    m.set("idle_cpu_pct", known && secs > 0 ? Value((cpu1 - cpu0) / secs * 100) : Value());
    return {};
}

std::vector<BootMix> mixes_of(const Size& s) {
    std::vector<BootMix> out;
    for (const auto& d : s.domains) out.push_back(guest_mix(d.paths, d.port));
    return out;
}

Checked<Measurement> replay(Context& ctx, Engine& e, std::size_t first_conn, const Size& s, const std::string& label) {
    const GuestBootParams& p = ctx.opts().guestboot;
    std::vector<BootMix> mixes = mixes_of(s);
    std::uint64_t per_round = mixes[0].before.size() + mixes[0].inside.size() + 2;
    std::uint64_t rounds = std::max<std::uint64_t>(1, p.requests / (per_round * s.guests));
    Meter meter(ctx);
    meter.start();
    MixRoundDriver d(std::move(mixes), first_conn, rounds, p.stall_s * 1'000'000'000);
    if (auto r = e.run(d, ctx.deadline()); !r) return unexpected(r.error());
    Measurement m = ctx.measurement(std::string(kWorkload), label, s.params);
    m.ops = d.latency().count();
    m.seconds = ns_to_s(d.elapsed_ns());
    m.latency = latency_of(d.latency());
    meter.finish(m);
    m.set("rounds_per_conn", static_cast<std::int64_t>(rounds));
    m.set("eagain", static_cast<std::int64_t>(d.counters().eagain));
    m.set("cpu_per_request_us", per_request_us(m));
    return m;
}

// The same mix over the rings, then over as many dom0 sockets: the
// daemon's CPU per request on each transport and their ratio.
Checked<Measurement> compare_cpu(Context& ctx, Engine& boot_engine, const Size& s) {
    auto ring = replay(ctx, boot_engine, s.layout.guest_conn(0), s, "requests " + s.variant);
    if (!ring) return ring;
    Engine e;
    for (std::uint64_t i = 0; i < s.guests; ++i) {
        auto c = ctx.transport().open();
        if (!c) return unexpected(c.error());
        e.add(std::move(*c), 1);
    }
    Measurement& m = *ring;
    m.set("transport", std::string("ring"));
    auto sock = replay(ctx, e, 0, s, "socket");
    if (!sock) {
        // The ring figures stand; the record says why the socket ones are missing.
        m.set("socket_error", sock.error().status + ": " + sock.error().message);
        return m;
    }
    m.set("socket_ops", static_cast<std::int64_t>(sock->ops));
    m.set("socket_seconds", sock->seconds);
    m.set("socket_daemon_cpu_s", sock->daemon_cpu_s ? Value(*sock->daemon_cpu_s) : Value());
    m.set("socket_cpu_per_request_us", per_request_us(*sock));
    m.set("socket_p50_us", sock->latency ? Value(sock->latency->p50_us) : Value());
    m.set("socket_p99_us", sock->latency ? Value(sock->latency->p99_us) : Value());
    double socket_us = per_request_us(*sock);
    m.set("cpu_ratio_ring_to_socket", socket_us > 0 ? Value(per_request_us(m) / socket_us) : Value());
    return m;
}

Checked<Measurement> teardown(Context& ctx, Engine& e, const Size& s) {
    Meter meter(ctx);
    meter.start();
    TeardownDriver d(s.domains, s.layout);
    if (auto r = e.run(d, ctx.deadline()); !r) return unexpected(r.error());
    Measurement m = ctx.measurement(std::string(kWorkload), "teardown " + s.variant, s.params);
    m.ops = s.guests;
    m.seconds = ns_to_s(d.elapsed_ns());
    m.latency = latency_of(d.latency());
    meter.finish(m);
    m.set("domains_per_s", m.ops_per_s());
    return m;
}

// Boot, idle, CPU comparison, teardown; the first failure ends the size.
Checked<> run_size(Context& ctx, const Size& s) {
    Engine e;
    if (auto r = open_boot_conns(ctx, e, s); !r) return r;
    auto b = boot(ctx, e, s);
    if (!b) return unexpected(b.error());
    if (auto r = idle(ctx, e, *b); !r) return r;
    ctx.emit(std::move(*b));
    auto cpu = compare_cpu(ctx, e, s);
    if (!cpu) return unexpected(cpu.error());
    ctx.emit(std::move(*cpu));
    auto t = teardown(ctx, e, s);
    if (!t) return unexpected(t.error());
    ctx.emit(std::move(*t));
    return {};
}

void cleanup_size(Context& ctx, const Size& s) {
    auto xs = ctx.setup_client();
    if (!xs) return;
    for (const auto& d : s.domains) {
        (void)(*xs)->request_string(wire::kRelease, {std::to_string(d.paths.domid)});
        (void)(*xs)->rm(d.paths.home);
        (void)(*xs)->rm(d.paths.backend_parent);
    }
}

}  // namespace

void run_guestboot(Context& ctx) {
    const GuestBootParams& p = ctx.opts().guestboot;
    std::uint64_t first = p.first_domid;
    for (std::uint64_t n : p.guests) {
        Fields params{{"guests", static_cast<std::int64_t>(n)}};
        std::string variant = "g=" + std::to_string(n);
        if (ctx.echo()) {
            emit_failure(ctx, std::string(kWorkload), variant, params,
                         Failure{std::string(kStatusUnsupported), "xstore-echo serves its socket only: no rings"});
            continue;
        }
        auto s = plan_size(ctx, n, first);
        first += n;
        if (!s) {
            emit_failure(ctx, std::string(kWorkload), variant, params, s.error());
            continue;
        }
        if (auto r = run_size(ctx, *s); !r) {
            emit_failure(ctx, std::string(kWorkload), variant, s->params, r.error());
            cleanup_size(ctx, *s);
        }
    }
}

}  // namespace xs::bench
