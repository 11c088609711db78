// Byte transfer through the two rings of a xenstore page. Pure code: it only
// touches the shared page it is given, never a system call or an event
// channel (notifying the other side is the caller's job).
//
// Both ends use the same functions: the daemon reads Direction::kRequest and
// writes Direction::kResponse; a guest does the opposite.
//
// The other end may be hostile: every index is read once into a local, the
// consumer/producer distance is checked before any byte moves, and a bad
// distance is reported as kRingIndexError so the caller can set the page's
// error field to kErrorRingIdx and stop talking to that end.
#pragma once

#include <cerrno>
#include <cstddef>

#include "base/result.hpp"
#include "transport/ring_layout.hpp"

namespace xs::ring {

enum class Direction {
    kRequest,   // req[]: guest produces, daemon consumes
    kResponse,  // rsp[]: daemon produces, guest consumes
};

// Error code of every function below when prod - cons > kRingSize (this
// includes a consumer index ahead of the producer index).
inline constexpr int kRingIndexError = EIO;

// Bytes waiting to be read in `dir`'s ring.
Result<std::size_t> readable(const Interface& page, Direction dir);
// Free bytes in `dir`'s ring.
Result<std::size_t> writable(const Interface& page, Direction dir);

// Consume up to `cap` bytes from `dir`'s ring into `dst` (copying across the
// buffer end when needed) and publish the new consumer index. Returns the
// count, which is 0 when the ring is empty.
Result<std::size_t> read(Interface& page, Direction dir, char* dst, std::size_t cap);

// Produce up to `len` bytes from `src` into `dir`'s ring and publish the new
// producer index. Returns the count, which is less than `len` when the ring
// fills up (0 when it is full).
Result<std::size_t> write(Interface& page, Direction dir, const char* src, std::size_t len);

}  // namespace xs::ring
