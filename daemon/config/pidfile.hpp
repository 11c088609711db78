// The pid file, held locked for the whole life of the daemon so a second
// daemon with the same pid file refuses to start; and the classic detach from
// the terminal.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.hpp"

namespace xs::daemon {

class PidFile {
public:
    // Creates (mode 0644) or opens `path`, takes an exclusive lock, and
    // writes "<pid>\n" over any old content. The lock lives as long as this
    // object (an open-file-description lock: it also conflicts with another
    // daemon's lockf/fcntl lock on the file). EWOULDBLOCK: another process
    // holds the lock. Create it after daemonize(): the pid must be the final one.
    static Result<PidFile> create(std::string path);

    PidFile(PidFile&& other) noexcept;
    PidFile& operator=(PidFile&& other) noexcept;
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;
    // Removes the file, but only in the process that created it (a forked
    // child going away must not delete its parent's pid file).
    ~PidFile();

    // Clean exit: unlink the file, then drop the lock. Idempotent.
    void remove();

    const std::string& path() const { return path_; }

    // A message for a failed create(): names the running daemon's pid when
    // the file is locked.
    static std::string describe_error(const std::string& path, Error e);

private:
    PidFile(std::string path, int fd, pid_t owner) : path_(std::move(path)), fd_(fd), owner_(owner) {}

    std::string path_;
    int fd_ = -1;
    pid_t owner_ = 0;
};

// Double fork (the caller's process exits 0, the grandchild returns), setsid,
// chdir "/", then stdin/stdout/stderr to /dev/null.
Result<> daemonize();
// stdin, stdout and stderr to /dev/null (also usable on its own).
Result<> detach_stdio();

}  // namespace xs::daemon
