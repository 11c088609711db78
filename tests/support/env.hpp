// What the test run was given through the environment: the daemon binary,
// the event loop to use, and whether the daemon is a sanitizer build (which
// makes it slower and hungrier, so waits and memory bounds are scaled).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace xs::testing {

// $XSTORED_BIN: the daemon under test ("" when unset).
std::string xstored_bin();
// $XSTORED_LOOP: "epoll" or "io_uring" ("" when unset: the daemon's default).
std::string xstored_loop();
// $XSTORED_SANITIZED=1: the daemon runs under AddressSanitizer/UBSan.
bool sanitized();

// How much slower/larger things may be: 1 normally, 4 for sanitizer builds.
unsigned slow_factor();
// A wait or timeout scaled by slow_factor().
std::chrono::milliseconds scaled(std::chrono::milliseconds base);
// A memory bound scaled by slow_factor().
std::size_t scaled_bytes(std::size_t base);

}  // namespace xs::testing
