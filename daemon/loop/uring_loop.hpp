// The io_uring backend (see docs/event-loop.md). One ring; multishot accept
// on listeners; multishot receive into a shared provided-buffer ring on
// sockets; sendmsg for sends; one-shot polls for watched fds; the deadline
// passed with the wait. Everything prepared during a turn is submitted by
// the single io_uring_enter that also waits for the next turn.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/loop/conn_book.hpp"
#include "daemon/loop/deadline.hpp"
#include "daemon/loop/loop.hpp"
#include "daemon/loop/send_buffer.hpp"
#include "daemon/loop/slot_table.hpp"
#include "daemon/loop/tag.hpp"
#include "daemon/loop/uring_buffers.hpp"
#include "daemon/loop/uring_setup.hpp"

namespace xs::daemon::loop {

// Per-connection record of the uring backend.
struct UringConn {
    ConnId id = 0;
    int fd = -1;
    bool reading = true;
    bool hung_up = false;
    bool dirty = false;           // listed in dirty_
    bool recv_armed = false;      // a multishot receive has not ended yet
    bool recv_cancelled = false;  // ... and a cancel for it is on its way
    bool send_queued = false;     // send() called, not yet submitted
    bool send_armed = false;      // sendmsg submitted, no completion yet
    bool send_cancelled = false;  // ... and quiesce() sent a cancel for it
    std::uint64_t recv_tag = 0;
    std::uint64_t send_tag = 0;
    SendBuffer out;  // the kernel reads its msghdr until send_armed clears
    bool send_busy() const { return send_armed; }
};

class UringLoop final : public EventLoop, private ConnBook<UringConn> {
public:
    static std::unique_ptr<EventLoop> create(const LoopOptions& opts, std::string& why,
                                             TaskRun best = TaskRun::deferred);
    ~UringLoop() override;

    const char* name() const override { return "io_uring"; }
    TaskRun task_run() const { return task_run_of(ring_); }
    void add_listener(int fd) override;
    void add_socket(ConnId id, int fd) override { book_socket(id, fd); }
    void set_reading(ConnId id, bool enabled) override { book_reading(id, enabled); }
    void send(ConnId id, std::span<const iovec> iov) override { book_send(id, iov); }
    void close_socket(ConnId id) override;
    int release_socket(ConnId id) override;
    void quiesce() override;
    bool quiet() const override { return quiescing_ && armed_ == 0; }
    void resume() override;
    void watch_readable(int fd, int token) override;
    void unwatch(int fd) override;
    void set_deadline(std::optional<Clock::time_point> when) override { deadline_.set(when); }
    void run(LoopClient& client) override;
    void submit_sends() override;
    void stop() override { stopping_ = true; }

private:
    using Conn = UringConn;
    struct Listener {
        int fd = -1;
        bool armed = false;      // a multishot accept has not ended yet
        bool cancelled = false;  // ... and quiesce() sent a cancel for it
        std::optional<TimePoint> retry_at;
    };
    struct Watch {
        int fd = -1;
        int token = 0;
        bool armed = false;
        bool failed = false;  // the poll itself failed: reported once, not re-armed
        std::uint64_t tag = 0;
    };
    struct Completion {
        std::uint64_t user_data;
        std::int32_t res;
        std::uint32_t flags;
    };

    UringLoop() = default;

    // Submission side (uring_submit.cpp).
    io_uring_sqe* next_sqe();
    void cancel(std::uint64_t tag);
    void cancel_now(const Conn& c);
    void arm_recv(std::uint32_t i);
    void arm_send(std::uint32_t i);
    void arm_accept(std::uint32_t i);
    void arm_poll(std::uint32_t i);
    void set_armed(bool& flag, bool armed);
    void prepare();
    void prepare_listener(std::uint32_t i);
    void reconcile(std::uint32_t i);
    void stand_down(std::uint32_t i);
    void wait();
    void catch_up();  // while quiescing: every completion the kernel has ready
    void submit_prepared();
    void harvest();

    // Completion side (uring_complete.cpp).
    void deliver();
    void dispatch(const Completion& c);
    void accept_done(Tag t, const Completion& c);
    void recv_done(Tag t, const Completion& c);
    void send_done(Tag t, const Completion& c);
    void poll_done(Tag t, const Completion& c);
    void serve_accepted(int listener_fd, int fd);
    void hang_up(std::uint32_t i);
    void settle(std::uint32_t i);

    std::optional<TimePoint> next_accept_retry() const;
    void mark_all_dirty();

    io_uring ring_{};
    bool ring_ready_ = false;
    unsigned cancel_flags_ = 0;  // IOSQE_CQE_SKIP_SUCCESS when the kernel has it
    ProvidedBuffers buffers_;

    SlotTable<Listener> listeners_;
    SlotTable<Watch> watches_;
    std::unordered_map<int, std::uint32_t> watch_fds_;

    std::vector<Completion> batch_;     // harvested completions not yet delivered
    Deadline deadline_;
    LoopClient* client_ = nullptr;
    bool stopping_ = false;
    // Live update: while quiescing, nothing new is armed. armed_ counts the
    // accepts, receives and sends whose final completion has not been
    // delivered yet (of closed connections too), so quiet() costs nothing.
    bool quiescing_ = false;
    std::size_t armed_ = 0;
};

}  // namespace xs::daemon::loop
