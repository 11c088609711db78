// The environment variables xstored sets for the program a live update
// executes (and reads back in it): one list, so xstored(8) names each one
// (option_table.cpp, tests/unit/daemon/manpage_test.cpp).
#pragma once

#include <array>

namespace xs::daemon::handoff {

// The way back to the previous binary: "<fd>\x1f<arg0>\x1f<arg1>..." (rollback.cpp).
inline constexpr const char* kPrevious = "XSTORED_LU_PREVIOUS";
// Why the previous binary runs again (rollback.cpp).
inline constexpr const char* kRollback = "XSTORED_LU_ROLLBACK";
// When -s came, the loop went quiet and the exec began (update_timeline.cpp).
inline constexpr const char* kTimes = "XSTORED_LU_TIMES";

inline constexpr std::array kAll = {kPrevious, kRollback, kTimes};

}  // namespace xs::daemon::handoff
