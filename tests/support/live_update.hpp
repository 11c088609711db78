// Live update from a test: Debian's xenstore-control as an operator runs
// it, or the CONTROL live-update requests sent directly (to reach what that
// client cannot say, such as -v), and the facts a test checks afterwards.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/support/daemon.hpp"
#include "tests/support/process.hpp"
#include "tests/support/protocol.hpp"

namespace xs::testing {

// $XENSTORE_CONTROL, else Debian's /usr/lib/xen-4.17/bin/xenstore-control.
std::string xenstore_control_bin();
// $XSTORED_VARIANT_BIN: the daemon built with another option (a different
// binary to update to); "" when unset.
std::string xstored_variant_bin();

// `xenstore-control live-update [options...] <binary>` against the daemon.
CommandResult xenstore_control_update(const Daemon& d, const std::string& binary,
                                      const std::vector<std::string>& options = {});

// What xenstore-control sends, request by request: -f, then -c if given,
// then -s with `start`; an abort after a refused -c or -s. The reply that
// ended it: "OK" when the update happened.
struct UpdateRequest {
    std::string binary;
    std::optional<std::string> cmdline;
    std::vector<std::string> start = {"-t", "60"};
};
std::string live_update(Client& c, const UpdateRequest& r);

// The file /proc/<pid>/exe points at.
std::string exe_of(pid_t pid);
// /proc/<pid>/cmdline split at NULs.
std::vector<std::string> cmdline_of(pid_t pid);
// How many live updates the daemon's log reports as done.
std::size_t updates_logged(const Daemon& d);

}  // namespace xs::testing
