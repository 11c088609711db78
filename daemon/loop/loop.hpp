// The daemon's event loop: one thread, two interchangeable backends
// (io_uring, and epoll as the fallback). The loop owns no protocol state: it
// moves bytes between sockets and the daemon, reports readable fds (event
// channels, signals) and wakes the daemon at its next deadline.
//
// One loop turn: wait for completions/readiness, deliver every one of them to
// the LoopClient, call LoopClient::on_turn_end() (where the daemon serves
// rings and queues output), then submit every send queued during the turn
// together (io_uring: one io_uring_submit for the whole batch).
//
// A loop is created, called and run on one thread (io_uring rings are
// single-issuer), after any fork. docs/event-loop.md has the details.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace xs::daemon {

using ConnId = std::uint64_t;  // chosen by the daemon, never 0
using Clock = std::chrono::steady_clock;

class LoopClient {
public:
    virtual ~LoopClient() = default;

    // A listener accepted `fd` (non-blocking and close-on-exec; clearing
    // close-on-exec for live update is the daemon's business). Return the id
    // to serve it under, or 0 to refuse: the loop then closes the fd. The
    // loop serves it as add_socket(id, fd) would, unless the daemon already
    // called add_socket(id, fd) from here.
    virtual ConnId on_accept(int listener_fd, int fd) = 0;
    // Bytes arrived on a socket. The span is only valid during the call.
    virtual void on_receive(ConnId id, std::span<const char> bytes) = 0;
    // The peer closed or the socket failed. No further callbacks are made
    // for `id` (not even on_sent for a send in flight); the daemon must call
    // EventLoop::close_socket(id), possibly later in the same turn.
    virtual void on_hangup(ConnId id) = 0;
    // `n` bytes from the head of the last send(id, ...) were written. If
    // fewer than requested, the daemon sends the rest with a new send().
    virtual void on_sent(ConnId id, std::size_t n) = 0;
    // An fd registered with watch_readable() is readable (level-triggered:
    // reported again on a later turn while it stays readable).
    virtual void on_readable(int token) = 0;
    // End of a turn, after every completion of the turn was delivered.
    virtual void on_turn_end() = 0;
};

class EventLoop {
public:
    virtual ~EventLoop() = default;

    virtual const char* name() const = 0;  // "io_uring" or "epoll"
    // The time the daemon goes by (watch-event expiry, write-rate credit,
    // transaction age, live-update timeouts): the steady clock; a test loop
    // may keep its own, so that time passes only when its script says.
    virtual Clock::time_point now() const { return Clock::now(); }

    // Accept connections on a listening socket (multishot accept on io_uring).
    virtual void add_listener(int fd) = 0;
    // Serve a connected socket under `id` (multishot receive on io_uring).
    // The loop owns the fd from here on and closes it in close_socket().
    virtual void add_socket(ConnId id, int fd) = 0;
    // Flow control: stop or resume receiving on `id`. After disabling, a
    // bounded amount of data already in flight may still be delivered (epoll:
    // none; io_uring: what the kernel had received into the shared receive
    // buffers before the cancel reached it, at most recv_buffers *
    // recv_buffer_size bytes on Linux 6.1+, a small multiple of that on older
    // kernels; see docs/event-loop.md). Resuming loses and reorders nothing.
    // While reading is off, a hangup shows only through a failing send.
    virtual void set_reading(ConnId id, bool enabled) = 0;
    // Queue a send of `iov` (at most one send in flight per connection). The
    // buffers must stay valid and unchanged until on_sent() reports them.
    // Sends are submitted together at the end of the turn. The iovec array
    // itself is copied; at most IOV_MAX entries are taken per send. A send
    // on a connection that hung up is dropped without a callback.
    virtual void send(ConnId id, std::span<const iovec> iov) = 0;
    // Start the sends queued so far now instead of at the end of the turn
    // (io_uring: one io_uring_submit). The daemon calls it between
    // answering sockets and serving guest rings, so that dom0's replies do
    // not wait for the guests' work of the same turn. Results come as usual,
    // in a later turn; while quiescing it starts nothing.
    virtual void submit_sends() = 0;
    // Stop all I/O on `id` and close its fd. Safe to call from any callback,
    // including for a connection with a send in flight (the send is
    // cancelled; no on_sent follows).
    virtual void close_socket(ConnId id) = 0;
    // Forget `id` without closing its fd (live update keeps client fds);
    // -1 for an unknown id. Once this returns the loop no longer reads from
    // or writes to the fd. Bytes received but not yet delivered, and how much
    // of a send in flight reached the peer, are lost: release a quiet socket
    // (any socket once quiet() is true; otherwise one with no send in
    // flight and reading off since an earlier turn).
    virtual int release_socket(ConnId id) = 0;

