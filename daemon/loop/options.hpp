// Bounds and tuning constants shared by both loop backends.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "daemon/loop/loop.hpp"

namespace xs::daemon::loop {

// The kernel's own ceilings: io_uring rings hold at most 32768 entries, a
// provided-buffer ring likewise, and a buffer id is 16 bits.
inline constexpr unsigned kMaxQueueDepth = 32768;
inline constexpr unsigned kMaxRecvBuffers = 32768;
// A receive buffer larger than this only wastes memory: requests are at most
// 4 KiB plus a header, and a bigger buffer does not save system calls.
inline constexpr unsigned kMaxRecvBufferSize = 1u << 20;

// After accept() fails for lack of resources (EMFILE, ENFILE, ENOMEM,
// ENOBUFS) the pending connection stays queued; retrying at once would spin.
inline constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

// epoll backend: reads of a full buffer on one socket per wakeup, and
// accepts per listener per wakeup, before other sockets get their turn.
inline constexpr int kMaxReadsPerWakeup = 16;
inline constexpr int kMaxAcceptsPerWakeup = 64;

// Why `opts` cannot be used, or nullopt when it can.
std::optional<std::string> check_options(const LoopOptions& opts);

}  // namespace xs::daemon::loop
