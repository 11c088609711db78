// What the benchmark learns about the daemon process from the kernel:
// its pid (SO_PEERCRED), name, CPU time, resident set and CPU affinity.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xs::bench {

// The pid of the process at the other end of a connected unix socket.
std::optional<pid_t> peer_pid(int fd);

// /proc/<pid>/comm without its newline ("xenstored").
std::optional<std::string> process_name(pid_t pid);

// User plus system CPU seconds of every thread of `pid`: the process CPU
// clock when the kernel lets us read it (ns resolution), else utime+stime
// from /proc/<pid>/stat (clock-tick resolution).
std::optional<double> cpu_seconds(pid_t pid);
// The /proc/<pid>/stat form alone (exposed for testing and comparison).
std::optional<double> cpu_seconds_from_stat(pid_t pid);

// VmHWM and VmRSS from /proc/<pid>/status, in KiB.
std::optional<std::int64_t> peak_rss_kib(pid_t pid);
std::optional<std::int64_t> rss_kib(pid_t pid);
// RssAnon: the resident anonymous memory (heap, stacks), without mapped
// files such as the program, its libraries or a fake-Xen host's tables.
std::optional<std::int64_t> anon_rss_kib(pid_t pid);
// Parse one "Name:   1234 kB" line's number out of a status text.
std::optional<std::int64_t> status_field_kib(const std::string& status_text, const std::string& name);

// Reset VmHWM to the current RSS (write "5" to /proc/<pid>/clear_refs), so
// the next peak_rss_kib() is the peak of the phase that follows. False when
// the kernel refuses (another user's process without the privilege).
bool reset_peak_rss(pid_t pid);

// The CPUs `pid` (0: this process) may run on.
std::vector<int> cpu_affinity(pid_t pid);

// "same-cpu" when both are pinned to the one same CPU, "split" when each is
// pinned to one CPU and they differ, else "unpinned".
std::string placement_label(const std::vector<int>& daemon_cpus, const std::vector<int>& client_cpus);

}  // namespace xs::bench
