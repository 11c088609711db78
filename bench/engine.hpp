// The measuring engine: many non-blocking connections served by one thread
// with epoll. Each readable connection is drained with large reads, every
// complete reply goes to the workload's Driver (with its latency), the
// driver queues more requests, and the whole batch leaves in one write.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/conn.hpp"
#include "bench/failure.hpp"

namespace xs::bench {

class Engine;

// A workload phase: decides what to send and checks what comes back.
class Driver {
public:
    virtual ~Driver() = default;
    // Queue the first requests (the engine flushes afterwards).
    virtual void start(Engine& engine) = 0;
    virtual void on_reply(Engine& engine, Conn& conn, const Reply& reply) = 0;
    virtual void on_event(Engine&, Conn&, const Event&) {}
    // Called after a connection's input was handled (or after wake()):
    // queue more requests on it if the workload wants to.
    virtual void pump(Engine&, Conn&) {}
    virtual bool finished() const = 0;
    // Timers: on_tick() runs once the clock reaches wake_at_ns(), even when
    // nothing arrives (a workload that must notice silence, or act on time).
    virtual std::uint64_t wake_at_ns() const { return ~std::uint64_t{0}; }
    virtual void on_tick(Engine&) {}
};

class Engine {
public:
    Engine();
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    Conn& add(std::unique_ptr<Stream> stream, std::size_t window);
    std::vector<std::unique_ptr<Conn>>& conns() { return conns_; }

    // Run `driver` until it is finished, something fails, or the clock
    // passes `deadline_ns` (a "timeout" failure).
    Checked<> run(Driver& driver, std::uint64_t deadline_ns);

    // The time of the latest receive: the send time of what a driver
    // queues in response, and the receipt time of what was just parsed.
    std::uint64_t now() const { return now_; }
    std::uint64_t refresh_now();
    // Queue a request on `conn` stamped with now().
    std::uint32_t send(Conn& conn, std::uint32_t type, std::uint32_t tx,
                       std::initializer_list<std::string_view> parts, std::uint64_t tag = 0) {
        return conn.send(type, tx, parts, tag, now_);
    }
    // Stop the run with this failure (the first one wins).
    void fail(std::string message);
    void fail(Failure f);
    // Have pump() called for `conn` in this loop iteration.
    void wake(Conn& conn);

private:
    bool handle_input(Driver& driver, Conn& conn);
    bool flush(Conn& conn);
    void watch_output(Conn& conn, bool want);

    int epfd_ = -1;
    std::vector<std::unique_ptr<Conn>> conns_;
    std::vector<bool> wants_out_;
    std::vector<Conn*> woken_;
    std::uint64_t now_ = 0;
    bool failed_ = false;
    Failure failure_;
};

}  // namespace xs::bench
