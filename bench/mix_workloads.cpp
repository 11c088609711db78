// Workloads 1 and 2: ping-pong latency and pipelined throughput.
#include <memory>

#include "bench/batch.hpp"
#include "bench/clock.hpp"
#include "bench/mix_driver.hpp"
#include "bench/workloads.hpp"

namespace xs::bench {

namespace {

struct MixRun {
    std::string workload;
    std::string variant;
    Fields params;
    std::size_t clients;
    std::size_t window;
    MixSpec spec;
};

Checked<> open_conns(Context& ctx, Engine& e, std::size_t n, std::size_t window) {
    for (std::size_t i = 0; i < n; ++i) {
        auto s = ctx.transport().open();
        if (!s) return unexpected(s.error());
        e.add(std::move(*s), window);
    }
    return {};
}

// Give every key its generation-0 value, pipelined over the same connections.
Checked<> write_initial_values(Context& ctx, Engine& e, const MixSpec& spec, std::size_t clients) {
    std::string value;
    MixDriver::value_of(0, spec.value_size, value);
    auto make = [&](std::uint64_t i) {
        std::size_t c = i / spec.keys;
        std::string p = MixDriver::key_path(spec.root, c, i % spec.keys);
        p.push_back('\0');
        p += value;
        return BatchRequest{wire::kWrite, std::move(p)};
    };
    // Spread over all connections; which one writes a key does not matter.
    auto r = run_batch(e, spec.keys * clients, make, ctx.deadline());
    if (!r) return unexpected(r.error());
    return {};
}

Checked<Measurement> measure_mix(Context& ctx, const MixRun& run) {
    Engine e;
    if (auto r = open_conns(ctx, e, run.clients, run.window); !r) return unexpected(r.error());
    if (auto r = write_initial_values(ctx, e, run.spec, run.clients); !r) return unexpected(r.error());

    Meter meter(ctx);
    MixDriver d(run.spec, run.clients, meter);
    if (auto r = e.run(d, ctx.deadline()); !r) return unexpected(r.error());

    Measurement m = ctx.measurement(run.workload, run.variant, run.params);
    m.ops = run.spec.ops;
    m.seconds = ns_to_s(d.measured_ns());
    m.latency = latency_of(d.latency());
    meter.finish(m);
    return m;
}

void run_mix(Context& ctx, const MixRun& run) {
    auto m = measure_mix(ctx, run);
    if (m) ctx.emit(std::move(*m));
    else emit_failure(ctx, run.workload, run.variant, run.params, m.error());
    ctx.cleanup(run.workload, run.spec.root);
}

}  // namespace

void run_ping(Context& ctx) {
    const PingParams& p = ctx.opts().ping;
    MixRun run;
    run.workload = "ping";
    run.variant = "read c=1 w=1";
    run.params = {{"ops", static_cast<std::int64_t>(p.ops)},
                  {"warmup", static_cast<std::int64_t>(p.warmup_ops())},
                  {"value_size", static_cast<std::int64_t>(p.value_size)}};
    run.clients = 1;
    run.window = 1;
    run.spec = MixSpec{ctx.opts().prefix + "/ping", 0, 1, p.warmup_ops(), p.ops, p.value_size, !ctx.echo()};
    run_mix(ctx, run);
}

void run_pipeline(Context& ctx) {
    const PipelineParams& p = ctx.opts().pipeline;
    for (const auto& mix : p.mixes) {
        for (auto clients : p.clients) {
            MixRun run;
            run.workload = "pipeline";
            run.variant = mix + " c=" + std::to_string(clients) + " w=" + std::to_string(p.window);
            unsigned write_pct = mix == "write" ? 90 : 10;
            run.params = {{"mix", mix},
                          {"write_pct", static_cast<std::int64_t>(write_pct)},
                          {"clients", static_cast<std::int64_t>(clients)},
                          {"window", static_cast<std::int64_t>(p.window)},
                          {"ops", static_cast<std::int64_t>(p.ops)},
                          {"keys", static_cast<std::int64_t>(p.keys)},
                          {"value_size", static_cast<std::int64_t>(p.value_size)}};
            run.clients = clients;
            run.window = p.window;
            run.spec = MixSpec{ctx.opts().prefix + "/pipe", write_pct, p.keys, p.ops / 10, p.ops, p.value_size,
                               !ctx.echo()};
            run_mix(ctx, run);
        }
    }
}

}  // namespace xs::bench
