// Tags identify an operation's target in io_uring user_data and epoll data.
// The generation makes a tag stale once its slot is closed, so a completion
// that arrives late can never reach a connection that reuses the slot (or
// the fd number).
#pragma once

#include <cstdint>

namespace xs::daemon::loop {

enum class Kind : std::uint8_t {
    none = 0,
    listener,  // accept on a listener slot
    recv,      // receive on a connection slot (epoll: any socket readiness)
    send,      // send on a connection slot
    watch,     // readability of a watched fd
    cancel,    // io_uring cancel requests: their results carry no news
    probe,     // io_uring feature probe at start-up
};

inline constexpr unsigned kGenBits = 24;
inline constexpr std::uint32_t kGenMask = (1u << kGenBits) - 1;

struct Tag {
    Kind kind = Kind::none;
    std::uint32_t gen = 0;    // only the low kGenBits are kept
    std::uint32_t index = 0;  // slot index

    friend bool operator==(const Tag&, const Tag&) = default;
};

constexpr std::uint64_t encode(Tag t) {
    return (std::uint64_t(t.kind) << 56) | (std::uint64_t(t.gen & kGenMask) << 32) | t.index;
}

// Values whose kind byte is unknown (liburing's own timeout uses all ones)
// decode to Kind::none.
constexpr Tag decode(std::uint64_t v) {
    auto kind = static_cast<std::uint8_t>(v >> 56);
    if (kind > static_cast<std::uint8_t>(Kind::probe)) kind = 0;
    return Tag{static_cast<Kind>(kind), static_cast<std::uint32_t>(v >> 32) & kGenMask,
               static_cast<std::uint32_t>(v)};
}

}  // namespace xs::daemon::loop
