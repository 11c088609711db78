#include "tests/support/daemon.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/env.hpp"
#include "tests/support/proc_stats.hpp"

namespace xs::testing {
namespace {

using Clock = std::chrono::steady_clock;

int connect_unix_fd(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return -1;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// "{dir}" stands for the daemon's private directory.
std::string expand_dir(std::string s, const TempDir& dir) {
    for (std::size_t at; (at = s.find("{dir}")) != std::string::npos;) s.replace(at, 5, dir.path());
    return s;
}

std::vector<std::string> daemon_argv(const TempDir& dir, const std::string& socket, const DaemonOptions& opts) {
    std::vector<std::string> argv = opts.launcher;
    if (!opts.program.empty()) {
        argv.insert(argv.end(), {opts.program, "-N"});
    } else {
        argv.insert(argv.end(), {xstored_bin(), "-N", "--socket", socket});
        std::string loop = opts.loop.empty() ? xstored_loop() : opts.loop;
        if (!loop.empty()) argv.push_back("--event-loop=" + loop);
    }
    for (const std::string& a : opts.args) argv.push_back(expand_dir(a, dir));
    return argv;
}

std::string describe_exit(const Process& p) {
    if (p.term_signal() != 0) return "killed by signal " + std::to_string(p.term_signal());
    return "exit status " + std::to_string(p.exit_code());
}

}  // namespace

std::string tail(const std::string& text, std::size_t max) {
    if (text.size() <= max) return text;
    return "..." + text.substr(text.size() - max);
}

Daemon::Daemon(DaemonOptions opts)
    : dir_("xstored-integ"), socket_(dir_.file("socket")), stderr_file_(dir_.file("stderr.log")) {
    if (xstored_bin().empty() && opts.program.empty()) throw std::runtime_error("XSTORED_BIN is not set");
    SpawnOptions spawn;
    spawn.argv = daemon_argv(dir_, socket_, opts);
    // Keep every file the daemon might make (live-update state, ...) private.
    spawn.env = {{"XENSTORED_RUNDIR", dir_.path()}, {"XENSTORED_PATH", socket_}};
    for (const auto& [name, value] : opts.env) spawn.env.emplace_back(name, expand_dir(value, dir_));
    spawn.out = Redirect::file(dir_.file("stdout.log"));
    spawn.err = Redirect::file(stderr_file_);
    spawn.stack_limit = opts.stack_limit;
    proc_.emplace(Process::spawn(spawn));

    auto deadline = Clock::now() + scaled(std::chrono::seconds(15));
    for (;;) {
        if (!proc_->running()) {
            throw std::runtime_error("xstored exited during start-up (" + describe_exit(*proc_) +
                                     "); stderr:\n" + tail(stderr_text()));
        }
        int fd = connect_unix_fd(socket_);
        if (fd >= 0) {
            ::close(fd);
            return;
        }
        if (Clock::now() >= deadline) {
            proc_->kill_now();
            throw std::runtime_error("xstored did not accept connections on " + socket_ +
                                     "; stderr:\n" + tail(stderr_text()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

Daemon::~Daemon() { stop(); }

int Daemon::connect_fd() const { return connect_unix_fd(socket_); }

std::unique_ptr<client::Client> Daemon::connect() const {
    std::string err;
    auto ch = client::connect_unix(socket_, err);
    if (!ch) throw std::runtime_error("cannot connect to " + socket_ + ": " + err);
    auto c = std::make_unique<client::Client>(std::move(ch));
    c->timeout = scaled(std::chrono::milliseconds(10000));
    return c;
}

std::string Daemon::stderr_text() const {
    std::ifstream in(stderr_file_, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::optional<std::size_t> Daemon::rss() const { return rss_bytes(proc_->pid()); }

std::optional<std::size_t> Daemon::fds() const { return open_fds(proc_->pid()); }

std::optional<std::chrono::milliseconds> Daemon::cpu() const { return cpu_time(proc_->pid()); }

std::vector<std::string> Daemon::stderr_problems() const {
    static const char* const kMarkers[] = {"AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                                           "runtime error:", "ThreadSanitizer"};
    std::vector<std::string> out;
    std::string text = stderr_text();
    for (const char* m : kMarkers) {
        std::size_t at = text.find(m);
        if (at == std::string::npos) continue;
        std::size_t from = text.rfind('\n', at);
        from = from == std::string::npos ? 0 : from + 1;
        out.push_back("sanitizer report in xstored's stderr: " + text.substr(from, 2000));
    }
    return out;
}

std::vector<std::string> Daemon::stop(int sig) {
    if (stopped_) return stop_report_;
    stopped_ = true;
    std::vector<std::string>& out = stop_report_;
    if (!proc_->running()) {
        out.push_back("xstored died during the test (" + describe_exit(*proc_) + "); stderr:\n" +
                      tail(stderr_text()));
    } else {
        proc_->send_signal(sig);
        std::string name = sigabbrev_np(sig) ? std::string("SIG") + sigabbrev_np(sig) : std::to_string(sig);
        if (!proc_->wait_exit(scaled(std::chrono::seconds(10)))) {
            proc_->kill_now();
            out.push_back("xstored did not exit after " + name + "; stderr:\n" + tail(stderr_text()));
        } else if (proc_->exit_code() != 0) {
            out.push_back("xstored ended with " + describe_exit(*proc_) + " after " + name +
                          " (expected exit 0); stderr:\n" + tail(stderr_text()));
        }
    }
    for (auto& p : stderr_problems()) out.push_back(std::move(p));
    return out;
}

}  // namespace xs::testing
