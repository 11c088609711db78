#include "tools/fakexen/proxy.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "tools/fakexen/mux.hpp"
#include "transport/ring.hpp"

namespace xs::fakexen {

namespace {

int listen_on(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
        int e = errno;
        ::close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int stop_signals_fd() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    return ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

class Proxy {
public:
    Proxy(std::shared_ptr<Guest> g, int listen_fd) : g_(std::move(g)), listen_fd_(listen_fd) {}
    ~Proxy() {
        for (auto& [id, fd] : fds_) ::close(fd);
    }

    // One turn of the loop; false when the proxy must stop.
    bool turn(int signal_fd, int& status);

private:
    bool pump_ring();
    void flush_clients();
    void accept_clients();
    void read_client(Mux::ClientId id, int fd);
    void drop(Mux::ClientId id);

    std::shared_ptr<Guest> g_;
    int listen_fd_;
    Mux mux_;
    std::map<Mux::ClientId, int> fds_;
};

// Move bytes between the mux and the ring until neither way makes progress.
bool Proxy::pump_ring() {
    ring::Interface& page = g_->page();
    for (bool progress = true; progress;) {
        progress = false;
        if (__atomic_load_n(&page.error, __ATOMIC_ACQUIRE) != ring::kErrorNone) {
            std::fprintf(stderr, "xstore-fakexen proxy: the daemon set the ring's error field to %u\n",
                         page.error);
            return false;
        }
        std::string& out = mux_.ring_out();
        if (!out.empty()) {
            auto n = g_->write_raw(out);
            if (!n) return false;
            out.erase(0, *n);
            progress = *n > 0;
        }
        char buf[ring::kRingSize];
        auto n = g_->read_raw(buf, sizeof buf);
        if (!n) return false;
        if (*n > 0) {
            if (!mux_.from_ring(std::string_view(buf, *n))) return false;
            progress = true;
        }
    }
    return true;
}

void Proxy::flush_clients() {
    std::vector<Mux::ClientId> dead;
    for (auto& [id, fd] : fds_) {
        std::string* out = mux_.client_out(id);
        while (out && !out->empty()) {
            ssize_t n = ::send(fd, out->data(), out->size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                out->erase(0, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
            dead.push_back(id);
            break;
        }
        if (out && out->size() > kProxyClientBacklog) dead.push_back(id);
    }
    for (auto id : dead) drop(id);
}

void Proxy::accept_clients() {
    for (;;) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) return;
        fds_[mux_.add_client()] = fd;
    }
}

void Proxy::read_client(Mux::ClientId id, int fd) {
    char buf[16384];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0 || !mux_.from_client(id, std::string_view(buf, static_cast<std::size_t>(n)))) drop(id);
}

void Proxy::drop(Mux::ClientId id) {
    auto it = fds_.find(id);
    if (it == fds_.end()) return;
    ::close(it->second);
    fds_.erase(it);
    mux_.remove_client(id);
}

bool Proxy::turn(int signal_fd, int& status) {
    if (!pump_ring()) {
        status = 1;
        return false;
    }
    flush_clients();
    bool take_more = mux_.ring_out().size() < kProxyRingBacklog;
    std::vector<pollfd> p{{signal_fd, POLLIN, 0}, {g_->event_fd(), POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    std::vector<Mux::ClientId> ids;
    for (auto& [id, fd] : fds_) {
        std::string* out = mux_.client_out(id);
        short ev = static_cast<short>((take_more ? POLLIN : 0) | (out && !out->empty() ? POLLOUT : 0));
        p.push_back({fd, ev, 0});
        ids.push_back(id);
    }
    if (::poll(p.data(), p.size(), -1) < 0 && errno != EINTR) {
        status = 1;
        return false;
    }
    if (p[0].revents) {
        status = 0;
        return false;
    }
    if (p[1].revents) g_->drain();
    if (p[2].revents) accept_clients();
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (p[i + 3].revents & (POLLIN | POLLHUP | POLLERR)) read_client(ids[i], p[i + 3].fd);
    }
    return true;
}

}  // namespace

int run_proxy(std::shared_ptr<Guest> guest, const std::string& listen_path) {
    int sfd = stop_signals_fd();
    int lfd = listen_on(listen_path);
    if (lfd < 0) {
        std::fprintf(stderr, "xstore-fakexen proxy: cannot listen on %s: %s\n", listen_path.c_str(),
                     std::strerror(errno));
        return 1;
    }
    std::printf("listening on %s\n", listen_path.c_str());
    std::fflush(stdout);
    int status = 0;
    {
        Proxy proxy(std::move(guest), lfd);
        while (proxy.turn(sfd, status)) {
        }
    }
    ::close(lfd);
    ::unlink(listen_path.c_str());
    if (sfd >= 0) ::close(sfd);
    return status;
}

}  // namespace xs::fakexen
