// The epoll backend's delivery: results left by the previous turn's writes,
// then every ready fd.
#include <sys/socket.h>

#include <cerrno>

#include "daemon/loop/epoll_loop.hpp"
#include "daemon/loop/fd_util.hpp"
#include "daemon/loop/options.hpp"

namespace xs::daemon::loop {

void EpollLoop::deliver_pending() {
    // Callbacks may leave new results (a refused watch) for the next turn.
    delivering_.swap(pending_);
    for (const Pending& p : delivering_) {
        if (p.what == Pending::What::readable) {
            if (Watch* w = watches_.find(p.target.index, p.target.gen))
                client_->on_readable(w->token);
            continue;
        }
        --io_results_;  // delivered, or moot for a closed connection
        Conn* c = conns_.find(p.target.index, p.target.gen);
        if (!c || c->hung_up) continue;
        if (p.what == Pending::What::sent) client_->on_sent(c->id, p.n);
        else hang_up(p.target.index);
    }
    delivering_.clear();
}

void EpollLoop::deliver_events() {
    for (int k = 0; k < ready_; ++k) {
        Tag t = decode(events_[k].data.u64);
        switch (t.kind) {
        case Kind::listener: listener_ready(t); break;
        case Kind::recv: conn_ready(t, events_[k].events); break;
        case Kind::watch:
            if (Watch* w = watches_.find(t.index, t.gen)) client_->on_readable(w->token);
            break;
        default: break;
        }
    }
    ready_ = 0;
}

void EpollLoop::listener_ready(Tag t) {
    Listener* l = listeners_.find(t.index, t.gen);
    if (!l) return;
    int listener_fd = l->fd;
    for (int k = 0; k < kMaxAcceptsPerWakeup && !quiescing_; ++k) {
        int fd = ::accept4(listener_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            serve_accepted(listener_fd, fd);
            continue;
        }
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) return;
        if (accept_error_is_transient(err)) continue;
        // Out of fds or memory: stop listening for a while instead of
        // waking every turn for a connection that cannot be taken.
        if ((l = listeners_.find(t.index, t.gen))) {
            ::epoll_ctl(epfd_, EPOLL_CTL_DEL, listener_fd, nullptr);
            l->registered = false;
            l->retry_at = Clock::now() + kAcceptRetryDelay;
        }
        return;
    }
}

void EpollLoop::serve_accepted(int listener_fd, int fd) {
    ConnId id = client_->on_accept(listener_fd, fd);
    if (id == 0) {
        close_fd(fd);
        return;
    }
    if (!ids_.contains(id)) add_socket(id, fd);  // unless the daemon did it itself
}

void EpollLoop::conn_ready(Tag t, std::uint32_t events) {
    Conn* c = conns_.find(t.index, t.gen);
    if (!c || c->hung_up) return;
    if (c->send_waiting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        write_more(t);
        c = conns_.find(t.index, t.gen);
        if (!c || c->hung_up) return;
    }
    if (c->reading && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) read_ready(t);
}

void EpollLoop::read_ready(Tag t) {
    for (int k = 0; k < kMaxReadsPerWakeup; ++k) {
        Conn* c = conns_.find(t.index, t.gen);
        // The daemon may change its mind, or start quiescing, in a callback.
        if (!c || c->hung_up || !c->reading || quiescing_) return;
        ssize_t n = ::recv(c->fd, recv_buf_.data(), recv_buf_.size(), MSG_DONTWAIT);
        if (n > 0) {
            client_->on_receive(c->id, {recv_buf_.data(), static_cast<std::size_t>(n)});
            if (static_cast<std::size_t>(n) < recv_buf_.size()) return;  // drained
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        hang_up(t.index);  // end of stream, or the socket failed
        return;
    }
}

void EpollLoop::write_more(Tag t) {
    Conn& c = conns_[t.index];
    ssize_t n;
    do {
        n = ::sendmsg(c.fd, c.out.message(), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // still full
    c.send_waiting = false;
    mark_dirty(t.index);  // no more EPOLLOUT
    if (n < 0) {
        hang_up(t.index);
        return;
    }
    c.out.advance(static_cast<std::size_t>(n));
    client_->on_sent(c.id, c.out.written());
}

void EpollLoop::hang_up(std::uint32_t i) {
    Conn& c = conns_[i];
    c.hung_up = true;
    c.send_queued = false;
    c.send_waiting = false;
    mark_dirty(i);  // unregistered at the end of the turn
    client_->on_hangup(c.id);
}

}  // namespace xs::daemon::loop
