// The optional trace of every request and reply (-T FILE), switchable at run
// time (CONTROL "log on|off") and reopened on SIGHUP for log rotation.
//
// Line format:
//   <YYYY-MM-DD HH:MM:SS.mmm> <IN|OUT> <conn id> (d<domid>) <TYPE> (<payload>)
// with NULs in the payload shown as spaces and other control characters as
// \xNN, so one message is always one line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/domid.hpp"
#include "base/result.hpp"

namespace xs::log {

namespace detail {
inline int trace_fd = -1;
}

// Cheap: the core asks once per request.
inline bool trace_enabled() { return detail::trace_fd >= 0; }

// Remembers the trace file's name (absolute; empty = none). Does not open it.
void set_trace_file(std::string path);
const std::string& trace_file();

// Opens (or reopens) the configured file: append, mode 0600, close-on-exec,
// and writes a "***" separator line. With no file configured: nothing, OK.
Result<> trace_on();
void trace_off();
// SIGHUP: while tracing is on, close and open the file again (after log
// rotation moved it away); while off, nothing.
Result<> reopen();

enum class Direction { In, Out };

// One request or reply. Nothing happens unless trace_enabled().
void trace_io(Direction dir, std::uint64_t conn, DomId dom, std::string_view type, std::string_view payload);
// A free-form line (events dropped, connections stalled, log messages, ...).
void trace_text(std::string_view text);

// Pieces, exposed for tests.
std::string trace_timestamp(std::chrono::system_clock::time_point t);
void append_payload(std::string& out, std::string_view payload);
std::string format_trace_io(std::string_view timestamp, Direction dir, std::uint64_t conn, DomId dom,
                            std::string_view type, std::string_view payload);

}  // namespace xs::log
