#include "daemon/loop/deadline.hpp"

#include <climits>

namespace xs::daemon::loop {

std::optional<TimePoint> earliest(std::optional<TimePoint> a, std::optional<TimePoint> b) {
    if (!a) return b;
    if (!b) return a;
    return *a < *b ? a : b;
}

Clock::duration time_left(TimePoint when, TimePoint now) {
    return when > now ? when - now : Clock::duration::zero();
}

__kernel_timespec to_timespec(Clock::duration d) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    if (ns < 0) ns = 0;
    return __kernel_timespec{.tv_sec = ns / 1'000'000'000, .tv_nsec = ns % 1'000'000'000};
}

int epoll_timeout_ms(std::optional<TimePoint> when, TimePoint now) {
    if (!when) return -1;
    auto left = time_left(*when, now);
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace xs::daemon::loop
