// The daemon under test: one xstored process serving a unix socket in its
// own temporary directory, in the foreground, with stderr captured to a file.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"
#include "tools/client/xs_client.hpp"

namespace xs::testing {

struct DaemonOptions {
    // Extra command-line arguments ("-Q", "nodes=5", ...); "{dir}" in an
    // argument stands for the daemon's private directory.
    std::vector<std::string> args;
    std::size_t stack_limit = 0;    // RLIMIT_STACK for the daemon; 0 = inherit
    std::string loop;               // event loop; "" = $XSTORED_LOOP
    // Another daemon program (Xen's xenstored): started as `<program> -N
    // <args>`, without xstored's own options. "" = $XSTORED_BIN.
    std::string program;
    // Run through this command first (e.g. {"xstore-fakexen", "exec", "--"},
    // which execs the daemon in place: the pid stays the daemon's).
    std::vector<std::string> launcher;
    // More environment for the daemon (NOTIFY_SOCKET, ...); "{dir}" as in args.
    EnvVars env;

    static DaemonOptions with_args(std::vector<std::string> extra) {
        DaemonOptions o;
        o.args = std::move(extra);
        return o;
    }
    static DaemonOptions with_stack(std::size_t bytes) {
        DaemonOptions o;
        o.stack_limit = bytes;
        return o;
    }
};

class Daemon {
public:
    // Starts `$XSTORED_BIN -N --socket <dir>/socket [--event-loop=<loop>] <args>`
    // and waits until the socket accepts connections. Throws
    // std::runtime_error (with the daemon's stderr) when it does not come up.
    explicit Daemon(DaemonOptions opts = {});
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    const std::string& socket_path() const { return socket_; }
    const TempDir& dir() const { return dir_; }
    pid_t pid() const { return proc_->pid(); }
    // Still running (not exited, not killed).
    bool alive() { return proc_->running(); }

    // A protocol client on a new connection; throws std::runtime_error on failure.
    std::unique_ptr<client::Client> connect() const;
    // A connected socket fd (the caller closes it), or -1.
    int connect_fd() const;

    // Everything the daemon wrote to stderr so far.
    std::string stderr_text() const;
    std::optional<std::size_t> rss() const;
    std::optional<std::size_t> fds() const;
    std::optional<std::chrono::milliseconds> cpu() const;

    // Stops the daemon (`sig`, then SIGKILL after a deadline) and returns
    // what was wrong: it had died already, it did not exit 0, or its stderr
    // holds a sanitizer report. Empty when all was well. Idempotent.
    std::vector<std::string> stop(int sig = SIGTERM);
    // Send a signal (SIGHUP, ...) to the running daemon.
    void signal(int sig) { proc_->send_signal(sig); }

    // Sanitizer reports (AddressSanitizer, LeakSanitizer, UBSan "runtime
    // error:") found in stderr so far.
    std::vector<std::string> stderr_problems() const;

private:
    TempDir dir_;
    std::string socket_;
    std::string stderr_file_;
    std::optional<Process> proc_;
    std::vector<std::string> stop_report_;
    bool stopped_ = false;
};

// The last `max` bytes of `text`, for failure messages.
std::string tail(const std::string& text, std::size_t max = 4000);

}  // namespace xs::testing
