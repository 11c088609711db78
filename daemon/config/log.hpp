// Daemon logging: syslog (ident "xstored", LOG_DAEMON) when daemonised,
// stderr in the foreground (-N). Four levels; -V enables debug. Messages are
// also copied to the trace file while tracing is on (see trace.hpp).
#pragma once

#include <cstdarg>
#include <string>
#include <string_view>

#include "daemon/config/ratelimit.hpp"
#include "daemon/config/trace.hpp"

#define XS_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))

namespace xs::log {

enum class Level : int { Error = 0, Warning = 1, Info = 2, Debug = 3 };
enum class Sink { Stderr, Syslog };

namespace detail {
inline int threshold = static_cast<int>(Level::Info);
}

// Chooses the sink (opening syslog for Sink::Syslog) and the most verbose
// level that is written. Before init, messages go to stderr at Info.
void init(Sink sink, Level threshold);
// With Sink::Stderr, when $JOURNAL_STREAM names stderr (systemd connected
// it to the journal), each line starts with its syslog priority ("<6>"), so
// the journal keeps the levels.
void set_level(Level threshold);
// Whether $JOURNAL_STREAM ("<dev>:<inode>") is the file stderr is.
bool stderr_is_journal(const char* journal_stream);
inline Level level() { return static_cast<Level>(detail::threshold); }
inline bool enabled(Level l) { return static_cast<int>(l) <= detail::threshold; }

std::string_view level_name(Level l);  // "error", "warning", "info", "debug"

// The string API.
void write(Level l, std::string_view message);
// The printf API.
void vlog(Level l, const char* fmt, va_list ap) XS_PRINTF(2, 0);
void error(const char* fmt, ...) XS_PRINTF(1, 2);
void warning(const char* fmt, ...) XS_PRINTF(1, 2);
void info(const char* fmt, ...) XS_PRINTF(1, 2);
void debug(const char* fmt, ...) XS_PRINTF(1, 2);

// At most one message per limiter interval per key (a domid, say); the others
// are dropped. Uses the steady clock.
void limited(RateLimiter& limiter, std::uint64_t key, Level l, const char* fmt, ...) XS_PRINTF(4, 5);

// printf into a std::string.
std::string vformat(const char* fmt, va_list ap) XS_PRINTF(1, 0);
std::string format(const char* fmt, ...) XS_PRINTF(1, 2);

}  // namespace xs::log
