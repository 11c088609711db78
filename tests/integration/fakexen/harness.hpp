// Process helpers for the fake-Xen integration tests: a fake host in a
// temporary directory, programs started in the background (stopped by pid
// when the test ends) and programs run to completion with their output.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace fakexen_it {

using Env = std::vector<std::pair<std::string, std::string>>;
using Argv = std::vector<std::string>;

// Bound on every wait (failure detection, not a speed target).
inline constexpr std::chrono::milliseconds kPatience{10000};

inline std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

// The programs under test; meson passes their paths.
inline std::string cli() { return env_or("XSTORE_FAKEXEN_CLI", "xstore-fakexen"); }
inline std::string cxenstored() { return env_or("XSTORED_REFERENCE_C", "/usr/lib/xen-4.17/bin/xenstored"); }
inline std::string oxenstored() { return env_or("XSTORED_REFERENCE_OCAML", "/usr/lib/xen-4.17/bin/oxenstored"); }

inline bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

struct TempDir {
    std::string path;
    TempDir() {
        std::string t = (std::filesystem::temp_directory_path() / "fakexen-it-XXXXXX").string();
        path = ::mkdtemp(t.data()) ? t : std::string();
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

// fork + exec with extra environment; stdout and stderr go to `out_fd`.
inline pid_t spawn(const Argv& argv, const Env& env, int out_fd) {
    pid_t pid = ::fork();
    if (pid != 0) return pid;
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    if (out_fd >= 0) {
        ::dup2(out_fd, 1);
        ::dup2(out_fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
}

// Wait for `pid` up to `patience`; its exit status, or -1 if it had to be killed.
inline int wait_exit(pid_t pid, std::chrono::milliseconds patience = kPatience) {
    auto deadline = std::chrono::steady_clock::now() + patience;
    int st = 0;
    while (::waitpid(pid, &st, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &st, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct Output {
    int status;
    std::string text;  // stdout and stderr together
};

// Run a program to completion.
inline Output run(const Argv& argv, const Env& env = {}) {
    std::string name = (std::filesystem::temp_directory_path() / "fakexen-it-out-XXXXXX").string();
    int fd = ::mkstemp(name.data());
    pid_t pid = spawn(argv, env, fd);
    int status = wait_exit(pid);
    std::string text;
    char buf[4096];
    ::lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    ::unlink(name.c_str());
    return {status, text};
}

// A program running in the background, stopped (SIGTERM) when this goes.
class Background {
public:
    Background(const Argv& argv, const Env& env, const std::string& log) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        pid_ = spawn(argv, env, fd);
        ::close(fd);
    }
    ~Background() { stop(); }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    bool running() {
        if (pid_ <= 0) return false;
        int st;
        if (::waitpid(pid_, &st, WNOHANG) == 0) return true;
        pid_ = -1;
        return false;
    }
    void stop() {
        if (!running()) return;
        ::kill(pid_, SIGTERM);
        if (wait_exit(pid_) < 0) pid_ = -1;
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
};

inline bool connectable(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// Wait until a unix socket accepts connections, or `bg` died, or patience ran out.
inline bool wait_socket(const std::string& path, Background& bg) {
    auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < deadline) {
        if (connectable(path)) return true;
        if (!bg.running()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

template <class Pred>
bool eventually(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
}

inline std::string read_file(const std::string& path) {
    std::string text;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return text;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return text;
}

}  // namespace fakexen_it
