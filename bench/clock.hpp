// The one clock every measurement uses: CLOCK_MONOTONIC in nanoseconds
// (a vDSO call, cheap enough to take once per received batch).
#pragma once

#include <cstdint>
#include <ctime>

namespace xs::bench {

inline std::uint64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

inline double ns_to_s(std::uint64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace xs::bench
