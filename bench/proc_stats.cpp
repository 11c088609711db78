#include "bench/proc_stats.hpp"

#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace xs::bench {

namespace {

std::optional<std::string> slurp(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string proc_path(pid_t pid, const char* leaf) {
    return "/proc/" + std::to_string(pid) + "/" + leaf;
}

}  // namespace

std::optional<pid_t> peer_pid(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid <= 0) return std::nullopt;
    return cred.pid;
}

std::optional<std::string> process_name(pid_t pid) {
    auto s = slurp(proc_path(pid, "comm"));
    if (!s) return std::nullopt;
    while (!s->empty() && (s->back() == '\n' || s->back() == ' ')) s->pop_back();
    return s;
}

std::optional<double> cpu_seconds(pid_t pid) {
    clockid_t clock;
    timespec ts;
    if (::clock_getcpuclockid(pid, &clock) == 0 && ::clock_gettime(clock, &ts) == 0)
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    return cpu_seconds_from_stat(pid);
}

std::optional<double> cpu_seconds_from_stat(pid_t pid) {
    auto s = slurp(proc_path(pid, "stat"));
    if (!s) return std::nullopt;
    // The command name (field 2) may hold spaces and parentheses: fields
    // are counted from the last ')'. utime and stime are fields 14 and 15.
    auto close = s->rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream in(s->substr(close + 1));
    std::string field;
    long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && (in >> field); ++i) {
        if (i == 14) utime = std::stoll(field);
        if (i == 15) stime = std::stoll(field);
    }
    long tick = ::sysconf(_SC_CLK_TCK);
    if (tick <= 0) return std::nullopt;
    return static_cast<double>(utime + stime) / static_cast<double>(tick);
}

std::optional<std::int64_t> status_field_kib(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, name.size(), name) != 0 || line.size() <= name.size() || line[name.size()] != ':')
            continue;
        std::istringstream fields(line.substr(name.size() + 1));
        std::int64_t v;
        if (fields >> v) return v;
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::int64_t> peak_rss_kib(pid_t pid) {
    auto s = slurp(proc_path(pid, "status"));
    return s ? status_field_kib(*s, "VmHWM") : std::nullopt;
}

std::optional<std::int64_t> rss_kib(pid_t pid) {
    auto s = slurp(proc_path(pid, "status"));
    return s ? status_field_kib(*s, "VmRSS") : std::nullopt;
}

std::optional<std::int64_t> anon_rss_kib(pid_t pid) {
    auto s = slurp(proc_path(pid, "status"));
    return s ? status_field_kib(*s, "RssAnon") : std::nullopt;
}

bool reset_peak_rss(pid_t pid) {
    std::ofstream out(proc_path(pid, "clear_refs"));
    if (!out) return false;
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

std::vector<int> cpu_affinity(pid_t pid) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (::sched_getaffinity(pid, sizeof set, &set) != 0) return cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cpus.push_back(c);
    return cpus;
}

std::string placement_label(const std::vector<int>& daemon_cpus, const std::vector<int>& client_cpus) {
    if (daemon_cpus.size() != 1 || client_cpus.size() != 1) return "unpinned";
    return daemon_cpus[0] == client_cpus[0] ? "same-cpu" : "split";
}

}  // namespace xs::bench
