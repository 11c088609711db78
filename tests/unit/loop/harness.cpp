#include "tests/unit/loop/harness.hpp"

#include "daemon/loop/uring_loop.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace xs::daemon::testing {

std::unique_ptr<EventLoop> UringBackend::make(const LoopOptions& opts) {
    std::string why;
    auto loop = make_uring_loop(opts, why);
    if (!loop) MESSAGE("io_uring backend unavailable, test skipped: " << why);
    return loop;
}

namespace {

std::unique_ptr<EventLoop> make_uring_mode(const LoopOptions& opts, loop::TaskRun mode) {
    std::string why;
    auto l = loop::UringLoop::create(opts, why, mode);
    if (!l) MESSAGE("io_uring backend unavailable, test skipped: " << why);
    return l;
}

}  // namespace

std::unique_ptr<EventLoop> UringCoopBackend::make(const LoopOptions& opts) {
    return make_uring_mode(opts, loop::TaskRun::cooperative);
}

std::unique_ptr<EventLoop> UringPlainBackend::make(const LoopOptions& opts) {
    return make_uring_mode(opts, loop::TaskRun::plain);
}

std::unique_ptr<EventLoop> EpollBackend::make(const LoopOptions& opts) {
    auto loop = make_epoll_loop(opts);
    REQUIRE(loop);
    return loop;
}

// ---- Recorder ----

void Recorder::check_open(ConnId id, const char* what) {
    if (gone_.contains(id)) FAIL_CHECK(what << " for connection " << id << " after close/release");
    if (hung_up.contains(id)) FAIL_CHECK(what << " for connection " << id << " after on_hangup");
}

void Recorder::close(ConnId id) {
    gone_.insert(id);
    loop_.close_socket(id);
}

int Recorder::release(ConnId id) {
    gone_.insert(id);
    return loop_.release_socket(id);
}

ConnId Recorder::on_accept(int listener_fd, int fd) {
    accepted.emplace_back(listener_fd, fd);
    return accept_hook ? accept_hook(listener_fd, fd) : next_id_++;
}

void Recorder::on_receive(ConnId id, std::span<const char> bytes) {
    check_open(id, "on_receive");
    CHECK(!bytes.empty());
    received[id].append(bytes.data(), bytes.size());
    ++receive_calls[id];
    if (echo) {
        out_[id].pending.append(bytes.data(), bytes.size());
        kick(id);
    }
    if (receive_hook) receive_hook(id, bytes);
}

void Recorder::on_hangup(ConnId id) {
    check_open(id, "on_hangup");
    hung_up.insert(id);
    if (hangup_hook) hangup_hook(id);
    else close(id);
}

void Recorder::on_sent(ConnId id, std::size_t n) {
    check_open(id, "on_sent");
    sent[id].push_back(n);
    if (echo) {
        Outbox& o = out_[id];
        CHECK(o.sending);
        CHECK(n <= o.inflight.size() - o.done);
        o.sending = false;
        o.done += n;
        if (o.done == o.inflight.size()) {
            o.inflight.clear();
            o.done = 0;
        }
        kick(id);
    }
    if (sent_hook) sent_hook(id, n);
}

void Recorder::kick(ConnId id) {
    Outbox& o = out_[id];
    if (o.sending) return;
    if (o.inflight.empty()) std::swap(o.inflight, o.pending);
    if (o.inflight.empty()) return;
    iovec v{o.inflight.data() + o.done, o.inflight.size() - o.done};
    loop_.send(id, std::span<const iovec>(&v, 1));
    o.sending = true;
}

bool Recorder::echoed_all(ConnId id) const {
    auto it = out_.find(id);
    return it == out_.end() ||
           (!it->second.sending && it->second.inflight.empty() && it->second.pending.empty());
}

void Recorder::on_readable(int token) {
    ++readable[token];
    if (readable_hook) readable_hook(token);
}

