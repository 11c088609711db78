// Domain identifiers and the reserved values the protocol gives meaning to.
#pragma once

#include <cstdint>

namespace xs {

using DomId = std::uint16_t;

inline constexpr DomId kDomidFirstReserved = 0x7FF0;
inline constexpr DomId kDomidSelf = 0x7FF0;     // "the caller" in IS_DOMAIN_INTRODUCED
inline constexpr DomId kDomidInvalid = 0x7FF4;  // "no target" in migration records
inline constexpr DomId kDomidAny = 0x7FF5;      // permission entry matching every domain

}  // namespace xs
