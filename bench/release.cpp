// Workload 8: domain release in a big store. Builds N nodes (the big
// store's shape, owned by dom0), then, per round, introduces a fresh fake
// guest owning its home with --rel-owned nodes and named in the permissions
// of --rel-named nodes of a backend directory, and times the RELEASE that
// removes them. What the daemon does for that must follow what the domain
// is named in, not the size of the store. A READ timed just before each
// RELEASE gives the round trip to subtract.
#include "bench/batch.hpp"
#include "bench/bigstore_plan.hpp"
#include "bench/clock.hpp"
#include "bench/guest_setup.hpp"
#include "bench/workloads.hpp"

namespace xs::bench {

namespace {

std::string errname(const Error& e) { return std::string(wire::error_name(e.code)); }

// The store, pipelined over a few connections.
Checked<> build(Context& ctx, const BigStorePlan& plan) {
    const BigstoreParams& p = ctx.opts().bigstore;
    Engine e;
    for (std::uint64_t i = 0; i < p.conns; ++i) {
        auto s = ctx.transport().open();
        if (!s) return unexpected(s.error());
        e.add(std::move(*s), p.window);
    }
    auto make = [&](std::uint64_t i) {
        BatchRequest r{wire::kWrite, {}};
        plan.write_payload(i, r.payload);
        return r;
    };
    auto r = run_batch(e, plan.writes(), make, ctx.deadline());
    if (!r) return unexpected(r.error());
    return {};
}

// The domain's nodes: its home and owned - 1 nodes beneath it; a backend
// directory granting it read access with named - 1 children (which inherit
// that list), created by dom0 as a toolstack does.
Checked<> populate(client::Client& xs, const std::string& backend, DomId d, std::uint64_t owned, std::uint64_t named) {
    std::string home = guest_home(d), id = std::to_string(d);
    for (std::uint64_t i = 1; i < owned; ++i)
        if (auto r = xs.write(home + "/data/k" + std::to_string(i), "v"); !r)
            return failed("WRITE beneath " + home + ": " + errname(r.error()));
    if (auto r = xs.mkdir(backend); !r) return failed("MKDIR " + backend + ": " + errname(r.error()));
    if (auto r = xs.set_perms(backend, {"n0", "r" + id}); !r)
        return failed("SET_PERMS " + backend + ": " + errname(r.error()));
    for (std::uint64_t i = 1; i < named; ++i)
        if (auto r = xs.write(backend + "/k" + std::to_string(i), "v"); !r)
            return failed("WRITE beneath " + backend + ": " + errname(r.error()));
    return {};
}

// After the release: the home is gone, the backend no longer names it.
Checked<> check_released(client::Client& xs, const std::string& backend, DomId d) {
    std::string home = guest_home(d);
    auto gone = xs.read(home);
    if (gone || gone.error().code != ENOENT) return failed("READ " + home + " after RELEASE did not give ENOENT");
    auto perms = xs.get_perms(backend + "/k1");
    if (!perms) return failed("GET_PERMS " + backend + "/k1: " + errname(perms.error()));
    if (perms->size() != 1) return failed("GET_PERMS " + backend + "/k1 still names domain " + std::to_string(d));
    return {};
}

Checked<Measurement> measure(Context& ctx, const BigStorePlan& plan, const Fields& params) {
    const ReleaseParams& p = ctx.opts().release;
    if (auto r = ctx.remove_tree(plan.root()); !r) return unexpected(r.error());
    auto xs = ctx.setup_client();
    if (!xs) return unexpected(xs.error());
    if (auto m = (*xs)->mkdir(plan.root()); !m) return failed("MKDIR " + plan.root() + ": " + errname(m.error()));
    std::uint64_t t0 = now_ns();
    if (auto b = build(ctx, plan); !b) return unexpected(b.error());
    double build_s = ns_to_s(now_ns() - t0);
    Histogram latency, rtt;
    Meter meter(ctx);
    meter.start();
    std::uint64_t total_ns = 0;
    for (std::uint64_t i = 0; i < p.rounds; ++i) {
        auto d = static_cast<DomId>(p.first_domid + i);
        std::string backend = ctx.opts().prefix + "/rel/backend/" + std::to_string(d);
        if (auto r = prepare_guests(ctx, {d}); !r) return unexpected(r.error());
        if (auto r = populate(**xs, backend, d, p.owned, p.named); !r) return unexpected(r.error());
        // A READ's round trip just before, on the same connection: what
        // the RELEASE costs beyond a request that does nothing.
        std::uint64_t read_start = now_ns();
        if (auto h = (*xs)->read(guest_home(d)); !h) return failed("READ " + guest_home(d) + ": " + errname(h.error()));
        rtt.record(now_ns() - read_start);
        std::uint64_t start = now_ns();
        auto r = (*xs)->request_string(wire::kRelease, {std::to_string(d)});
        std::uint64_t took = now_ns() - start;
        if (!r) return failed("RELEASE " + std::to_string(d) + ": " + errname(r.error()));
        if (auto c = check_released(**xs, backend, d); !c) return unexpected(c.error());
        latency.record(took);
        total_ns += took;
    }
    Measurement m = ctx.measurement("release", "n=" + std::to_string(p.nodes), params);
    m.ops = p.rounds;
    m.seconds = ns_to_s(total_ns);
    m.latency = latency_of(latency);
    meter.finish(m);
    m.set("nodes", static_cast<std::int64_t>(plan.nodes()));
    m.set("build_s", build_s);
    m.set("release_max_us", static_cast<double>(latency.max()) / 1000.0);
    auto read = latency_of(rtt);
    m.set("read_p50_us", read ? Value(read->p50_us) : Value());
    return m;
}

}  // namespace

void run_release(Context& ctx) {
    const ReleaseParams& p = ctx.opts().release;
    Fields params{{"nodes", static_cast<std::int64_t>(p.nodes)},
                  {"owned", static_cast<std::int64_t>(p.owned)},
                  {"named", static_cast<std::int64_t>(p.named)},
                  {"rounds", static_cast<std::int64_t>(p.rounds)}};
    std::string variant = "n=" + std::to_string(p.nodes);
    if (ctx.echo()) {
        emit_failure(ctx, "release", variant, params,
                     Failure{std::string(kStatusUnsupported), "xstore-echo serves its socket only: no domains"});
        return;
    }
    BigStorePlan plan(ctx.opts().prefix + "/rel/store", p.nodes, std::min<std::uint64_t>(10000, p.nodes / 2));
    auto m = measure(ctx, plan, params);
    if (m) ctx.emit(std::move(*m));
    else emit_failure(ctx, "release", variant, params, m.error());
    ctx.cleanup("release", ctx.opts().prefix + "/rel");
}

}  // namespace xs::bench
