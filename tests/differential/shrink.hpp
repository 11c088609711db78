// Shrinking a failing step sequence to a minimal reproducer: drop whole
// connections, then chunks of steps (delta debugging), as long as a replay
// on fresh daemons still shows a difference with the same signature.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tests/differential/runner.hpp"

namespace xs::diff {

struct ShrinkResult {
    std::vector<Step> steps;
    Difference difference;  // as the shortest sequence shows it
    std::size_t replays = 0;
};

ShrinkResult shrink(const Programs& programs, std::vector<Step> steps, const Difference& found,
                    std::chrono::seconds budget);

}  // namespace xs::diff
