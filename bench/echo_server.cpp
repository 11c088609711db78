#include "bench/echo_server.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "transport/wire.hpp"

namespace xs::bench::echo {

std::string_view canned_reply(std::uint32_t type) {
    using namespace std::string_view_literals;
    switch (type) {
    case wire::kTransactionStart: return "1\0"sv;
    case wire::kDirectoryPart: return "0\0\0"sv;
    default: return "OK\0"sv;
    }
}

long answer_requests(std::string_view in, std::string& out) {
    std::size_t pos = 0;
    while (in.size() - pos >= wire::kHeaderSize) {
        wire::Header h;
        std::memcpy(&h, in.data() + pos, sizeof h);
        if (h.len > wire::kPayloadMax) return -1;
        if (in.size() - pos < wire::kHeaderSize + h.len) break;
        pos += wire::kHeaderSize + h.len;
        wire::append_message(out, wire::Header{h.type, h.req_id, h.tx_id, 0}, canned_reply(h.type));
    }
    return static_cast<long>(pos);
}

namespace {

constexpr std::size_t kReadChunk = 256 * 1024;
// Stop reading from a client that does not read its replies.
constexpr std::size_t kMaxPendingOut = 8u << 20;

struct Client {
    int fd;
    std::vector<char> in = std::vector<char>(kReadChunk);
    std::size_t in_len = 0;
    std::string out;
    std::size_t out_pos = 0;
    bool want_out = false;
};

class Server {
public:
    explicit Server(volatile std::sig_atomic_t& stop) : stop_(stop) {}
    ~Server() {
        for (auto& c : clients_)
            if (c) ::close(c->fd);
        if (listen_fd_ >= 0) ::close(listen_fd_);
        if (ep_ >= 0) ::close(ep_);
    }

    bool listen_on(const std::string& path);
    int loop();

private:
    void accept_all();
    // False when the client is gone.
    bool on_readable(Client& c);
    bool flush(Client& c);
    void drop(Client* c);
    void set_out_interest(Client& c, bool want);

    volatile std::sig_atomic_t& stop_;
    int ep_ = -1;
    int listen_fd_ = -1;
    std::vector<std::unique_ptr<Client>> clients_;
};

bool Server::listen_on(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        std::fprintf(stderr, "xstore-echo: socket path too long\n");
        return false;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::unlink(path.c_str());
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 128) != 0) {
        std::fprintf(stderr, "xstore-echo: %s: %s\n", path.c_str(), std::strerror(errno));
        return false;
    }
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // nullptr marks the listening socket
    return ep_ >= 0 && ::epoll_ctl(ep_, EPOLL_CTL_ADD, listen_fd_, &ev) == 0;
}

void Server::accept_all() {
    for (;;) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        auto c = std::make_unique<Client>();
        c->fd = fd;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = c.get();
        if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            ::close(fd);
            continue;
        }
        clients_.push_back(std::move(c));
    }
}

void Server::set_out_interest(Client& c, bool want) {
    if (c.want_out == want) return;
    c.want_out = want;
    epoll_event ev{};
    // While output is stuck, stop reading too: the client is not keeping up.
    ev.events = want ? EPOLLOUT : EPOLLIN;
    ev.data.ptr = &c;
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
}

bool Server::flush(Client& c) {
    while (c.out_pos < c.out.size()) {
        ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
            break;
        }
        c.out_pos += static_cast<std::size_t>(n);
    }
    if (c.out_pos == c.out.size()) {
        c.out.clear();
        c.out_pos = 0;
    }
    set_out_interest(c, c.out.size() - c.out_pos > kMaxPendingOut);
    return true;
}

bool Server::on_readable(Client& c) {
    for (int rounds = 0; rounds < 4; ++rounds) {
        std::size_t room = c.in.size() - c.in_len;
        ssize_t n = ::recv(c.fd, c.in.data() + c.in_len, room, MSG_DONTWAIT);
        if (n == 0) return false;
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        c.in_len += static_cast<std::size_t>(n);
        long used = answer_requests(std::string_view(c.in.data(), c.in_len), c.out);
        if (used < 0) return false;  // oversized request: drop the client, as the daemons do
        std::memmove(c.in.data(), c.in.data() + used, c.in_len - static_cast<std::size_t>(used));
        c.in_len -= static_cast<std::size_t>(used);
        if (static_cast<std::size_t>(n) < room) break;  // the kernel had no more
    }
    return true;
}

void Server::drop(Client* c) {
    ::close(c->fd);
    for (auto& p : clients_) {
        if (p.get() == c) {
            p = std::move(clients_.back());
            clients_.pop_back();
            return;
        }
    }
}

int Server::loop() {
    epoll_event events[256];
    while (!stop_) {
        int n = ::epoll_wait(ep_, events, 256, 500);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::perror("xstore-echo: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; ++i) {
            auto* c = static_cast<Client*>(events[i].data.ptr);
            if (c == nullptr) {
                accept_all();
                continue;
            }
            bool alive = (events[i].events & EPOLLOUT) ? true : on_readable(*c);
            if (alive) alive = flush(*c);
            if (!alive) drop(c);
        }
    }
    return 0;
}

}  // namespace

int serve(const std::string& socket_path, volatile std::sig_atomic_t& stop) {
    Server s(stop);
    if (!s.listen_on(socket_path)) return 1;
    int rc = s.loop();
    ::unlink(socket_path.c_str());
    return rc;
}

}  // namespace xs::bench::echo
