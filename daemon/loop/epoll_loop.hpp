// The epoll backend (see docs/event-loop.md): level-triggered epoll,
// non-blocking recv() into one buffer, sendmsg() of the daemon's iovecs at
// the end of the turn. Results known at the end of a turn (a send that
// completed, a send that failed) are delivered at the start of the next one,
// as io_uring completions would be.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "daemon/loop/conn_book.hpp"
#include "daemon/loop/deadline.hpp"
#include "daemon/loop/loop.hpp"
#include "daemon/loop/send_buffer.hpp"
#include "daemon/loop/slot_table.hpp"
#include "daemon/loop/tag.hpp"

namespace xs::daemon::loop {

// Per-connection record of the epoll backend.
struct EpollConn {
    ConnId id = 0;
    int fd = -1;
    bool reading = true;
    bool hung_up = false;
    bool dirty = false;         // listed in dirty_
    bool send_queued = false;   // send() called, not yet written
    bool send_waiting = false;  // written in part (or not at all), waiting for EPOLLOUT
    std::uint32_t registered = 0;  // the epoll events the fd is registered for (0: none)
    SendBuffer out;
    bool send_busy() const { return send_waiting; }
};

class EpollLoop final : public EventLoop, private ConnBook<EpollConn> {
public:
    static std::unique_ptr<EventLoop> create(const LoopOptions& opts);
    ~EpollLoop() override;

    const char* name() const override { return "epoll"; }
    void add_listener(int fd) override;
    void add_socket(ConnId id, int fd) override { book_socket(id, fd); }
    void set_reading(ConnId id, bool enabled) override { book_reading(id, enabled); }
    void send(ConnId id, std::span<const iovec> iov) override { book_send(id, iov); }
    void close_socket(ConnId id) override;
    int release_socket(ConnId id) override;
    void quiesce() override;
    bool quiet() const override { return quiescing_ && io_results_ == 0; }
    void resume() override;
    void watch_readable(int fd, int token) override;
    void unwatch(int fd) override;
    void set_deadline(std::optional<Clock::time_point> when) override { deadline_.set(when); }
    void run(LoopClient& client) override;
    void submit_sends() override { prepare(); }  // writes queued sends at once
    void stop() override { stopping_ = true; }

private:
    using Conn = EpollConn;
    struct Listener {
        int fd = -1;
        bool registered = false;
        std::optional<TimePoint> retry_at;
    };
    struct Watch {
        int fd = -1;
        int token = 0;
    };
    // A result found at the end of a turn, delivered in the next one.
    struct Pending {
        enum class What : std::uint8_t { sent, hangup, readable } what;
        Tag target;  // the connection (or, for readable, the watch)
        std::size_t n = 0;
    };

    EpollLoop(int epfd, const LoopOptions& opts);

    // End of turn and waiting (epoll_submit.cpp).
    void prepare();
    void reconcile(std::uint32_t i);
    void write_queued(std::uint32_t i);
    void update_interest(std::uint32_t i);
    void update_listener(std::uint32_t i);
    void wait();
    bool ctl(int op, int fd, std::uint32_t events, Tag tag);
    void post(Pending p);

    // Delivery (epoll_deliver.cpp).
    void deliver_pending();
    void deliver_events();
    void listener_ready(Tag t);
    void conn_ready(Tag t, std::uint32_t events);
    void read_ready(Tag t);
    void write_more(Tag t);
    void serve_accepted(int listener_fd, int fd);
    void hang_up(std::uint32_t i);

    Tag conn_tag(std::uint32_t i) const { return Tag{Kind::recv, conns_.gen(i), i}; }
    std::optional<TimePoint> next_accept_retry() const;
    void mark_all_dirty();

    int epfd_;
    std::vector<char> recv_buf_;
    std::vector<epoll_event> events_;
    int ready_ = 0;  // events_ filled by the last wait

    SlotTable<Listener> listeners_;
    SlotTable<Watch> watches_;
    std::unordered_map<int, std::uint32_t> watch_fds_;

    std::vector<Pending> pending_;
    std::vector<Pending> delivering_;
    Deadline deadline_;
    LoopClient* client_ = nullptr;
    bool stopping_ = false;
    // Live update: while quiescing, the loop makes no accept, recv or send
    // call. io_results_ counts the sent and hangup results posted and not
    // yet delivered, so quiet() costs nothing.
    bool quiescing_ = false;
    std::size_t io_results_ = 0;
};

}  // namespace xs::daemon::loop