void Recorder::on_turn_end() {
    ++turns;
    if (turn_hook) turn_hook();
    if (stop_after_ >= 0) {
        if (--stop_after_ == 0) loop_.stop();
        else loop_.set_deadline(Clock::now());
        return;
    }
    if (!done_) return;  // a plain run(): the test stops it itself
    if (done_()) {
        loop_.stop();
    } else if (Clock::now() >= give_up_) {
        FAIL_CHECK("condition not reached in time");
        loop_.stop();
    } else {
        loop_.set_deadline(give_up_);
    }
}

bool Recorder::run_until(const std::function<bool()>& done, std::chrono::seconds limit) {
    done_ = done;
    stop_after_ = -1;
    give_up_ = Clock::now() + limit;
    loop_.set_deadline(give_up_);
    loop_.run(*this);
    bool ok = done();
    done_ = nullptr;
    loop_.set_deadline(std::nullopt);
    return ok;
}

void Recorder::run_for(std::chrono::milliseconds d) {
    give_up_ = Clock::now() + d;  // the turn ending then is the last one
    done_ = [this] { return Clock::now() >= give_up_; };
    stop_after_ = -1;
    loop_.set_deadline(give_up_);
    loop_.run(*this);
    done_ = nullptr;
    loop_.set_deadline(std::nullopt);
}

void Recorder::run_turns(int n) {
    if (n <= 0) return;
    stop_after_ = n;
    loop_.set_deadline(Clock::now());
    loop_.run(*this);
    stop_after_ = -1;
    loop_.set_deadline(std::nullopt);
}

// ---- sockets ----

void set_timeouts(int fd, std::chrono::seconds t) {
    timeval tv{.tv_sec = static_cast<time_t>(t.count()), .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

std::pair<int, int> socket_pair() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    int flags = ::fcntl(sv[0], F_GETFL);
    ::fcntl(sv[0], F_SETFL, flags | O_NONBLOCK);
    set_timeouts(sv[1], 10s);
    return {sv[0], sv[1]};
}

namespace {

sockaddr_un abstract_address(int n, socklen_t& len) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::string name = "xs-loop-test-" + std::to_string(::getpid()) + "-" + std::to_string(n);
    std::memcpy(a.sun_path + 1, name.data(), name.size());  // leading NUL: abstract
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    return a;
}

std::map<int, int> listener_names;  // listener fd -> address number

}  // namespace

int unix_listener() {
    static std::atomic<int> counter{0};
    int n = counter++;
    socklen_t len;
    sockaddr_un a = abstract_address(n, len);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0);
    REQUIRE(::listen(fd, 512) == 0);
    listener_names[fd] = n;
    return fd;
}

int connect_to(int listener) {
    socklen_t len;
    sockaddr_un a = abstract_address(listener_names.at(listener), len);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), len) == 0);
    set_timeouts(fd, 10s);
    return fd;
}

namespace {

// send() with MSG_NOSIGNAL on sockets (a test must not die of SIGPIPE when
// the loop has closed its end), write() on anything else.
ssize_t put(int fd, std::string_view bytes) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd, bytes.data(), bytes.size());
    return n;
}

}  // namespace

void write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = put(fd, bytes);
        if (n < 0 && errno == EINTR) continue;
        REQUIRE(n > 0);
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

bool try_write(int fd, std::string_view bytes) {
    return put(fd, bytes) == static_cast<ssize_t>(bytes.size());
}

std::string read_exact(int fd, std::size_t n) {
    std::string s(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::read(fd, s.data() + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
    }
    s.resize(got);
    return s;
}

std::string read_to_end(int fd) {
    std::string s;
    char buf[65536];
    for (;;) {
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        s.append(buf, static_cast<std::size_t>(r));
    }
    return s;
}

bool peer_closed(int fd) {
    // io_uring task work (a ring being torn down, say) interrupts blocking
    // calls of this thread with EINTR.
    char c;
    ssize_t n;
    do n = ::read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

int bytes_queued(int fd) {
    int n = -1;
    ::ioctl(fd, FIONREAD, &n);
    return n;
}

int open_fd_count() {
    int n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

std::string pattern(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x = x * 1103515245u + 12345u;
        s[i] = static_cast<char>('a' + (x >> 16) % 26);
    }
    return s;
}

}  // namespace xs::daemon::testing
