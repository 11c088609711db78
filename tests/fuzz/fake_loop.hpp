// An EventLoop without I/O for the fuzzer: it remembers what the daemon asked
// for (sends, reading on/off, closes) and lets the driver decide when sends
// complete and by how much.
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
    void add_listener(int) override {}
    void add_socket(daemon::ConnId, int) override {}
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

    bool closed(daemon::ConnId id) const { return closed_.count(id) != 0; }
    bool reading(daemon::ConnId id) const { return not_reading_.count(id) == 0; }
    // The send in flight on `id`, if any; taking it leaves none.
    bool take_send(daemon::ConnId id, Send& out);
    bool any_send() const { return !sends_.empty(); }
    // The tokens of the fds the daemon watches.
    std::vector<int> watched() const;

private:
    std::map<daemon::ConnId, Send> sends_;
    std::set<daemon::ConnId> closed_;
    std::set<daemon::ConnId> not_reading_;
    std::map<int, int> watched_;  // fd -> token
};

}  // namespace xs::fuzz
