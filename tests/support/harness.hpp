// The doctest side of the support library: a Harness owns one daemon for a
// test case, hands out connections, and at the end checks the invariants
// every test shares: the daemon is still alive and answers a new
// connection, it exits 0 on SIGTERM, and its stderr has no sanitizer report.
#pragma once

#include <memory>

#include "tests/support/daemon.hpp"
#include "tests/support/env.hpp"
#include "tests/support/protocol.hpp"

namespace xs::testing {

class Harness {
public:
    explicit Harness(DaemonOptions opts = {});
    ~Harness();
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    Daemon& daemon() { return daemon_; }
    // The connection made at start.
    Client& client() { return *client_; }
    // Another connection.
    std::unique_ptr<Client> connect() { return daemon_.connect(); }

    // CHECKs now that the daemon is alive and a new connection gets an
    // answer to a READ.
    void check_answers();

private:
    Daemon daemon_;
    std::unique_ptr<Client> client_;
};

}  // namespace xs::testing
