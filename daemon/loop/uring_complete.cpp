// The io_uring backend's completion side: every completion of the turn is
// delivered to the daemon, and late ones (for closed connections, removed
// watches) only settle the loop's own bookkeeping.
#include <cerrno>

#include "daemon/loop/fd_util.hpp"
#include "daemon/loop/options.hpp"
#include "daemon/loop/uring_loop.hpp"

namespace xs::daemon::loop {

namespace {

std::optional<std::uint16_t> buffer_of(std::uint32_t flags) {
    if (!(flags & IORING_CQE_F_BUFFER)) return std::nullopt;
    return static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
}

bool is_final(std::uint32_t flags) { return !(flags & IORING_CQE_F_MORE); }

}  // namespace

void UringLoop::deliver() {
    // Only what is there now belongs to this turn; completions harvested
    // while it runs (a full submission queue forces a submit) wait for the
    // next one.
    harvest();
    std::size_t n = batch_.size();
    for (std::size_t k = 0; k < n; ++k) {
        Completion c = batch_[k];  // a copy: callbacks may harvest into batch_
        dispatch(c);
    }
    batch_.erase(batch_.begin(), batch_.begin() + static_cast<std::ptrdiff_t>(n));
}

void UringLoop::dispatch(const Completion& c) {
    Tag t = decode(c.user_data);
    switch (t.kind) {
    case Kind::listener: accept_done(t, c); break;
    case Kind::recv: recv_done(t, c); break;
    case Kind::send: send_done(t, c); break;
    case Kind::watch: poll_done(t, c); break;
    default:
        if (auto bid = buffer_of(c.flags)) buffers_.give_back(*bid);
        break;
    }
}

void UringLoop::accept_done(Tag t, const Completion& c) {
    Listener* l = listeners_.find(t.index, t.gen);
    if (!l) {
        if (c.res >= 0) close_fd(c.res);
        return;
    }
    int listener_fd = l->fd;
    if (is_final(c.flags)) {
        set_armed(l->armed, false);  // prepare() arms it again, unless quiescing
        if (c.res < 0 && !accept_error_is_transient(-c.res) && c.res != -ECANCELED)
            l->retry_at = Clock::now() + kAcceptRetryDelay;
    }
    if (c.res >= 0) serve_accepted(listener_fd, c.res);
}

void UringLoop::serve_accepted(int listener_fd, int fd) {
    ConnId id = client_->on_accept(listener_fd, fd);
    if (id == 0) {
        close_fd(fd);
        return;
    }
    if (!ids_.contains(id)) add_socket(id, fd);  // unless the daemon did it itself
}

void UringLoop::recv_done(Tag t, const Completion& c) {
    if (t.index >= conns_.size()) return;
    Conn& slot = conns_[t.index];
    if (is_final(c.flags) && c.user_data == slot.recv_tag) {
        set_armed(slot.recv_armed, false);
        slot.recv_cancelled = false;
    }
    auto bid = buffer_of(c.flags);
    Conn* conn = conns_.find(t.index, t.gen);
    if (conn && !conn->hung_up) {
        if (c.res > 0 && bid) {
            client_->on_receive(conn->id, {buffers_.data(*bid), static_cast<std::size_t>(c.res)});
        } else if (c.res == 0 || (c.res < 0 && c.res != -ENOBUFS && c.res != -ECANCELED)) {
            hang_up(t.index);  // end of stream, or the socket failed
        }
        // Whatever ended the receive (running out of buffers, a full
        // completion queue, a cancel), prepare() arms it again if wanted.
        if (is_final(c.flags) && conns_.find(t.index, t.gen)) mark_dirty(t.index);
    }
    if (bid) buffers_.give_back(*bid);
    settle(t.index);
}

void UringLoop::send_done(Tag t, const Completion& c) {
    if (t.index >= conns_.size()) return;
    Conn& slot = conns_[t.index];
    if (c.user_data == slot.send_tag) set_armed(slot.send_armed, false);
    Conn* conn = conns_.find(t.index, t.gen);
    if (conn && !conn->hung_up) {
        // Only quiesce() cancels the send of a live connection. A cancelled
        // sendmsg has copied nothing: a partial write would have completed.
        if (c.res == -ECANCELED) client_->on_sent(conn->id, 0);
        else if (c.res >= 0) client_->on_sent(conn->id, static_cast<std::size_t>(c.res));
        else hang_up(t.index);
    }
    settle(t.index);
}

void UringLoop::poll_done(Tag t, const Completion& c) {
    Watch* w = watches_.find(t.index, t.gen);
    if (!w || c.user_data != w->tag) return;
    w->armed = false;
    if (c.res == -ECANCELED) return;  // prepare() arms it again
    if (c.res < 0) w->failed = true;  // report once so the daemon's read finds out why
    client_->on_readable(w->token);
}

void UringLoop::hang_up(std::uint32_t i) {
    Conn& c = conns_[i];
    c.hung_up = true;
    c.send_queued = false;
    client_->on_hangup(c.id);
}

void UringLoop::settle(std::uint32_t i) {
    // A closed connection's slot (with the msghdr a send may still read)
    // becomes reusable once the kernel has finished with every operation.
    const Conn& c = conns_[i];
    if (conns_.state(i) == SlotTable<Conn>::State::retired && !c.recv_armed && !c.send_armed)
        conns_.release(i);
}

}  // namespace xs::daemon::loop
