#include "tests/support/env.hpp"

#include <cstdlib>
#include <string_view>

namespace xs::testing {
namespace {

std::string from_env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

}  // namespace

std::string xstored_bin() { return from_env("XSTORED_BIN"); }

std::string xstored_loop() { return from_env("XSTORED_LOOP"); }

bool sanitized() { return from_env("XSTORED_SANITIZED") == "1"; }

unsigned slow_factor() { return sanitized() ? 4 : 1; }

std::chrono::milliseconds scaled(std::chrono::milliseconds base) { return base * slow_factor(); }

std::size_t scaled_bytes(std::size_t base) { return base * slow_factor(); }

}  // namespace xs::testing