    // ---- live update ----
    // Before exec'ing a new daemon binary that inherits the listeners and
    // client sockets, stop taking work from the kernel, so that every byte
    // is either delivered to the daemon or still in the kernel's socket
    // buffers, and every pending connection in a listener's backlog:
    // - listeners stop accepting. Connections the kernel accepted before it
    //   saw the cancel still come through on_accept (serve them with
    //   add_socket as usual: that is remembered, see below);
    // - sockets stop receiving. Bytes the kernel received before the cancel
    //   still come through on_receive;
    // - a send in flight is cancelled. Its on_sent reports exactly what
    //   reached the peer, possibly 0 bytes; the rest is the daemon's to keep
    //   (a send() of it is remembered). A cancel never causes on_hangup; a
    //   failure the kernel saw first (the peer gone) still does.
    // These callbacks arrive in later turns, as usual. quiesce() may be
    // called from any callback or between run() calls; calling it again
    // changes nothing.
    // While quiescing, send(), set_reading(), add_socket() and
    // add_listener() are remembered but start nothing until resume(); a
    // remembered send is not in flight. close_socket() and release_socket()
    // work as usual. Watched fds and the deadline are not affected.
    virtual void quiesce() = 0;
    // True while quiescing once no accept, receive or send can complete any
    // more and every callback for one has been delivered: the process may
    // exec at once, without another call on the loop. False before
    // quiesce() and after resume(). Cheap enough to ask at every turn end.
    // epoll is quiet as soon as quiesce() returns unless a send waited for
    // room (its on_sent comes in the next turn); io_uring once the cancels'
    // completions have been delivered, in the next turn or the one after.
    virtual bool quiet() const = 0;
    // Undo quiesce() (the exec failed and the daemon keeps serving):
    // listeners accept again, sockets receive again as set_reading() says,
    // remembered sends go out at the end of the turn. A later quiesce()
    // works again.
    virtual void resume() = 0;
    // After the exec, the new process makes a fresh loop and hands it the
    // inherited fds with add_listener() and add_socket(): bytes already
    // waiting in a socket are read and a backlog is accepted, as for new
    // fds. The fds need not be non-blocking: the loop never blocks on a
    // socket (epoll's add_listener sets O_NONBLOCK on the listener, as
    // accept4 has no flag for a single call).

    // Report readability of `fd` through on_readable(token). Watching an fd
    // again replaces the earlier watch (and its token).
    virtual void watch_readable(int fd, int token) = 0;
    virtual void unwatch(int fd) = 0;

    // Wake up no later than `when` (nullopt: no deadline). A turn runs then
    // even with nothing to deliver. One-shot: the first turn that starts at
    // or after `when` forgets it.
    virtual void set_deadline(std::optional<Clock::time_point> when) = 0;

    // Run turns until stop() is called from a callback. run() returns once
    // that turn has ended (on_turn_end included) and its sends were
    // submitted; calling run() again continues. A wait interrupted by a
    // signal is resumed, not reported: deliver signals through a signalfd or
    // self-pipe registered with watch_readable().
    virtual void run(LoopClient& client) = 0;
    virtual void stop() = 0;
};

struct LoopOptions {
    unsigned queue_depth = 256;        // io_uring submission queue entries
    unsigned recv_buffers = 64;        // provided receive buffers (io_uring)
    unsigned recv_buffer_size = 8192;  // bytes each
};

// The io_uring backend, or nullptr with `why` set when the kernel or the
// process (e.g. seccomp, io_uring_disabled sysctl) does not allow it, when
// the kernel lacks a feature the loop uses (multishot receive: Linux 6.0),
// or when `opts` is out of range.
std::unique_ptr<EventLoop> make_uring_loop(const LoopOptions& opts, std::string& why);
// The epoll backend; nullptr only if epoll_create1 fails.
std::unique_ptr<EventLoop> make_epoll_loop(const LoopOptions& opts);

}  // namespace xs::daemon
