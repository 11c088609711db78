#include "bench/stream.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bench/proc_stats.hpp"

namespace xs::bench {

namespace {

class UnixStream final : public Stream {
public:
    explicit UnixStream(int fd) : fd_(fd) {}
    ~UnixStream() override { ::close(fd_); }

    int poll_fd() const override { return fd_; }

    long read_some(char* buf, std::size_t cap) override {
        for (;;) {
            ssize_t n = ::recv(fd_, buf, cap, MSG_DONTWAIT);
            if (n > 0) return n;
            if (n == 0) return -1;
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
    }

    long write_some(const char* buf, std::size_t len) override {
        for (;;) {
            ssize_t n = ::send(fd_, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) return n;
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
    }

    std::optional<pid_t> peer_pid() const override { return bench::peer_pid(fd_); }

private:
    int fd_;
};

}  // namespace

std::unique_ptr<Stream> unix_stream(int fd) { return std::make_unique<UnixStream>(fd); }

int connect_unix_fd(const std::string& path, std::string& err) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        err = "socket path too long: " + path;
        return -1;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = std::strerror(errno);
        return -1;
    }
    // A blocking connect: the C daemon listens with a backlog of 1 and
    // accepts one connection per loop, so a burst of connects must wait.
    int r;
    do {
        r = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
        err = "connect " + path + ": " + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

Checked<std::unique_ptr<Stream>> UnixTransport::open() {
    std::string err;
    int fd = connect_unix_fd(path_, err);
    if (fd < 0) return failed(err);
    // Large buffers let a whole window of requests go out in one send.
    int size = 1 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return unix_stream(fd);
}

}  // namespace xs::bench
