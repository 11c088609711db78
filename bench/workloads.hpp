// The workloads. Each runs its configurations, emits one measurement
// per configuration into the context (an error measurement when something
// fails) and cleans up its nodes.
#pragma once

#include <string>

#include "bench/context.hpp"

namespace xs::bench {

void run_ping(Context& ctx);
void run_pipeline(Context& ctx);
void run_bootstorm(Context& ctx);
void run_watch(Context& ctx);
void run_bigstore(Context& ctx);
void run_guests(Context& ctx);
void run_liveupdate(Context& ctx);
void run_release(Context& ctx);
void run_pin(Context& ctx);
void run_guestboot(Context& ctx);

// Run the named workload ("all" runs every one in order, guests only when
// --fakexen was given, never liveupdate).
void run_workload(Context& ctx, const std::string& name);

// Emit a failed measurement for `workload`/`variant`.
void emit_failure(Context& ctx, const std::string& workload, const std::string& variant, Fields params,
                  const Failure& f);

}  // namespace xs::bench
