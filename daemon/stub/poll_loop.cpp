// PollLoop: watched fds and one deadline, waited for through the platform.
#include "daemon/stub/poll_loop.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "daemon/config/log.hpp"

namespace xs::daemon::stub {

namespace {

class PollLoop final : public EventLoop {
public:
    explicit PollLoop(Platform& platform) : platform_(platform) {}

    const char* name() const override { return "poll"; }

    // No sockets in a stub domain.
    void add_listener(int) override { no_sockets("add_listener"); }
    void add_socket(ConnId, int) override { no_sockets("add_socket"); }
    void set_reading(ConnId, bool) override { no_sockets("set_reading"); }
    void send(ConnId, std::span<const iovec>) override { no_sockets("send"); }
    void close_socket(ConnId) override { no_sockets("close_socket"); }
    int release_socket(ConnId) override { return -1; }

    // Nothing is in flight without sockets: quiet at once.
    void quiesce() override { quiescing_ = true; }
    bool quiet() const override { return quiescing_; }
    void resume() override { quiescing_ = false; }

    void watch_readable(int fd, int token) override {
        unwatch(fd);
        watched_.push_back({fd, token});
    }
    void unwatch(int fd) override {
        std::erase_if(watched_, [fd](const Watch& w) { return w.fd == fd; });
    }
    void set_deadline(std::optional<Clock::time_point> when) override { deadline_ = when; }

    void run(LoopClient& client) override {
        stop_ = false;
        while (!stop_) turn(client);
    }
    void stop() override { stop_ = true; }
    void submit_sends() override {}  // no sockets in a stub domain

private:
    struct Watch {
        int fd;
        int token;
    };

    [[noreturn]] static void no_sockets(const char* call) {
        log::error("poll loop: %s called, but the stub-domain build has no sockets", call);
        std::abort();
    }

    void turn(LoopClient& client) {
        fds_.clear();
        for (const Watch& w : watched_) fds_.push_back(w.fd);
        platform_.wait(fds_, deadline_, ready_);
        if (platform_.stop_requested()) {
            log::info("exiting on request");
            stop_ = true;
            return;
        }
        if (deadline_ && Clock::now() >= *deadline_) deadline_.reset();
        // Tokens first: a callback may change the watches.
        tokens_.clear();
        for (std::size_t i = 0; i < fds_.size() && i < ready_.size(); ++i)
            if (ready_[i]) tokens_.push_back(watched_[i].token);
        for (int token : tokens_) client.on_readable(token);
        client.on_turn_end();
    }

    Platform& platform_;
    std::vector<Watch> watched_;
    std::vector<int> fds_;
    std::vector<bool> ready_;
    std::vector<int> tokens_;
    std::optional<Clock::time_point> deadline_;
    bool quiescing_ = false;
    bool stop_ = false;
};

}  // namespace

std::unique_ptr<EventLoop> make_poll_loop(Platform& platform) { return std::make_unique<PollLoop>(platform); }

}  // namespace xs::daemon::stub
