// How a benchmark step fails: a status for the report ("error", "timeout",
// "unsupported") and a sentence saying what happened. A wrong answer from
// the daemon is a failure, never a number.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "bench/report.hpp"

namespace xs::bench {

struct Failure {
    std::string status = std::string(kStatusError);
    std::string message;
};

template <class T = void>
using Checked = Expected<T, Failure>;

inline Unexpected<Failure> failed(std::string message) {
    return unexpected(Failure{std::string(kStatusError), std::move(message)});
}
inline Unexpected<Failure> failed(std::string_view status, std::string message) {
    return unexpected(Failure{std::string(status), std::move(message)});
}

}  // namespace xs::bench
