#include "bench/workloads.hpp"

#include "bench/options.hpp"

namespace xs::bench {

void emit_failure(Context& ctx, const std::string& workload, const std::string& variant, Fields params,
                  const Failure& f) {
    Measurement m = ctx.measurement(workload, variant, std::move(params));
    m.status = f.status;
    m.error = f.message;
    ctx.emit(std::move(m));
}

void run_workload(Context& ctx, const std::string& name) {
    if (name == "all") {
        for (const auto& w : workload_names()) run_workload(ctx, w);
        if (ctx.opts().fakexen_given) run_guests(ctx);
        return;
    }
    if (name == "ping") run_ping(ctx);
    else if (name == "pipeline") run_pipeline(ctx);
    else if (name == "bootstorm") run_bootstorm(ctx);
    else if (name == "watch") run_watch(ctx);
    else if (name == "bigstore") run_bigstore(ctx);
    else if (name == "guests") run_guests(ctx);
    else if (name == "liveupdate") run_liveupdate(ctx);
    else if (name == "release") run_release(ctx);
    else if (name == "pin") run_pin(ctx);
    else if (name == "guestboot") run_guestboot(ctx);
}

}  // namespace xs::bench
