// A fresh fake host in a temporary directory, removed afterwards.
#pragma once

#include <poll.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "tools/fakexen/domains.hpp"

namespace fakexen_test {

struct TempHost {
    std::string root;
    std::string dir;  // the host directory
    std::shared_ptr<xs::fakexen::Host> host;

    TempHost() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "fakexen-test-XXXXXX").string();
        root = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
        dir = root + "/host";
        host = xs::fakexen::init_host(dir).value();
    }
    ~TempHost() {
        host.reset();
        std::error_code ec;
        std::filesystem::remove_all(root, ec);
    }
    xs::fakexen::Host& h() { return *host; }
};

// Whether `fd` polls readable within `ms` milliseconds.
inline bool readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

// Run `child` in a forked process; its return value is the exit status.
template <class F>
pid_t spawn(F child) {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(child());
    return pid;
}

inline int exit_status(pid_t pid) {
    int st = 0;
    if (::waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// Failure-detection bound for waits in these tests (not a speed target).
inline constexpr int kPatienceMs = 5000;

}  // namespace fakexen_test
