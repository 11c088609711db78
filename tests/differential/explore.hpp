// Random differential runs: episodes of generated steps on both daemons;
// every unexplained difference is shrunk and written out as a reproducer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "tests/differential/runner.hpp"

namespace xs::diff {

struct ExploreOptions {
    std::uint64_t seed = 1;                  // episode i uses seed + i
    std::size_t episodes = 10;               // unless `until` is set
    std::optional<std::chrono::steady_clock::time_point> until;
    std::size_t steps = 300;                 // per episode, prologue included
    std::string out_dir;                     // reproducers ("" = none written)
    std::chrono::seconds shrink_budget{120}; // per new difference (0: no shrinking)
    bool quiet = false;
    bool trace = false;                      // print every step and both outcomes
};

struct ExploreResult {
    std::optional<StartError> start_error;
    Tally tally;
    std::size_t new_differences = 0;  // distinct signatures found
};

ExploreResult explore(const Programs& programs, const ExploreOptions& opts);

}  // namespace xs::diff
