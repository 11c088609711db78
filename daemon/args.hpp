// Request payload parsing, with the protocol's rules for what counts as an
// argument. Pure code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/domid.hpp"

namespace xs::daemon {

// The payload as exactly one argument: non-empty, its only NUL the last byte.
std::optional<std::string_view> one_arg(std::string_view payload);

// NUL-terminated strings from the start of the payload (bytes after the last
// NUL are not a string). At most `max` are returned; `count` is how many there
// are in all.
struct Strings {
    static constexpr std::size_t kMax = 8;
    std::string_view s[kMax];
    std::size_t count = 0;
    std::string_view operator[](std::size_t i) const { return s[i]; }
};
Strings split_strings(std::string_view payload);
// Number of NUL bytes anywhere in the payload.
std::size_t count_nuls(std::string_view payload);

// A text reply (CONTROL): the text and its NUL.
void set_text(std::string& out, std::string_view text);

// Strict decimal numbers: digits only, no sign, no spaces, in range.
std::optional<std::uint32_t> parse_u32(std::string_view s);
std::optional<DomId> parse_domid(std::string_view s);  // 0..65535

}  // namespace xs::daemon
