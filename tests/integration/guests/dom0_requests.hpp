// Small dom0 requests the guest tests share.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "tests/support/guest_harness.hpp"

namespace guests {

using namespace xs::testing;

// IS_DOMAIN_INTRODUCED as dom0: "T", "F", or the error.
inline std::string introduced(GuestHarness& h, xs::DomId d) {
    return value(h.dom0().request_string(xs::wire::kIsDomainIntroduced, {std::to_string(d)}));
}

// SET_QUOTA <domid> <name> <value> as dom0, which must succeed.
inline void set_quota(GuestHarness& h, xs::DomId d, const std::string& name, std::uint64_t v) {
    REQUIRE(outcome(h.dom0().request_string(xs::wire::kSetQuota, {std::to_string(d), name, std::to_string(v)})) ==
            "OK");
}

}  // namespace guests
