// `xstore-fakexen proxy` for the guest tests: a unix socket on which
// unmodified libxenstore clients (xenstore-utils, test-xenstore) talk to the
// daemon as one guest, through that guest's ring.
#pragma once

#include <optional>
#include <string>

#include "base/domid.hpp"
#include "tests/support/process.hpp"

namespace xs::testing {

class RingProxy {
public:
    // Starts the proxy for domain `d` of the fake host in `host_dir` and
    // waits until it listens. Throws std::runtime_error (with its output)
    // when it does not come up.
    RingProxy(const std::string& host_dir, DomId d);
    ~RingProxy();  // SIGTERM, then SIGKILL after a deadline
    RingProxy(const RingProxy&) = delete;
    RingProxy& operator=(const RingProxy&) = delete;

    const std::string& socket_path() const { return socket_; }
    // The environment a client needs to use the proxy (XENSTORED_PATH).
    EnvVars client_env() const { return {{"XENSTORED_PATH", socket_}}; }
    bool running() { return proc_->running(); }
    // Stop it now; its exit status (-1 when it had to be killed).
    int stop();
    // What it printed so far.
    std::string output();

private:
    std::string socket_;
    std::optional<Process> proc_;
};

}  // namespace xs::testing
