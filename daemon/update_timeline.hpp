// When the steps of a live update happened, told by the old process to the
// new one through the environment (CLOCK_MONOTONIC survives the exec), so
// the new process can log the whole update, from -s to OK, step by step:
// what an operator reads to see where an update's downtime went.
#pragma once

#include <optional>
#include <string>

#include "daemon/loop/loop.hpp"

namespace xs::daemon::timeline {

// The old process's steps.
struct Before {
    Clock::time_point started;  // -s received
    Clock::time_point quiet;    // the loop took no more work
    Clock::time_point exec;     // just before execv
};

// The old process, before the exec: leave the times for the new one.
void pass(const Before& b);
// The exec failed: take them back.
void withdraw();
// The new process, first thing: take them (nullopt after a fresh start or
// from another daemon).
std::optional<Before> take();

// The log line of a finished update: the old process's steps and the new
// process's (`entered`: main() reached; `read`: state decoded; `done`: all
// restored), each in ms after -s.
std::string describe(const Before& b, Clock::time_point entered, Clock::time_point read, Clock::time_point done);

}  // namespace xs::daemon::timeline
