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
    // Stop all I/O on `id` and close its fd. Safe to call from any callback,
    // including for a connection with a send in flight (the send is
    // cancelled; no on_sent follows).
    virtual void close_socket(ConnId id) = 0;
    // Forget `id` without closing its fd (live update keeps client fds);
    // -1 for an unknown id. Once this returns the loop no longer reads from
    // or writes to the fd. Bytes received but not yet delivered, and how much
    // of a send in flight reached the peer, are lost: release a quiet socket
    // (no send in flight, reading off since an earlier turn).
    virtual int release_socket(ConnId id) = 0;

    // ---- live update ----
    // Stop taking work from the kernel, so that every byte is either
    // delivered to the daemon or still in the kernel's socket buffers:
    // listeners stop accepting (connections wait in the backlog), sockets
    // stop receiving, and a send in flight is cancelled (its on_sent
    // reports what reached the peer, possibly 0 bytes; never on_hangup for
    // the cancel itself). Callbacks for what the kernel completed before it
    // saw the cancel still arrive in later turns; quiet() is true once none
    // can come any more. While quiescing, send(), set_reading() and
    // add_socket() are remembered but start nothing until resume().
    virtual void quiesce() = 0;
    virtual bool quiet() const = 0;
    // Undo quiesce(): accept, receive (as set_reading says) and send again.
    virtual void resume() = 0;

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
