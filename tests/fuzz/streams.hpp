// The fuzzer's view of one socket connection's two byte streams.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "transport/wire.hpp"

namespace xs::fuzz {

// Client to daemon: passes bytes through unchanged, except that a CONTROL
// command that writes files (logfile, log, memreport) is renamed so the
// fuzzer cannot make the daemon write wherever it likes. A CONTROL message
// is held back until it is complete; everything else flows as it comes.
// `state_only` (the live-update target) also renames the commands whose
// reply is no function of the store's state (stats, memreport) and those
// that start or configure a live update of the process, and sends
// DIRECTORY_PART as DIRECTORY: its reply carries the node's generation,
// which a live update numbers anew by design.
class InputGuard {
public:
    InputGuard() = default;
    explicit InputGuard(bool state_only) : state_only_(state_only) {}
    // Appends `bytes`; returns what may be delivered now.
    std::string pass(std::string_view bytes);

private:
    std::string held_;            // bytes not yet delivered
    std::uint64_t body_left_ = 0;  // payload bytes of the current message still to pass
    bool state_only_ = false;
};

// Daemon to client: every message must be well formed (header length within
// the protocol's bound, a known reply type, an error reply naming an error).
// Returns false, with `why`, on the first one that is not.
class OutputCheck {
public:
    bool take(std::string_view bytes, std::string& why);
    // The id the last TRANSACTION_START reply gave (0 before any).
    std::uint32_t last_tx() const { return last_tx_; }

private:
    wire::Framer framer_;
    std::uint32_t last_tx_ = 0;
};

}  // namespace xs::fuzz
