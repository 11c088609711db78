// How a benchmark step fails: a status for the report ("error", "timeout",
// "unsupported") and a sentence saying what happened. A wrong answer from
// the daemon is a failure, never a number.
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include "bench/report.hpp"

namespace xs::bench {

struct Failure {
    std::string status = std::string(kStatusError);
    std::string message;
};

template <class T = void>
using Checked = std::expected<T, Failure>;

inline std::unexpected<Failure> failed(std::string message) {
    return std::unexpected(Failure{std::string(kStatusError), std::move(message)});
}
inline std::unexpected<Failure> failed(std::string_view status, std::string message) {
    return std::unexpected(Failure{std::string(status), std::move(message)});
}

}  // namespace xs::bench
