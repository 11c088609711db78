// The epoll backend's end of turn: write the sends queued during the turn,
// bring every changed registration up to date, then wait.
#include <sys/socket.h>

#include <cerrno>

#include "daemon/loop/epoll_loop.hpp"
#include "daemon/loop/fd_util.hpp"

namespace xs::daemon::loop {

bool EpollLoop::ctl(int op, int fd, std::uint32_t events, Tag tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = encode(tag);
    return ::epoll_ctl(epfd_, op, fd, &ev) == 0;
}

void EpollLoop::post(Pending p) {
    if (p.what != Pending::What::readable) ++io_results_;
    pending_.push_back(p);
}

void EpollLoop::prepare() {
    for (std::size_t k = 0; k < dirty_.size(); ++k) reconcile(dirty_[k]);
    dirty_.clear();
    for (std::uint32_t i = 0; i < listeners_.size(); ++i) update_listener(i);
}

void EpollLoop::reconcile(std::uint32_t i) {
    Conn& c = conns_[i];
    c.dirty = false;
    if (conns_.state(i) != SlotTable<Conn>::State::live) return;
    if (c.send_queued && !quiescing_) write_queued(i);  // else kept for resume()
    update_interest(i);
}

void EpollLoop::write_queued(std::uint32_t i) {
    Conn& c = conns_[i];
    c.send_queued = false;
    for (;;) {
        if (c.out.empty()) {
            post(Pending{Pending::What::sent, conn_tag(i), c.out.written()});
            return;
        }
        ssize_t n = ::sendmsg(c.fd, c.out.message(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out.advance(static_cast<std::size_t>(n));
            if (!c.out.empty()) break;  // partial: the rest waits for EPOLLOUT
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            post(Pending{Pending::What::hangup, conn_tag(i)});
            return;
        }
        break;
    }
    c.send_waiting = true;
}

void EpollLoop::update_interest(std::uint32_t i) {
    Conn& c = conns_[i];
    // Not reading means not registered for input at all: level-triggered
    // EPOLLIN (or EPOLLHUP) would otherwise wake every turn. Quiescing
    // likewise: nothing is read or written until resume().
    std::uint32_t want = 0;
    if (!c.hung_up && !quiescing_)
        want = (c.reading ? EPOLLIN : 0u) | (c.send_waiting ? EPOLLOUT : 0u);
    if (want == c.registered) return;
    int op = c.registered == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (!ctl(op, c.fd, want, conn_tag(i))) {
        if (op != EPOLL_CTL_DEL) post(Pending{Pending::What::hangup, conn_tag(i)});
        want = 0;
    }
    c.registered = want;
}

void EpollLoop::update_listener(std::uint32_t i) {
    Listener& l = listeners_[i];
    if (listeners_.state(i) != SlotTable<Listener>::State::live) return;
    if (quiescing_) {
        // Pending connections wait in the backlog; a registration would
        // only wake every turn.
        if (l.registered) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, l.fd, nullptr);
        l.registered = false;
        return;
    }
    if (l.registered) return;
    if (l.retry_at && *l.retry_at > Clock::now()) return;  // backing off
    l.retry_at.reset();
    l.registered = ctl(EPOLL_CTL_ADD, l.fd, EPOLLIN, Tag{Kind::listener, listeners_.gen(i), i});
}

std::optional<TimePoint> EpollLoop::next_accept_retry() const {
    std::optional<TimePoint> when;
    if (quiescing_) return when;  // no listener is registered until resume()
    for (std::uint32_t i = 0; i < listeners_.size(); ++i)
        when = earliest(when, listeners_[i].retry_at);
    return when;
}

void EpollLoop::wait() {
    // An interrupted wait is resumed, not turned into an empty turn: signals
    // reach the daemon through a signalfd or self-pipe it watches.
    do {
        int timeout = 0;
        if (pending_.empty())
            timeout = epoll_timeout_ms(earliest(deadline_.get(), next_accept_retry()), Clock::now());
        ready_ = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeout);
    } while (ready_ < 0 && errno == EINTR);
    if (ready_ < 0) die("epoll_wait", errno);
}

}  // namespace xs::daemon::loop
