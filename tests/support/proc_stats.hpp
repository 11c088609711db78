// What /proc says about a running process: memory, open files, CPU time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace xs::testing {

// Resident set size (VmRSS) in bytes; nullopt when the process is gone.
std::optional<std::size_t> rss_bytes(pid_t pid);
// Number of open file descriptors; nullopt when the process is gone.
std::optional<std::size_t> open_fds(pid_t pid);
// User + system CPU time consumed so far; nullopt when the process is gone.
std::optional<std::chrono::milliseconds> cpu_time(pid_t pid);
// The ids of the process's threads (empty when it is gone).
std::vector<pid_t> threads_of(pid_t pid);

}  // namespace xs::testing
