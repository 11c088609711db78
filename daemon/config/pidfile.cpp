#include "daemon/config/pidfile.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace xs::daemon {
namespace {

int lock_whole_file(int fd) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;  // to the end, whatever the size
    // F_OFD_SETLK: owned by this open file, so a second open in the same
    // process conflicts too, and closing some other fd never drops it.
    return fcntl(fd, F_OFD_SETLK, &fl);
}

Result<> write_pid(int fd) {
    char buf[32];
    int n = std::snprintf(buf, sizeof buf, "%ld\n", static_cast<long>(getpid()));
    if (ftruncate(fd, 0) < 0) return fail(errno);
    ssize_t written = pwrite(fd, buf, static_cast<std::size_t>(n), 0);
    if (written < 0) return fail(errno);
    if (written != n) return fail(EIO);
    return {};
}

// The pid recorded in a pid file, or "" when unreadable.
std::string recorded_pid(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    char buf[32] = {};
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    std::string s(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

Result<PidFile> PidFile::create(std::string path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fail(errno);
    if (lock_whole_file(fd) < 0) {
        int e = (errno == EACCES || errno == EAGAIN) ? EWOULDBLOCK : errno;
        ::close(fd);
        return fail(e);
    }
    // Exact mode whatever the umask; only once we own the file.
    Result<> written = fchmod(fd, 0644) < 0 ? fail(errno) : write_pid(fd);
    if (!written) {
        ::close(fd);
        return fail(written.error());
    }
    return PidFile(std::move(path), fd, getpid());
}

PidFile::PidFile(PidFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), owner_(other.owner_) {}

PidFile& PidFile::operator=(PidFile&& other) noexcept {
    if (this != &other) {
        remove();
        path_ = std::move(other.path_);
        fd_ = std::exchange(other.fd_, -1);
        owner_ = other.owner_;
    }
    return *this;
}

PidFile::~PidFile() { remove(); }

void PidFile::remove() {
    if (fd_ < 0) return;
    if (getpid() == owner_) ::unlink(path_.c_str());  // before unlocking: no window for a stale file
    ::close(fd_);
    fd_ = -1;
}

std::string PidFile::describe_error(const std::string& path, Error e) {
    if (e.code == EWOULDBLOCK) {
        std::string pid = recorded_pid(path);
        return "pid file " + path + " is locked: another daemon" + (pid.empty() ? "" : " (pid " + pid + ")") +
               " is running";
    }
    return "cannot create pid file " + path + ": " + std::strerror(e.code);
}

Result<> detach_stdio() {
    // No O_CLOEXEC: when fd 0 was closed this very fd becomes stdin.
    int fd = ::open("/dev/null", O_RDWR);
    if (fd < 0) return fail(errno);
    for (int target : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
        if (dup2(fd, target) < 0) {
            int e = errno;
            ::close(fd);
            return fail(e);
        }
    }
    if (fd > STDERR_FILENO) ::close(fd);
    return {};
}

Result<> daemonize() {
    std::fflush(nullptr);  // or the children would write the parent's buffered output again
    pid_t pid = fork();
    if (pid < 0) return fail(errno);
    if (pid > 0) _exit(0);
    if (setsid() < 0) return fail(errno);
    // The second fork leaves a process that is not a session leader, so it
    // can never acquire a controlling terminal again.
    pid = fork();
    if (pid < 0) return fail(errno);
    if (pid > 0) _exit(0);
    if (chdir("/") < 0) return fail(errno);
    return detach_stdio();
}

}  // namespace xs::daemon
