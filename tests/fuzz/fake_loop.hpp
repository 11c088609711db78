// An EventLoop without I/O for the fuzzer: it remembers what the daemon asked
// for (sends, reading on/off, closes) and lets the driver decide when sends
// complete and by how much. Its clock moves only when the driver says, so
// an input that waits for time (rate limits, event expiry) replays exactly.
#pragma once

#include <sys/uio.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "daemon/loop/loop.hpp"

namespace xs::fuzz {

class FakeLoop final : public daemon::EventLoop {
public:
    struct Send {
        std::vector<iovec> iov;  // the daemon's buffers: read only when the send completes
        std::size_t bytes = 0;
        // The first `n` bytes of the send (read from the daemon's buffers now).
        std::string head(std::size_t n) const;
    };

    const char* name() const override { return "fuzz"; }
    daemon::Clock::time_point now() const override { return now_; }
    void advance(daemon::Clock::duration d) { now_ += d; }
    void add_listener(int) override {}
    void add_socket(daemon::ConnId id, int fd) override { sockets_[fd] = id; }
    void set_reading(daemon::ConnId id, bool enabled) override {
        if (enabled) not_reading_.erase(id);
        else not_reading_.insert(id);
    }
    void send(daemon::ConnId id, std::span<const iovec> iov) override;
    void close_socket(daemon::ConnId id) override;
    int release_socket(daemon::ConnId) override { return -1; }
    void quiesce() override {}
    bool quiet() const override { return true; }
    void resume() override {}
    void watch_readable(int fd, int token) override { watched_[fd] = token; }
    void unwatch(int fd) override { watched_.erase(fd); }
    void set_deadline(std::optional<daemon::Clock::time_point>) override {}
    void run(daemon::LoopClient&) override {}
    void stop() override {}
    void submit_sends() override {}  // the driver decides when sends complete

    bool closed(daemon::ConnId id) const { return closed_.count(id) != 0; }
    bool reading(daemon::ConnId id) const { return not_reading_.count(id) == 0; }
    // The send in flight on `id`, if any; taking it leaves none.
    bool take_send(daemon::ConnId id, Send& out);
    bool any_send() const { return !sends_.empty(); }
    // The connection a live update restored on socket `fd` (0: none).
    daemon::ConnId socket(int fd) const {
        auto it = sockets_.find(fd);
        return it == sockets_.end() ? 0 : it->second;
    }
    // The tokens of the fds the daemon watches.
    std::vector<int> watched() const;

private:
    daemon::Clock::time_point now_{std::chrono::hours(1)};  // never the zero point ("no deadline")
    std::map<daemon::ConnId, Send> sends_;
    std::set<daemon::ConnId> closed_;
    std::set<daemon::ConnId> not_reading_;
    std::map<int, int> watched_;  // fd -> token
    std::map<int, daemon::ConnId> sockets_;  // fd -> connection, as add_socket gave them
};

}  // namespace xs::fuzz
