// Fixed-width integers in a chosen byte order, loaded from and stored into
// raw bytes. Pure code; the reader and the writer are its only users.
//
// memcpy plus an optional byte swap: compilers turn this into one load or
// store, and it has no alignment or aliasing requirement on the buffer.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace xs::migration::bytes {

inline constexpr bool kHostBig = std::endian::native == std::endian::big;

// Rounds n up to the next multiple of 8 (record and entry alignment).
constexpr std::uint64_t align8(std::uint64_t n) { return (n + 7) & ~std::uint64_t{7}; }

template <class T>
T load(const char* p, bool big) {
    static_assert(std::is_integral_v<T>);
    using U = std::make_unsigned_t<T>;
    U v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (sizeof(U) > 1) {
        if (big != kHostBig) v = std::byteswap(v);
    }
    return static_cast<T>(v);
}

template <class T>
void store(char* p, T value, bool big) {
    static_assert(std::is_integral_v<T>);
    using U = std::make_unsigned_t<T>;
    U v = static_cast<U>(value);
    if constexpr (sizeof(U) > 1) {
        if (big != kHostBig) v = std::byteswap(v);
    }
    std::memcpy(p, &v, sizeof v);
}

}  // namespace xs::migration::bytes
