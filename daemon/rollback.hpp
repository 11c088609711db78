// A live update's way back. Just before the exec the old daemon leaves the
// new process an fd of its own executable and its command line (in the
// environment). If the new process cannot take over (its command line is
// not valid, it cannot read the state, it cannot adopt the fds), it execs
// that previous binary with -U instead of exiting: the previous binary reads
// the same state file, serves everyone on, and answers the held request
// with the reason, so the operator's xenstore-control says the update
// failed and nothing was lost. Only an xstored on both sides does this.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace xs::daemon::rollback {

// The old process, before the exec: arm the way back to this binary with
// `argv` (its own command line). False when it cannot (then there is none).
bool arm(const std::vector<std::string>& argv);
// The exec failed: disarm (close the fd, drop the variable).
void disarm();

// The new process, once it serves: the way back is not needed any more.
void forget();
// The new process, when it cannot take over: exec the previous binary
// (with -U) telling it why. Returns only when there is no way back.
void fall_back(const std::string& reason);

// In a process started by fall_back(): why the update was rolled back.
std::optional<std::string> reason();

}  // namespace xs::daemon::rollback
