#include "tests/support/proc_stats.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace xs::testing {
namespace {

std::string proc_file(pid_t pid, const char* name) {
    return "/proc/" + std::to_string(pid) + "/" + name;
}

}  // namespace

std::optional<std::size_t> rss_bytes(pid_t pid) {
    std::ifstream in(proc_file(pid, "status"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            std::istringstream fields(line.substr(6));
            std::size_t kib = 0;
            if (fields >> kib) return kib * 1024;
        }
    }
    return std::nullopt;
}

std::optional<std::size_t> open_fds(pid_t pid) {
    std::error_code ec;
    std::filesystem::directory_iterator it(proc_file(pid, "fd"), ec);
    if (ec) return std::nullopt;
    std::size_t n = 0;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (ec) return std::nullopt;
        ++n;
    }
    return n;
}

std::optional<std::chrono::milliseconds> cpu_time(pid_t pid) {
    std::ifstream in(proc_file(pid, "stat"));
    std::string text;
    if (!std::getline(in, text)) return std::nullopt;
    // The command name (field 2) may contain spaces: skip past its ')'.
    std::size_t close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(text.substr(close + 2));
    std::string skip;
    // Fields 3..13 precede utime (14) and stime (15).
    for (int i = 3; i <= 13; ++i) fields >> skip;
    unsigned long long utime = 0, stime = 0;
    if (!(fields >> utime >> stime)) return std::nullopt;
    long hz = ::sysconf(_SC_CLK_TCK);
    if (hz <= 0) hz = 100;
    return std::chrono::milliseconds((utime + stime) * 1000 / static_cast<unsigned long long>(hz));
}

std::vector<pid_t> threads_of(pid_t pid) {
    std::vector<pid_t> tids;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(proc_file(pid, "task"), ec))
        tids.push_back(static_cast<pid_t>(std::stol(e.path().filename().string())));
    return tids;
}

}  // namespace xs::testing
