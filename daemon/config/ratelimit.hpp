// "One message per interval per key" bookkeeping for log messages that a
// guest could otherwise trigger at will (memory quota warnings, ...). The
// caller supplies the time, so tests need no clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace xs::log {

inline constexpr std::chrono::seconds kDefaultRateInterval{10};

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    explicit RateLimiter(Clock::duration interval = kDefaultRateInterval) : interval_(interval) {}

    // Whether a message for `key` may be written at `now`: the first one, or
    // the first one at least `interval` after the last one allowed. When
    // allowed, the value is how many were refused in between (to mention
    // them); nullopt means "drop this one".
    std::optional<std::uint32_t> allow(std::uint64_t key, Clock::time_point now);
    void forget(std::uint64_t key) { last_.erase(key); }
    std::size_t tracked() const { return last_.size(); }

private:
    struct State {
        Clock::time_point last;
        std::uint32_t suppressed;
    };
    // Keys whose last message is older than the interval behave as if never
    // seen, so they can be dropped when the table grows.
    void prune(Clock::time_point now);

    Clock::duration interval_;
    std::unordered_map<std::uint64_t, State> last_;
};

}  // namespace xs::log
