// The io_uring backend's submission side: what the end of a turn prepares,
// and the one io_uring_enter per turn that submits it and waits.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "daemon/loop/fd_util.hpp"
#include "daemon/loop/uring_loop.hpp"
#include "daemon/loop/uring_setup.hpp"

namespace xs::daemon::loop {

namespace {

bool wait_result_ok(int r) {
    // ETIME: the deadline; EINTR: a signal; EBUSY/EAGAIN: the kernel wants
    // completions drained or memory back first, which the next turn does.
    return r >= 0 || r == -ETIME || r == -EINTR || r == -EBUSY || r == -EAGAIN;
}

}  // namespace

io_uring_sqe* UringLoop::next_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (!sqe) {
        // The submission queue is full: hand it to the kernel early. If the
        // kernel refuses until completions are reaped, reap them into the
        // batch for the next delivery.
        int r = io_uring_submit(&ring_);
        if (r == -EBUSY || r == -EAGAIN) {
            harvest();
            io_uring_get_events(&ring_);
            harvest();
        } else if (r < 0 && r != -EINTR) {
            die("io_uring_submit", -r);
        }
        sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
}

void UringLoop::cancel(std::uint64_t tag) {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_cancel64(sqe, tag, 0);
    sqe->flags |= cancel_flags_;
    io_uring_sqe_set_data64(sqe, encode(Tag{Kind::cancel}));
}

void UringLoop::cancel_now(const Conn& c) {
    // release_socket hands the fd back: nothing of ours may touch it after
    // this returns, so wait for the cancellation to take effect.
    io_uring_sync_cancel_reg reg{};
    reg.fd = c.fd;
    reg.flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
    reg.timeout = {.tv_sec = -1, .tv_nsec = -1};
    int r = io_uring_register_sync_cancel(&ring_, &reg);
    if (r >= 0 || r == -ENOENT) return;
    // No synchronous cancel in this kernel: an asynchronous one submitted at
    // once is processed before io_uring_submit returns for socket requests.
    if (c.recv_armed && !c.recv_cancelled) cancel(c.recv_tag);
    if (c.send_armed) cancel(c.send_tag);
    submit_prepared();
}

void UringLoop::arm_recv(std::uint32_t i) {
    Conn& c = conns_[i];
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffers_.group();
    c.recv_tag = encode(Tag{Kind::recv, conns_.gen(i), i});
    io_uring_sqe_set_data64(sqe, c.recv_tag);
    set_armed(c.recv_armed, true);
    c.recv_cancelled = false;
}

void UringLoop::arm_send(std::uint32_t i) {
    Conn& c = conns_[i];
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_sendmsg(sqe, c.fd, c.out.message(), MSG_NOSIGNAL);
    c.send_tag = encode(Tag{Kind::send, conns_.gen(i), i});
    io_uring_sqe_set_data64(sqe, c.send_tag);
    c.send_queued = false;
    set_armed(c.send_armed, true);
    c.send_cancelled = false;
}

void UringLoop::arm_accept(std::uint32_t i) {
    Listener& l = listeners_[i];
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_multishot_accept(sqe, l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, encode(Tag{Kind::listener, listeners_.gen(i), i}));
    set_armed(l.armed, true);
    l.cancelled = false;
    l.retry_at.reset();
}

void UringLoop::arm_poll(std::uint32_t i) {
    // One-shot on purpose: arming polls the fd at once, so re-arming after
    // each report gives the level-triggered behaviour the interface asks
    // for; a multishot poll only reports new wake-ups.
    Watch& w = watches_[i];
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_poll_add(sqe, w.fd, POLLIN);
    w.tag = encode(Tag{Kind::watch, watches_.gen(i), i});
    io_uring_sqe_set_data64(sqe, w.tag);
    w.armed = true;
}

void UringLoop::set_armed(bool& flag, bool armed) {
    if (flag == armed) return;
    flag = armed;
    if (armed) ++armed_;
    else --armed_;
}

void UringLoop::reconcile(std::uint32_t i) {
    Conn& c = conns_[i];
    c.dirty = false;
    if (conns_.state(i) != SlotTable<Conn>::State::live) return;
    if (quiescing_) {
        stand_down(i);  // a queued send and a wanted receive wait for resume()
        return;
    }
    if (c.send_queued) arm_send(i);
    if (c.hung_up) return;
    if (c.reading && !c.recv_armed) {
        arm_recv(i);
    } else if (!c.reading && c.recv_armed && !c.recv_cancelled) {
        cancel(c.recv_tag);
        c.recv_cancelled = true;
    }
}

void UringLoop::stand_down(std::uint32_t i) {
    // Live update: the final completions of both cancels tell what reached
    // the daemon and the peer; the rest stays in the socket buffers.
    Conn& c = conns_[i];
    if (c.recv_armed && !c.recv_cancelled) {
        cancel(c.recv_tag);
        c.recv_cancelled = true;
    }
    if (c.send_armed && !c.send_cancelled) {
        cancel(c.send_tag);
        c.send_cancelled = true;
    }
}

void UringLoop::prepare_listener(std::uint32_t i) {
    Listener& l = listeners_[i];
    if (listeners_.state(i) != SlotTable<Listener>::State::live) return;
    if (quiescing_) {
        // Connections accepted before the cancel still come with
        // completions; the others stay in the backlog.
        if (l.armed && !l.cancelled) {
            cancel(encode(Tag{Kind::listener, listeners_.gen(i), i}));
            l.cancelled = true;
        }
        return;
    }
    if (l.armed) return;
    if (l.retry_at && *l.retry_at > Clock::now()) return;  // backing off
    arm_accept(i);
}

void UringLoop::prepare() {
    for (std::size_t k = 0; k < dirty_.size(); ++k) reconcile(dirty_[k]);
    dirty_.clear();
    for (std::uint32_t i = 0; i < listeners_.size(); ++i) prepare_listener(i);
    for (std::uint32_t i = 0; i < watches_.size(); ++i) {
        Watch& w = watches_[i];
        if (watches_.state(i) == SlotTable<Watch>::State::live && !w.armed && !w.failed)
            arm_poll(i);
    }
}

std::optional<TimePoint> UringLoop::next_accept_retry() const {
    std::optional<TimePoint> when;
    if (quiescing_) return when;  // no accept is armed until resume()
    for (std::uint32_t i = 0; i < listeners_.size(); ++i)
        when = earliest(when, listeners_[i].retry_at);
    return when;
}

void UringLoop::submit_sends() {
    prepare();  // arms the sends of connections made dirty by send()
    if (io_uring_sq_ready(&ring_) > 0) submit_prepared();
}

void UringLoop::submit_prepared() {
    int r = io_uring_submit(&ring_);
    if (!wait_result_ok(r)) die("io_uring_submit", -r);
}

void UringLoop::wait() {
    if (!batch_.empty() || io_uring_cq_ready(&ring_) > 0) {
        // Completions are waiting already: submit without blocking, and let
        // the kernel run work it deferred to this thread.
        int r = 0;
        if (task_work_pending(ring_)) r = io_uring_submit_and_get_events(&ring_);
        else if (io_uring_sq_ready(&ring_) > 0) r = io_uring_submit(&ring_);
        if (!wait_result_ok(r)) die("io_uring_submit", -r);
        return;
    }
    // An interrupted wait is resumed, not turned into an empty turn: signals
    // reach the daemon through a signalfd or self-pipe it watches.
    int r;
    do {
        std::optional<TimePoint> when = earliest(deadline_.get(), next_accept_retry());
        __kernel_timespec ts{};
        if (when) ts = to_timespec(time_left(*when, Clock::now()));
        io_uring_cqe* cqe = nullptr;
        r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, when ? &ts : nullptr, nullptr);
    } while (r == -EINTR && io_uring_cq_ready(&ring_) == 0);
    if (!wait_result_ok(r)) die("io_uring_submit_and_wait_timeout", -r);
}

void UringLoop::catch_up() {
    // With deferred task running, one io_uring_enter posts only a few dozen
    // completions (20 on Linux 6.x) and leaves the rest for later waits:
    // with thousands of cancels, quiet() would take as many turns. Ask
    // again while that brings completions (at most once per armed
    // operation, should a socket keep producing).
    if (!quiescing_) return;
    for (std::size_t k = 0; k < armed_; ++k) {
        harvest();  // into this turn's batch; an empty queue cannot overflow
        int r = io_uring_get_events(&ring_);
        if (!wait_result_ok(r)) die("io_uring_get_events", -r);
        if (io_uring_cq_ready(&ring_) == 0) return;
    }
}

void UringLoop::harvest() {
    io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
        batch_.push_back(Completion{cqe->user_data, cqe->res, cqe->flags});
        ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
}

}  // namespace xs::daemon::loop
