#include "tools/fakexen/wakeup.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace xs::fakexen::wakeup {

namespace {

constexpr const char* kNamePrefix = "xstore-fakexen/";

socklen_t address(Host& host, HandleRef ref, sockaddr_un& addr) {
    addr = {};
    addr.sun_family = AF_UNIX;
    char name[96];
    int n = std::snprintf(name, sizeof name, "%s%016llx/%u/%u", kNamePrefix,
                          static_cast<unsigned long long>(host.header().host_id), ref_slot(ref),
                          ref_gen(ref));
    std::memcpy(addr.sun_path + 1, name, static_cast<std::size_t>(n));  // sun_path[0] = 0
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + static_cast<std::size_t>(n));
}

// The unnamed sockets this process sends doorbells from. A datagram stays
// charged to the socket that sent it until its listener reads it, and a
// socket may have only SO_SNDBUF bytes outstanding: with Linux's default,
// about 280 doorbells. A daemon serving a thousand guests that are all
// waiting has a doorbell outstanding in each of them, so when one socket
// is full (EAGAIN) the doorbell goes out through the next one, opened as
// needed. About one doorbell per handle (one sent after the host lock was
// released may linger until the listener next empties its queue):
// kMaxHandles bounds the pool.
constexpr std::size_t kMaxSenders = 64;

std::mutex senders_mutex;
std::vector<int>& senders() {
    static std::vector<int> fds;
    return fds;
}

bool send_doorbell(const sockaddr_un& addr, socklen_t len) {
    std::lock_guard lock(senders_mutex);
    auto& pool = senders();
    char b = 1;
    for (std::size_t i = 0; i < kMaxSenders; ++i) {
        if (i == pool.size()) {
            int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) return false;
            pool.push_back(fd);
        }
        if (::sendto(pool[i], &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len) >= 0)
            return true;
        if (errno != EAGAIN) return false;
    }
    return false;
}

}  // namespace

int bind_socket(Host& host, HandleRef ref, bool cloexec) {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | (cloexec ? SOCK_CLOEXEC : 0), 0);
    if (fd < 0) return -1;
    sockaddr_un addr;
    socklen_t len = address(host, ref, addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
        int e = errno;
        ::close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

void ring(Host& host, HandleRef ref) {
    sockaddr_un addr;
    socklen_t len = address(host, ref, addr);
    // A dead listener (ECONNREFUSED) just misses the wake-up.
    (void)send_doorbell(addr, len);
}

void drain(int fd) {
    char b[16];
    while (::recv(fd, b, sizeof b, MSG_DONTWAIT) >= 0) {
    }
}

bool alive(Host& host, HandleRef ref) {
    int probe = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return true;  // cannot tell: assume alive
    sockaddr_un addr;
    socklen_t len = address(host, ref, addr);
    bool in_use = ::bind(probe, reinterpret_cast<sockaddr*>(&addr), len) != 0 && errno == EADDRINUSE;
    ::close(probe);  // releases the name again if the bind succeeded
    return in_use;
}

HandleRef ref_of(Host& host, int fd) {
    sockaddr_un addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
    if (len <= offsetof(sockaddr_un, sun_path) + 1 || addr.sun_path[0] != '\0') return 0;
    std::string name(addr.sun_path + 1, len - offsetof(sockaddr_un, sun_path) - 1);
    unsigned long long host_id = 0;
    unsigned slot = 0, gen = 0;
    char tail = 0;
    std::string fmt = std::string(kNamePrefix) + "%16llx/%u/%u%c";
    if (std::sscanf(name.c_str(), fmt.c_str(), &host_id, &slot, &gen, &tail) != 3) return 0;
    if (host_id != host.header().host_id || slot >= kMaxHandles) return 0;
    return make_ref(slot, gen);
}

}  // namespace xs::fakexen::wakeup
