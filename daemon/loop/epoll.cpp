// The epoll backend: creation and the EventLoop calls. The turn itself is in
// epoll_submit.cpp and epoll_deliver.cpp.
#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>

#include "daemon/loop/epoll_loop.hpp"
#include "daemon/loop/fd_util.hpp"
#include "daemon/loop/options.hpp"

namespace xs::daemon {

std::unique_ptr<EventLoop> make_epoll_loop(const LoopOptions& opts) {
    return loop::EpollLoop::create(opts);
}

}  // namespace xs::daemon

namespace xs::daemon::loop {

std::unique_ptr<EventLoop> EpollLoop::create(const LoopOptions& opts) {
    int epfd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return nullptr;
    return std::unique_ptr<EventLoop>(new EpollLoop(epfd, opts));
}

EpollLoop::EpollLoop(int epfd, const LoopOptions& opts)
    : epfd_(epfd),
      recv_buf_(std::clamp(opts.recv_buffer_size, 1u, kMaxRecvBufferSize)),
      events_(std::clamp(opts.queue_depth, 64u, 4096u)) {}

EpollLoop::~EpollLoop() {
    for (std::uint32_t i = 0; i < conns_.size(); ++i)
        if (conns_.state(i) == SlotTable<Conn>::State::live) close_fd(conns_[i].fd);
    close_fd(epfd_);
}

void EpollLoop::add_listener(int fd) {
    // accept4() is called until EAGAIN: on a blocking listener (one handed
    // down by another program, say) the last call would block the daemon.
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    Listener l;
    l.fd = fd;
    listeners_.add(std::move(l));
}

void EpollLoop::close_socket(ConnId id) {
    int fd = release_socket(id);
    close_fd(fd);
}

int EpollLoop::release_socket(ConnId id) {
    auto it = ids_.find(id);
    if (it == ids_.end()) return -1;
    std::uint32_t i = it->second;
    ids_.erase(it);
    Conn& c = conns_[i];
    // Removed explicitly: a dup of the fd elsewhere would keep the
    // registration alive after close().
    if (c.registered) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
    int fd = c.fd;
    conns_.retire(i);
    conns_.release(i);  // results still pending for it carry the old generation
    return fd;
}

void EpollLoop::quiesce() {
    if (quiescing_) return;
    quiescing_ = true;
    for (std::uint32_t i = 0; i < conns_.size(); ++i) {
        if (conns_.state(i) != SlotTable<Conn>::State::live) continue;
        Conn& c = conns_[i];
        if (c.send_waiting) {
            // Nothing is in the kernel's hands: what was written so far is
            // all the peer gets from this send.
            c.send_waiting = false;
            post(Pending{Pending::What::sent, conn_tag(i), c.out.written()});
        }
        mark_dirty(i);  // prepare() takes the fd out of the epoll set
    }
}

void EpollLoop::resume() {
    if (!quiescing_) return;
    quiescing_ = false;
    mark_all_dirty();  // prepare() writes remembered sends and registers again
}

void EpollLoop::mark_all_dirty() {
    for (std::uint32_t i = 0; i < conns_.size(); ++i)
        if (conns_.state(i) == SlotTable<Conn>::State::live) mark_dirty(i);
}

void EpollLoop::watch_readable(int fd, int token) {
    unwatch(fd);  // a new registration: the fd may be a new file reusing the number
    Watch w;
    w.fd = fd;
    w.token = token;
    std::uint32_t i = watches_.add(w);
    watch_fds_.emplace(fd, i);
    Tag tag{Kind::watch, watches_.gen(i), i};
    // An fd epoll refuses is reported readable once, as a failed io_uring
    // poll is, so that the daemon's read finds out why.
    if (!ctl(EPOLL_CTL_ADD, fd, EPOLLIN, tag))
        pending_.push_back(Pending{Pending::What::readable, tag});
}

void EpollLoop::unwatch(int fd) {
    auto it = watch_fds_.find(fd);
    if (it == watch_fds_.end()) return;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);  // fails harmlessly if already closed
    watches_.retire(it->second);
    watches_.release(it->second);
    watch_fds_.erase(it);
}

void EpollLoop::run(LoopClient& client) {
    client_ = &client;
    stopping_ = false;
    while (!stopping_) {
        prepare();
        wait();
        deadline_.expire(Clock::now());
        deliver_pending();
        deliver_events();
        client_->on_turn_end();
    }
    prepare();
    client_ = nullptr;
}

}  // namespace xs::daemon::loop
