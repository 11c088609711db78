// What xstore-top shows: one screen from a CONTROL stats -j reply (and the
// one before it, for the request rate between the two). Pure code.
#pragma once

#include <optional>
#include <string>

#include "tools/top/json.hpp"

namespace xs::top {

// `prev` is the reply `interval_s` seconds earlier (none on the first
// screen). `rows` bounds the domain table (0 = all the reply has).
std::string render(const Json& now, const std::optional<Json>& prev, double interval_s, std::size_t rows);

// 1536 -> "1.5 KiB", 5 << 20 -> "5.0 MiB".
std::string human_bytes(double bytes);

}  // namespace xs::top
