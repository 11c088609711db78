// The xenstore messages inside a connection's unsent output: the stream
// carries them as the bytes that go on the wire (16-byte header in the
// host's byte order, then the payload), one after the other.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

namespace xs::migration::messages {

inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::uint32_t kPayloadMax = 4096;
inline constexpr std::uint32_t kWatchEvent = 15;

inline std::uint32_t field(std::string_view msg, std::size_t offset) {
    std::uint32_t v;
    std::memcpy(&v, msg.data() + offset, sizeof v);
    return v;
}

inline bool is_watch_event(std::string_view msg) {
    return msg.size() >= kHeaderSize && field(msg, 0) == kWatchEvent;
}

// `out` cut into whole messages, after its first `partial` bytes (the rest
// of a partly written message, kept as the first piece when non-empty);
// nullopt when the bytes are not whole messages within the payload limit.
inline std::optional<std::vector<std::string_view>> split(std::string_view out, std::size_t partial) {
    std::vector<std::string_view> pieces;
    if (partial > out.size()) return std::nullopt;
    if (partial) pieces.push_back(out.substr(0, partial));
    out.remove_prefix(partial);
    while (!out.empty()) {
        if (out.size() < kHeaderSize) return std::nullopt;
        std::uint32_t len = field(out, 12);
        if (len > kPayloadMax || out.size() - kHeaderSize < len) return std::nullopt;
        pieces.push_back(out.substr(0, kHeaderSize + len));
        out.remove_prefix(kHeaderSize + len);
    }
    return pieces;
}

}  // namespace xs::migration::messages
