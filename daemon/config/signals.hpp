// The signals the daemon reacts to, delivered as reads from a signalfd so the
// event loop handles them like any other readable fd (no work in a signal
// handler): SIGTERM and SIGINT ask for a clean exit, SIGHUP for reopening the
// trace file. SIGPIPE is ignored (a vanished client is seen as a failed send).
#pragma once

#include "base/result.hpp"

namespace xs::daemon {

enum class SignalAction { None, Exit, Reopen };

// Blocks SIGTERM, SIGINT and SIGHUP, ignores SIGPIPE, and returns a
// non-blocking, close-on-exec signalfd for the blocked three.
Result<int> open_signal_fd();
// Reads one pending signal from that fd: what to do about it, or None when
// nothing is pending.
SignalAction read_signal(int fd);
// What a signal number asks for.
SignalAction action_for(int signo);

// Live update. Whether a stop (SIGTERM, SIGINT) is pending: the update then
// gives way to it.
bool stop_pending();
// Just before exec: the new program, whatever it is, starts with these
// signals unblocked (a program that does not use a signalfd would never see
// them otherwise). SIGHUP is ignored until the new program sets it up (its
// default would end the daemon); a stop arriving now ends it as asked.
void release_signals_for_exec();
// The exec failed: back to the signalfd's arrangement.
void reclaim_signals();

}  // namespace xs::daemon
