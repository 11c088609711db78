#include "daemon/update_timeline.hpp"

#include <cstdio>
#include <cstdlib>

#include "daemon/config/handoff_env.hpp"
#include "daemon/config/log.hpp"

namespace xs::daemon::timeline {

namespace {

constexpr const char* kVariable = handoff::kTimes;

long long ns(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

Clock::time_point at(long long n) { return Clock::time_point(std::chrono::nanoseconds(n)); }

double ms(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace

void pass(const Before& b) {
    std::string v = std::to_string(ns(b.started)) + ":" + std::to_string(ns(b.quiet)) + ":" + std::to_string(ns(b.exec));
    ::setenv(kVariable, v.c_str(), 1);
}

void withdraw() { ::unsetenv(kVariable); }

std::optional<Before> take() {
    const char* v = std::getenv(kVariable);
    if (!v) return std::nullopt;
    long long s = 0, q = 0, e = 0;
    int n = std::sscanf(v, "%lld:%lld:%lld", &s, &q, &e);
    ::unsetenv(kVariable);  // the next update passes its own
    if (n != 3 || s <= 0 || q < s || e < q) return std::nullopt;
    return Before{at(s), at(q), at(e)};
}

std::string describe(const Before& b, Clock::time_point entered, Clock::time_point read, Clock::time_point done) {
    return log::format("%.1f ms from -s to served (quiet %.1f, exec %.1f, new process %.1f, state read %.1f, "
                       "restored %.1f)",
                       ms(b.started, done), ms(b.started, b.quiet), ms(b.started, b.exec), ms(b.started, entered),
                       ms(b.started, read), ms(b.started, done));
}

}  // namespace xs::daemon::timeline
