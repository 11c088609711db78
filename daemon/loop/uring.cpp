// The io_uring backend: creation and the EventLoop calls. The turn itself
// is in uring_submit.cpp and uring_complete.cpp.
#include <sys/socket.h>

#include <cassert>

#include "daemon/loop/fd_util.hpp"
#include "daemon/loop/options.hpp"
#include "daemon/loop/uring_loop.hpp"
#include "daemon/loop/uring_setup.hpp"

namespace xs::daemon {

std::unique_ptr<EventLoop> make_uring_loop(const LoopOptions& opts, std::string& why) {
    return loop::UringLoop::create(opts, why);
}

}  // namespace xs::daemon

namespace xs::daemon::loop {

namespace {
constexpr std::uint16_t kBufferGroup = 0;
}

std::unique_ptr<EventLoop> UringLoop::create(const LoopOptions& opts, std::string& why,
                                             TaskRun best) {
    if (auto bad = check_options(opts)) {
        why = *bad;
        return nullptr;
    }
    std::unique_ptr<UringLoop> loop(new UringLoop());
    if (auto bad = create_ring(loop->ring_, opts, best)) {
        why = *bad;
        return nullptr;
    }
    loop->ring_ready_ = true;
    std::optional<std::string> bad = check_ring_features(loop->ring_);
    if (!bad) bad = loop->buffers_.setup(loop->ring_, opts.recv_buffers, opts.recv_buffer_size,
                                         kBufferGroup);
    if (!bad) bad = probe_multishot_recv(loop->ring_, loop->buffers_);
    if (bad) {
        why = *bad;
        return nullptr;
    }
    if (loop->ring_.features & IORING_FEAT_CQE_SKIP) loop->cancel_flags_ = IOSQE_CQE_SKIP_SUCCESS;
    return loop;
}

UringLoop::~UringLoop() {
    // Tearing the ring down cancels every operation; only then may the
    // buffers and the connections' msghdrs go away (members die after this).
    if (ring_ready_) io_uring_queue_exit(&ring_);
    for (std::uint32_t i = 0; i < conns_.size(); ++i)
        if (conns_.state(i) == SlotTable<Conn>::State::live) close_fd(conns_[i].fd);
}

void UringLoop::add_listener(int fd) {
    Listener l;
    l.fd = fd;
    listeners_.add(std::move(l));
}

void UringLoop::close_socket(ConnId id) {
    auto it = ids_.find(id);
    if (it == ids_.end()) return;
    std::uint32_t i = it->second;
    ids_.erase(it);
    Conn& c = conns_[i];
    if (c.send_armed) {
        // The daemon may free the send's buffers as soon as this returns,
        // before the cancel reaches the kernel: a shut-down socket fails the
        // pending send without copying from them.
        ::shutdown(c.fd, SHUT_RDWR);
        cancel(c.send_tag);
    }
    if (c.recv_armed && !c.recv_cancelled) {
        cancel(c.recv_tag);
        c.recv_cancelled = true;
    }
    close_fd(c.fd);
    c.fd = -1;
    c.send_queued = false;
    conns_.retire(i);
    settle(i);
}

int UringLoop::release_socket(ConnId id) {
    auto it = ids_.find(id);
    if (it == ids_.end()) return -1;
    std::uint32_t i = it->second;
    ids_.erase(it);
    Conn& c = conns_[i];
    if (c.recv_armed || c.send_armed) cancel_now(c);
    int fd = c.fd;
    c.fd = -1;
    c.send_queued = false;
    conns_.retire(i);
    settle(i);
    return fd;
}

void UringLoop::quiesce() {
    if (quiescing_) return;
    quiescing_ = true;
    mark_all_dirty();  // prepare() cancels what each connection has armed
}

void UringLoop::resume() {
    if (!quiescing_) return;
    quiescing_ = false;
    mark_all_dirty();  // prepare() arms receives and remembered sends again
}

void UringLoop::mark_all_dirty() {
    for (std::uint32_t i = 0; i < conns_.size(); ++i)
        if (conns_.state(i) == SlotTable<Conn>::State::live) mark_dirty(i);
}

void UringLoop::watch_readable(int fd, int token) {
    // Watching an fd again starts afresh: it may be a new file that reuses
    // the number, and the armed poll belongs to the old one.
    unwatch(fd);
    Watch w;
    w.fd = fd;
    w.token = token;
    std::uint32_t i = watches_.add(w);
    watch_fds_.emplace(fd, i);
}

void UringLoop::unwatch(int fd) {
    auto it = watch_fds_.find(fd);
    if (it == watch_fds_.end()) return;
    std::uint32_t i = it->second;
    watch_fds_.erase(it);
    if (watches_[i].armed) cancel(watches_[i].tag);
    // A poll holds no memory of ours: the slot can be reused at once, and
    // the generation keeps the old poll's completion away from it.
    watches_.retire(i);
    watches_.release(i);
}

void UringLoop::run(LoopClient& client) {
    client_ = &client;
    stopping_ = false;
    while (!stopping_) {
        prepare();
        wait();
        catch_up();
        deadline_.expire(Clock::now());
        deliver();
        client_->on_turn_end();
    }
    prepare();
    submit_prepared();
    client_ = nullptr;
}

}  // namespace xs::daemon::loop
