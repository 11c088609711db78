#include "daemon/config/trace.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

namespace xs::log {
namespace {

std::string g_path;

void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a full disk must not stop the daemon
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

// One buffer reused for every line: tracing allocates only while lines grow.
std::string& line_buffer() {
    static std::string buf;
    buf.clear();
    return buf;
}

}  // namespace

void set_trace_file(std::string path) { g_path = std::move(path); }

const std::string& trace_file() { return g_path; }

Result<> trace_on() {
    if (g_path.empty()) return {};
    int fd = ::open(g_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return fail(errno);
    trace_off();
    detail::trace_fd = fd;
    write_all(fd, "\n***\n");
    return {};
}

void trace_off() {
    if (detail::trace_fd >= 0) ::close(detail::trace_fd);
    detail::trace_fd = -1;
}

Result<> reopen() {
    if (!trace_enabled()) return {};
    return trace_on();
}

std::string trace_timestamp(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const std::time_t secs = system_clock::to_time_t(t);
    const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count() % 1000;
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03d", static_cast<int>(ms < 0 ? ms + 1000 : ms));
    return buf;
}

void append_payload(std::string& out, std::string_view payload) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char c : payload) {
        if (c == '\0') {
            out += ' ';
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
}

namespace {
void append_io(std::string& out, std::string_view timestamp, Direction dir, std::uint64_t conn, DomId dom,
               std::string_view type, std::string_view payload) {
    out += timestamp;
    out += dir == Direction::In ? " IN " : " OUT ";
    out += std::to_string(conn);
    out += " (d";
    out += std::to_string(dom);
    out += ") ";
    out += type;
    out += " (";
    append_payload(out, payload);
    out += ")\n";
}
}  // namespace

std::string format_trace_io(std::string_view timestamp, Direction dir, std::uint64_t conn, DomId dom,
                            std::string_view type, std::string_view payload) {
    std::string out;
    append_io(out, timestamp, dir, conn, dom, type, payload);
    return out;
}

void trace_io(Direction dir, std::uint64_t conn, DomId dom, std::string_view type, std::string_view payload) {
    if (!trace_enabled()) return;
    std::string& line = line_buffer();
    append_io(line, trace_timestamp(std::chrono::system_clock::now()), dir, conn, dom, type, payload);
    write_all(detail::trace_fd, line);
}

void trace_text(std::string_view text) {
    if (!trace_enabled()) return;
    std::string& line = line_buffer();
    line += trace_timestamp(std::chrono::system_clock::now());
    line += ' ';
    append_payload(line, text);
    line += '\n';
    write_all(detail::trace_fd, line);
}

}  // namespace xs::log
