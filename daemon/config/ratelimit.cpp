#include "daemon/config/ratelimit.hpp"

namespace xs::log {
namespace {
constexpr std::size_t kPruneAbove = 4096;  // keys are domids in practice; bound the table anyway
}

std::optional<std::uint32_t> RateLimiter::allow(std::uint64_t key, Clock::time_point now) {
    auto it = last_.find(key);
    if (it == last_.end()) {
        if (last_.size() >= kPruneAbove) prune(now);
        last_.emplace(key, State{now, 0});
        return 0;
    }
    State& s = it->second;
    if (now - s.last < interval_) {
        if (s.suppressed < UINT32_MAX) ++s.suppressed;
        return std::nullopt;
    }
    std::uint32_t refused = s.suppressed;
    s = State{now, 0};
    return refused;
}

void RateLimiter::prune(Clock::time_point now) {
    std::erase_if(last_, [&](const auto& kv) { return now - kv.second.last >= interval_; });
}

}  // namespace xs::log
