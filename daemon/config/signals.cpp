#include "daemon/config/signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace xs::daemon {

SignalAction action_for(int signo) {
    switch (signo) {
    case SIGTERM:
    case SIGINT: return SignalAction::Exit;
    case SIGHUP: return SignalAction::Reopen;
    default: return SignalAction::None;
    }
}

namespace {

sigset_t handled() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
    return set;
}

}  // namespace

Result<int> open_signal_fd() {
    if (std::signal(SIGPIPE, SIG_IGN) == SIG_ERR) return fail(errno);
    // A live update may have left SIGHUP ignored (release_signals_for_exec).
    std::signal(SIGHUP, SIG_DFL);
    sigset_t set = handled();
    if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0) return fail(errno);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) return fail(errno);
    return fd;
}

bool stop_pending() {
    sigset_t pending;
    if (sigpending(&pending) < 0) return false;
    return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

void release_signals_for_exec() {
    std::signal(SIGHUP, SIG_IGN);
    sigset_t set = handled();
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

void reclaim_signals() {
    sigset_t set = handled();
    sigprocmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGHUP, SIG_DFL);
}

SignalAction read_signal(int fd) {
    signalfd_siginfo info;
    ssize_t n;
    do {
        n = ::read(fd, &info, sizeof info);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof info)) return SignalAction::None;
    return action_for(static_cast<int>(info.ssi_signo));
}

}  // namespace xs::daemon
