// Timer math shared by the backends: the daemon's one-shot deadline and the
// conversion of "wake no later than" into each backend's timeout format.
#pragma once

#include <linux/time_types.h>

#include <optional>

#include "daemon/loop/loop.hpp"

namespace xs::daemon::loop {

using TimePoint = Clock::time_point;

// The daemon's deadline. It is one-shot: the first turn that starts at or
// after it forgets it, so a daemon that does not renew it is not woken in a
// busy loop.
class Deadline {
public:
    void set(std::optional<TimePoint> when) { when_ = when; }
    std::optional<TimePoint> get() const { return when_; }
    void expire(TimePoint now) {
        if (when_ && *when_ <= now) when_.reset();
    }

private:
    std::optional<TimePoint> when_;
};

std::optional<TimePoint> earliest(std::optional<TimePoint> a, std::optional<TimePoint> b);

// Time from `now` until `when`, zero if `when` has passed.
Clock::duration time_left(TimePoint when, TimePoint now);

__kernel_timespec to_timespec(Clock::duration d);

// epoll_wait's timeout for waking no later than `when`: -1 without one,
// otherwise milliseconds rounded up (a wait that ends early would only cost
// another turn), capped at INT_MAX.
int epoll_timeout_ms(std::optional<TimePoint> when, TimePoint now);

}  // namespace xs::daemon::loop
