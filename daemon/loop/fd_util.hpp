// Small fd and error helpers shared by the backends.
#pragma once

namespace xs::daemon::loop {

// close(2) without retrying: on Linux the fd is gone even when close fails
// with EINTR, and a retry could close an fd another part of the daemon just
// opened.
void close_fd(int fd);

// Whether a failed accept leaves the pending connection queued for lack of
// resources, so an immediate retry would fail again (and spin).
bool accept_error_needs_backoff(int err);

// Whether a failed accept only concerns the one connection it tried to take
// (aborted by the peer, interrupted): accepting can continue at once.
bool accept_error_is_transient(int err);

// For failures that leave the loop unable to work at all (the kernel
// rejecting the loop's own ring or epoll fd): report and abort rather than
// spin or silently stop serving every client.
[[noreturn]] void die(const char* what, int err);

}  // namespace xs::daemon::loop
