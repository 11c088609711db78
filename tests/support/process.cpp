#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace xs::testing {
namespace {

using Clock = std::chrono::steady_clock;

// The child's environment: ours with `extra` set on top. Built before fork,
// because the child may only make async-signal-safe calls.
std::vector<std::string> child_environment(const EnvVars& extra) {
    std::map<std::string, std::string> vars;
    for (char** e = environ; e && *e; ++e) {
        std::string_view kv(*e);
        std::size_t eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        vars[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
    for (const auto& [k, v] : extra) vars[k] = v;
    std::vector<std::string> out;
    for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
    return out;
}

std::vector<char*> c_array(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// Opens the child's end of a redirect (-1 for a pipe: the caller made one).
int open_target(const Redirect& r) {
    switch (r.kind) {
        case Redirect::Kind::File:
            return ::open(r.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        case Redirect::Kind::Null:
            return ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        case Redirect::Kind::Pipe:
            break;
    }
    return -1;
}

struct ChildEnds {
    int out = -1;
    int err = -1;
};

[[noreturn]] void exec_child(std::vector<char*>& argv, std::vector<char*>& envp, ChildEnds ends,
                             const SpawnOptions& opts, pid_t parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the test died before we got here
    if (opts.stack_limit != 0) {
        rlimit rl{opts.stack_limit, opts.stack_limit};
        ::setrlimit(RLIMIT_STACK, &rl);
    }
    if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) != 0) ::_exit(126);
    ::signal(SIGPIPE, SIG_DFL);
    int in = ::open("/dev/null", O_RDONLY);
    if (in < 0 || ::dup2(in, 0) < 0 || ::dup2(ends.out, 1) < 0 || ::dup2(ends.err, 2) < 0) ::_exit(126);
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
}

// Reads what `fd` has into `buf`; closes it and sets it to -1 at end of file.
void read_into(int& fd, std::string& buf) {
    char tmp[65536];
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n > 0) {
        buf.append(tmp, static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fd);
        fd = -1;
    }
}

}  // namespace

Process Process::spawn(const SpawnOptions& opts) {
    if (opts.argv.empty()) throw std::runtime_error("spawn: empty argv");
    std::vector<std::string> args = opts.argv;
    std::vector<std::string> env = child_environment(opts.env);
    std::vector<char*> argv = c_array(args);
    std::vector<char*> envp = c_array(env);

    int out_pipe[2] = {-1, -1};
    int err_pipe[2] = {-1, -1};
    ChildEnds ends;
    if (opts.out.kind == Redirect::Kind::Pipe) {
        if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        ends.out = out_pipe[1];
    } else {
        ends.out = open_target(opts.out);
    }
    if (opts.err.kind == Redirect::Kind::Pipe) {
        if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        ends.err = err_pipe[1];
    } else {
        ends.err = open_target(opts.err);
    }
    if (ends.out < 0 || ends.err < 0) throw std::runtime_error("cannot open output redirect");

    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) exec_child(argv, envp, ends, opts, parent);

    ::close(ends.out);
    ::close(ends.err);
    Process p;
    p.pid_ = pid;
    p.out_fd_ = out_pipe[0];
    p.err_fd_ = err_pipe[0];
    return p;
}

Process::Process(Process&& o) noexcept
    : pid_(o.pid_), out_fd_(o.out_fd_), err_fd_(o.err_fd_), done_(o.done_), exit_code_(o.exit_code_),
      term_signal_(o.term_signal_), out_(std::move(o.out_)), err_(std::move(o.err_)), line_pos_(o.line_pos_) {
    o.pid_ = -1;
    o.out_fd_ = -1;
    o.err_fd_ = -1;
    o.done_ = true;
}

Process::~Process() {
    kill_now();
    close_pipes();
}

void Process::close_pipes() {
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
    out_fd_ = err_fd_ = -1;
}

void Process::record_status(int status) {
    done_ = true;
    if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) term_signal_ = WTERMSIG(status);
}

bool Process::running() {
    if (done_ || pid_ < 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) record_status(status);
    return !done_;
}

bool Process::wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (running()) {
        if (Clock::now() >= deadline) return false;
        if (out_fd_ >= 0 || err_fd_ >= 0) {
            pump(std::chrono::milliseconds(10));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    return true;
}

void Process::kill_now() {
    if (!running()) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_) record_status(status);
}

void Process::send_signal(int sig) {
    if (running()) ::kill(pid_, sig);
}

void Process::pump(std::chrono::milliseconds timeout) {
    pollfd fds[2];
    nfds_t n = 0;
    if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
    if (n == 0) return;
    int r = ::poll(fds, n, static_cast<int>(timeout.count()));
    if (r <= 0) return;
    for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        if (fds[i].fd == out_fd_) {
            read_into(out_fd_, out_);
        } else {
            read_into(err_fd_, err_);
        }
    }
}

void Process::drain(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while ((out_fd_ >= 0 || err_fd_ >= 0) && Clock::now() < deadline) pump(std::chrono::milliseconds(50));
}

std::optional<std::string> Process::read_line(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
        std::size_t nl = out_.find('\n', line_pos_);
        if (nl != std::string::npos) {
            std::string line = out_.substr(line_pos_, nl - line_pos_);
            line_pos_ = nl + 1;
            return line;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0 || out_fd_ < 0) return std::nullopt;
        pump(left);
    }
}

std::string CommandResult::describe() const {
    std::string s = timed_out ? "timed out" : term_signal ? "killed by signal " + std::to_string(term_signal)
                                                          : "exit " + std::to_string(exit_code);
    s += ", stdout: [" + out + "], stderr: [" + err + "]";
    return s;
}

CommandResult run_command(const std::vector<std::string>& argv, const EnvVars& env,
                          std::chrono::milliseconds timeout) {
    Process p = Process::spawn(SpawnOptions{argv, env, Redirect::pipe(), Redirect::pipe(), 0, {}});
    CommandResult r;
    r.timed_out = !p.wait_exit(timeout);
    if (r.timed_out) p.kill_now();
    p.drain(std::chrono::seconds(2));  // output written just before exit
    r.exit_code = r.timed_out ? -1 : p.exit_code();
    r.term_signal = p.term_signal();
    r.out = p.out();
    r.err = p.err();
    return r;
}

}  // namespace xs::testing
