#include "daemon/loop/fd_util.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace xs::daemon::loop {

void close_fd(int fd) {
    if (fd >= 0) ::close(fd);
}

bool accept_error_needs_backoff(int err) {
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

bool accept_error_is_transient(int err) {
    // Linux passes pending network errors of the new socket through accept;
    // they concern that connection only.
    switch (err) {
    case EINTR: case ECONNABORTED: case EPROTO: case EPERM:
    case ENETDOWN: case ENOPROTOOPT: case EHOSTDOWN: case ENONET:
    case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
        return true;
    default:
        return false;
    }
}

void die(const char* what, int err) {
    std::fprintf(stderr, "xstored event loop: %s: %s\n", what, std::strerror(err));
    std::abort();
}

}  // namespace xs::daemon::loop
