// Child processes for tests: the daemon under test and external commands
// (Debian's xenstore clients), with their output captured and a deadline on
// every wait. A Process that is destroyed while running is killed and reaped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace xs::testing {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// Where a child's stdout/stderr goes.
struct Redirect {
    enum class Kind { Pipe, File, Null } kind = Kind::Pipe;
    std::string path;  // Kind::File: created/truncated
    static Redirect pipe() { return {}; }
    static Redirect file(std::string p) { return {Kind::File, std::move(p)}; }
    static Redirect null() { return {Kind::Null, {}}; }
};

struct SpawnOptions {
    std::vector<std::string> argv;  // argv[0] is looked up in PATH
    EnvVars env;                    // set (or overridden) in the child's environment
    Redirect out;
    Redirect err;
    std::size_t stack_limit = 0;    // RLIMIT_STACK for the child in bytes; 0 = inherit
    std::string cwd;                // the child's working directory; "" = the test's
};

class Process {
public:
    // Starts the child (stdin is /dev/null). Throws std::runtime_error when
    // fork fails; an exec failure shows as exit code 127.
    static Process spawn(const SpawnOptions& opts);

    Process(Process&& o) noexcept;
    Process& operator=(Process&&) = delete;
    Process(const Process&) = delete;
    ~Process();

    pid_t pid() const { return pid_; }
    // True while the child has not exited (reaps it when it has).
    bool running();
    // Wait up to `timeout` for the child to exit, reading its pipes meanwhile.
    bool wait_exit(std::chrono::milliseconds timeout);
    // SIGKILL and reap (no-op when already gone).
    void kill_now();
    void send_signal(int sig);

    bool exited() const { return done_; }
    // Exit status when it exited normally, else -1.
    int exit_code() const { return exit_code_; }
    // The signal that ended it, else 0.
    int term_signal() const { return term_signal_; }

    // The next complete line of stdout (without '\n'), or nullopt after
    // `timeout` or at end of output.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    // Read whatever the pipes hold, waiting at most `timeout` for more.
    void pump(std::chrono::milliseconds timeout);
    // Read the pipes until both reach end of file (or `timeout` passes).
    void drain(std::chrono::milliseconds timeout);
    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }

private:
    Process() = default;
    void record_status(int status);
    void close_pipes();

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    bool done_ = false;
    int exit_code_ = -1;
    int term_signal_ = 0;
    std::string out_;
    std::string err_;
    std::size_t line_pos_ = 0;
};

struct CommandResult {
    int exit_code = -1;   // -1 when killed by a signal or timed out
    int term_signal = 0;
    bool timed_out = false;
    std::string out;
    std::string err;
    // For failure messages: "exit 1, stdout: ..., stderr: ...".
    std::string describe() const;
};

// Run a command to completion (killed after `timeout`), capturing its output.
CommandResult run_command(const std::vector<std::string>& argv, const EnvVars& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace xs::testing
