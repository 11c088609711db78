// CONTROL "quota" texts, byte for byte as upstream HEAD prints them. Pure code.
#pragma once

#include <string>

#include "quota/items.hpp"
#include "quota/usage.hpp"
#include "base/domid.hpp"

namespace xs::quota {

// "quota": "Quota settings:\n" then "%-17s: %8u %s\n" per hard item.
std::string format_settings(const Limits& limits);
// "quota-soft": the same layout with the soft memory value only.
std::string format_soft_settings(const Limits& limits);
// "quota <domid>": "Domain %u:\n" then "%-17s: %8u (max %8u)\n" per item.
std::string format_domain(DomId dom, const Usage& usage);
// "quota max": "Max. seen accounting values:\n" then "%-17s: %8u\n" per item,
// from global_max.max_seen.
std::string format_max(const Usage& global_max);

}  // namespace xs::quota
