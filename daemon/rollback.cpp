#include "daemon/rollback.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "daemon/config/handoff_env.hpp"
#include "daemon/config/log.hpp"

namespace xs::daemon::rollback {

namespace {

// "<fd>\x1f<arg0>\x1f<arg1>...": the unit separator cannot be in a command
// line an operator types.
constexpr const char* kPrevious = handoff::kPrevious;
constexpr const char* kReason = handoff::kRollback;
constexpr char kSep = '\x1f';

int g_armed_fd = -1;

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (;;) {
        std::size_t end = s.find(kSep, pos);
        out.push_back(s.substr(pos, end - pos));
        if (end == std::string::npos) return out;
        pos = end + 1;
    }
}

}  // namespace

bool arm(const std::vector<std::string>& argv) {
    std::string value;
    for (const std::string& a : argv) {
        if (a.find(kSep) != std::string::npos) return false;
        value += kSep + a;
    }
    // No close-on-exec: the new process inherits it. An fd, not a path: the
    // binary may have been replaced on disk by then.
    int fd = ::open("/proc/self/exe", O_RDONLY);
    if (fd < 0) return false;
    if (::setenv(kPrevious, (std::to_string(fd) + value).c_str(), 1) != 0) {
        ::close(fd);
        return false;
    }
    g_armed_fd = fd;
    return true;
}

void disarm() {
    ::unsetenv(kPrevious);
    if (g_armed_fd >= 0) ::close(g_armed_fd);
    g_armed_fd = -1;
}

void forget() {
    ::unsetenv(kReason);  // a later update is a new one
    const char* v = std::getenv(kPrevious);
    if (!v) return;
    int fd = std::atoi(v);
    ::unsetenv(kPrevious);
    if (fd > 2) ::close(fd);
}

void fall_back(const std::string& reason) {
    const char* v = std::getenv(kPrevious);
    if (!v) return;
    std::vector<std::string> parts = split(v);
    int fd = std::atoi(parts[0].c_str());
    std::vector<std::string> args(parts.begin() + 1, parts.end());
    bool has_u = false;
    for (const std::string& a : args) has_u |= a == "-U" || a == "--live-update";
    if (!has_u) args.push_back("-U");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::unsetenv(kPrevious);  // no way back from the way back
    ::setenv(kReason, reason.c_str(), 1);
    log::error("live update: rolling back to the previous binary: %s", reason.c_str());
    ::syscall(SYS_execveat, fd, "", argv.data(), environ, AT_EMPTY_PATH);
    log::error("live update: cannot run the previous binary again: %s", std::strerror(errno));
    ::unsetenv(kReason);
}

std::optional<std::string> reason() {
    const char* v = std::getenv(kReason);
    if (!v) return std::nullopt;
    return std::string(v);
}

}  // namespace xs::daemon::rollback
