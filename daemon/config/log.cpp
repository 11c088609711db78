#include "daemon/config/log.hpp"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace xs::log {
namespace {

Sink g_sink = Sink::Stderr;
bool g_journal = false;  // stderr is systemd's journal: lines carry "<priority>"

int syslog_priority(Level l) {
    switch (l) {
    case Level::Error: return LOG_ERR;
    case Level::Warning: return LOG_WARNING;
    case Level::Info: return LOG_INFO;
    case Level::Debug: return LOG_DEBUG;
    }
    return LOG_ERR;
}

}  // namespace

bool stderr_is_journal(const char* journal_stream) {
    unsigned long long dev = 0, ino = 0;
    struct stat st;
    if (!journal_stream || std::sscanf(journal_stream, "%llu:%llu", &dev, &ino) != 2) return false;
    return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void init(Sink sink, Level threshold) {
    g_journal = sink == Sink::Stderr && stderr_is_journal(std::getenv("JOURNAL_STREAM"));
    if (sink == Sink::Syslog && g_sink != Sink::Syslog) openlog("xstored", LOG_PID, LOG_DAEMON);
    if (sink != Sink::Syslog && g_sink == Sink::Syslog) closelog();
    g_sink = sink;
    set_level(threshold);
}

void set_level(Level threshold) { detail::threshold = static_cast<int>(threshold); }

std::string_view level_name(Level l) {
    switch (l) {
    case Level::Error: return "error";
    case Level::Warning: return "warning";
    case Level::Info: return "info";
    case Level::Debug: return "debug";
    }
    return "error";
}

void write(Level l, std::string_view message) {
    if (!enabled(l)) return;
    std::string line;
    line.reserve(message.size() + 24);
    line += level_name(l);
    line += ": ";
    line += message;
    if (trace_enabled()) trace_text(line);
    if (g_sink == Sink::Syslog) {
        syslog(syslog_priority(l), "%s", line.c_str());
        return;
    }
    line.insert(0, "xstored: ");
    if (g_journal) line.insert(0, "<" + std::to_string(syslog_priority(l)) + ">");
    line += '\n';
    // One write per message, so lines from several processes do not mix.
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

std::string vformat(const char* fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    char small[256];
    int n = std::vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (n < 0) return std::string();
    if (static_cast<std::size_t>(n) < sizeof small) return std::string(small, static_cast<std::size_t>(n));
    std::string out(static_cast<std::size_t>(n), '\0');
    std::vsnprintf(out.data(), out.size() + 1, fmt, ap);
    return out;
}

std::string format(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::string s = vformat(fmt, ap);
    va_end(ap);
    return s;
}

void vlog(Level l, const char* fmt, va_list ap) {
    if (enabled(l)) write(l, vformat(fmt, ap));
}

#define XS_LOG_AT(func, level)           \
    void func(const char* fmt, ...) {    \
        va_list ap;                      \
        va_start(ap, fmt);               \
        vlog(level, fmt, ap);            \
        va_end(ap);                      \
    }
XS_LOG_AT(error, Level::Error)
XS_LOG_AT(warning, Level::Warning)
XS_LOG_AT(info, Level::Info)
XS_LOG_AT(debug, Level::Debug)
#undef XS_LOG_AT

void limited(RateLimiter& limiter, std::uint64_t key, Level l, const char* fmt, ...) {
    if (!enabled(l)) return;
    auto refused = limiter.allow(key, RateLimiter::Clock::now());
    if (!refused) return;
    va_list ap;
    va_start(ap, fmt);
    std::string msg = vformat(fmt, ap);
    va_end(ap);
    if (*refused > 0) msg += format(" (%u similar messages suppressed)", *refused);
    write(l, msg);
}

}  // namespace xs::log
