// Live update: the session CONTROL live-update drives, and the pure rules
// around it (the options of "-s", the new process's command line).
// cxenstored.md §8 describes the protocol; docs/live-update.md what we do.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/args.hpp"
#include "daemon/loop/loop.hpp"
#include "daemon/update_prep.hpp"
#include "transport/wire.hpp"

namespace xs::daemon {

// The options of "live-update -s": [-F] [-t <seconds>] [-v <version>], in
// any order. nullopt for an unknown option or a missing value (EINVAL).
struct StartOptions {
    bool force = false;        // -F: go even if transactions are open (version 1 only)
    unsigned timeout_s = 0;    // -t: how long to wait for transactions (version 1 only)
    std::uint32_t version = 2; // -v: stream version to write (what the next daemon reads)
};
// `version` is the daemon's default (--live-update-stream, CONTROL
// live-update-stream).
std::optional<StartOptions> parse_start(const Strings& args, std::uint32_t version);

// The new process's argv: the binary, then either the tokens of `cmdline`
// (split on spaces and tabs) or the current arguments without argv[0],
// then "-U" unless "-U" or "--live-update" is among them already.
std::vector<std::string> update_argv(const std::string& binary, const std::optional<std::string>& cmdline,
                                     const std::vector<std::string>& argv);

struct LiveUpdateSession {
    enum class Phase {
        Prepared,    // -f (and maybe -c) given
        Waiting,     // -s held: version 1 waits for open transactions to end
        Quiescing,   // -s held: the loop stops taking work; then the exec
    };
    ConnId owner = 0;  // the connection that gave -f; the session dies with it
    std::string binary;
    std::optional<std::string> cmdline;
    Phase phase = Phase::Prepared;
    wire::Header held{};  // the -s request, answered after the update
    StartOptions start;
    Clock::time_point started{};  // -s received
    Clock::time_point quiet{};    // the loop took no more work
    std::unique_ptr<UpdatePrep> prep;  // room for the state, readied from -f on
    // The stub-domain build (-b, -d): the new image, received so far, and
    // the size -b announced.
    std::string image;
    std::size_t image_size = 0;
};

// Name of the state file in the run directory.
inline constexpr std::string_view kStateFile = "state_dump";

}  // namespace xs::daemon
