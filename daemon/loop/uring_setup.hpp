// Creating the io_uring instance and proving, before the daemon commits to
// the io_uring backend, that the kernel has every feature the loop uses.
#pragma once

#include <liburing.h>

#include <optional>
#include <string>

#include "daemon/loop/loop.hpp"
#include "daemon/loop/uring_buffers.hpp"

namespace xs::daemon::loop {

// How the kernel runs completion work for the ring's thread, from the
// cheapest: deferred to our next wait (Linux 6.1), cooperative (5.19), or
// at any system call's return (the default).
enum class TaskRun { deferred, cooperative, plain };

// Creates `ring` with the cheapest task-running mode the kernel accepts,
// starting at `best` (tests force the fallbacks). Returns why it failed, or
// nullopt.
std::optional<std::string> create_ring(io_uring& ring, const LoopOptions& opts,
                                       TaskRun best = TaskRun::deferred);

// The mode `ring` was created in.
TaskRun task_run_of(const io_uring& ring);

// Checks the ring features the loop depends on (timeouts passed with the
// wait, no dropped completions).
std::optional<std::string> check_ring_features(const io_uring& ring);

// Runs a multishot receive with provided buffers on a socketpair (Linux
// 6.0; older kernels reject it or treat it as single-shot). The ring must be
// idle; it is idle again afterwards.
std::optional<std::string> probe_multishot_recv(io_uring& ring, ProvidedBuffers& buffers);

// Whether the kernel has queued task work that only an io_uring_enter with
// GETEVENTS runs (rings created with IORING_SETUP_TASKRUN_FLAG).
inline bool task_work_pending(const io_uring& ring) {
    return IO_URING_READ_ONCE(*ring.sq.kflags) & IORING_SQ_TASKRUN;
}

}  // namespace xs::daemon::loop
