// What upstream Xen 4.22 answers to the message types Xen 4.17 lacks
// (GET/SET_FEATURE, GET/SET_QUOTA: 4.17 says ENOSYS), so that the
// differential run still checks xstored's error codes for them (spec README
// decision 1: we follow upstream there). Pure: it reads the step and what
// the episode knows about the fake host's domains.
#pragma once

#include <string>
#include <vector>

#include "tests/differential/rules.hpp"

namespace xs::diff {

// The replies upstream (with our documented decisions) may give: "OK" or
// error names. Empty when the step alone cannot tell (a domain whose
// death the daemon may not have noticed, a reserved domid).
std::vector<std::string> upstream_newer_reply(const View& v);

// A number as xstored reads domids, ports and quota values: decimal digits
// only, at most `max`.
bool strict_number(std::string_view s, std::uint64_t max);

}  // namespace xs::diff
