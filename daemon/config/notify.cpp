#include "daemon/config/notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace xs::notify {

namespace {

// The protocol is one datagram to the unix socket NOTIFY_SOCKET names ("@"
// first: the abstract namespace). Spoken here rather than through
// libsystemd, whose own dependencies (six more libraries) every start, and
// so every live update's exec, would have to load. NOTIFY_SOCKET stays set
// for a live update's program.
void send(const std::string& msg) {
    if (!enabled()) return;
    const char* path = std::getenv("NOTIFY_SOCKET");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::size_t len = std::strlen(path);
    if (len >= sizeof addr.sun_path) return;
    std::memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    (void)::sendto(fd, msg.data(), msg.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr),
                   static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
    ::close(fd);
}

}  // namespace

// Asked every loop turn: the environment is read once (it does not change).
bool enabled() {
    static const bool on = [] {
        const char* s = std::getenv("NOTIFY_SOCKET");
        return s && *s;
    }();
    return on;
}

std::string message(bool ready, bool main_pid, std::string_view status) {
    std::string m;
    if (ready) m += "READY=1\n";
    if (main_pid) m += "MAINPID=" + std::to_string(::getpid()) + "\n";
    if (!status.empty()) {
        m += "STATUS=";
        for (char c : status) m += c == '\n' ? ' ' : c;  // one line: a newline would start a new field
        m += "\n";
    }
    return m;
}

void ready(std::string_view status) { send(message(true, true, status)); }
void updated(std::string_view status) { send(message(false, true, status)); }
void status(std::string_view status) { send(message(false, false, status)); }
void stopping() { send("STOPPING=1\nSTATUS=stopping\n"); }

}  // namespace xs::notify
