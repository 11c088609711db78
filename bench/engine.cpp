#include "bench/engine.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bench/clock.hpp"

namespace xs::bench {

Engine::Engine() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) { now_ = now_ns(); }

Engine::~Engine() {
    if (epfd_ >= 0) ::close(epfd_);
}

Conn& Engine::add(std::unique_ptr<Stream> stream, std::size_t window) {
    int index = static_cast<int>(conns_.size());
    conns_.push_back(std::make_unique<Conn>(std::move(stream), window, index));
    wants_out_.push_back(false);
    Conn& c = *conns_.back();
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, c.stream().poll_fd(), &ev) != 0)
        fail(std::string("epoll_ctl: ") + std::strerror(errno));
    return c;
}

std::uint64_t Engine::refresh_now() { return now_ = now_ns(); }

void Engine::fail(std::string message) { fail(Failure{std::string(kStatusError), std::move(message)}); }

void Engine::fail(Failure f) {
    if (failed_) return;
    failed_ = true;
    failure_ = std::move(f);
}

void Engine::wake(Conn& conn) { woken_.push_back(&conn); }

void Engine::watch_output(Conn& conn, bool want) {
    // Such a stream's room to write arrives as input: EPOLLIN already covers it.
    if (conn.stream().write_ready_is_readable()) return;
    auto i = static_cast<std::size_t>(conn.index());
    if (wants_out_[i] == want) return;
    wants_out_[i] = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.ptr = &conn;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, conn.stream().poll_fd(), &ev);
}

bool Engine::flush(Conn& conn) {
    if (!conn.flush()) {
        fail("connection " + std::to_string(conn.index()) + " lost while writing");
        return false;
    }
    watch_output(conn, conn.output_pending());
    return true;
}

// Drain the connection with large reads, handing every complete message to
// the driver as soon as it is parsed. A read that did not fill the buffer
// got everything the kernel had: no second read just to see EAGAIN.
bool Engine::handle_input(Driver& driver, Conn& conn) {
    bool more = true;
    for (int rounds = 0; rounds < 8 && more; ++rounds) {
        long n = conn.fill_input(more);
        if (n < 0) {
            fail("connection " + std::to_string(conn.index()) + " closed by the daemon");
            return false;
        }
        if (n == 0) break;
        refresh_now();
        Reply reply{};
        Event event{};
        for (;;) {
            auto kind = conn.next(reply, event, now_);
            if (!kind) {
                Failure f = kind.error();
                f.message = "connection " + std::to_string(conn.index()) + ": " + f.message;
                fail(std::move(f));
                return false;
            }
            if (*kind == Conn::Kind::kNone) break;
            if (*kind == Conn::Kind::kReply) driver.on_reply(*this, conn, reply);
            else driver.on_event(*this, conn, event);
            if (failed_) return false;
        }
    }
    return true;
}

Checked<> Engine::run(Driver& driver, std::uint64_t deadline_ns) {
    failed_ = false;
    refresh_now();
    driver.start(*this);
    for (auto& c : conns_)
        if (!flush(*c)) break;
    epoll_event events[256];
    while (!failed_ && !driver.finished()) {
        std::uint64_t now = refresh_now();
        if (now >= deadline_ns) {
            fail(Failure{std::string(kStatusTimeout), "no completion before the time limit"});
            break;
        }
        std::uint64_t until = std::min(deadline_ns, driver.wake_at_ns());
        // Rounded up, so a timer never fires early; at most a minute per wait.
        int timeout_ms = until <= now ? 0 : static_cast<int>(std::min<std::uint64_t>((until - now + 999'999) / 1'000'000, 60'000));
        int n = ::epoll_wait(epfd_, events, 256, timeout_ms);
        if (n < 0 && errno != EINTR) {
            fail(std::string("epoll_wait: ") + std::strerror(errno));
            break;
        }
        for (int i = 0; i < n && !failed_; ++i) {
            Conn& c = *static_cast<Conn*>(events[i].data.ptr);
            if (!handle_input(driver, c)) break;
            driver.pump(*this, c);
            flush(c);
        }
        if (std::uint64_t wake = driver.wake_at_ns(); !failed_ && wake != ~std::uint64_t{0} && refresh_now() >= wake) {
            driver.on_tick(*this);
            for (auto& c : conns_)
                if (c->output_pending() && !flush(*c)) break;
        }
        while (!woken_.empty() && !failed_) {
            Conn* c = woken_.back();
            woken_.pop_back();
            driver.pump(*this, *c);
            flush(*c);
        }
    }
    woken_.clear();
    if (failed_) return unexpected(failure_);
    return {};
}

}  // namespace xs::bench
