#include "tests/support/live_update.hpp"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "tests/support/env.hpp"

namespace xs::testing {

namespace {

std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

}  // namespace

std::string xenstore_control_bin() { return env_or("XENSTORE_CONTROL", "/usr/lib/xen-4.17/bin/xenstore-control"); }
std::string xstored_variant_bin() { return env_or("XSTORED_VARIANT_BIN", ""); }

CommandResult xenstore_control_update(const Daemon& d, const std::string& binary,
                                      const std::vector<std::string>& options) {
    std::vector<std::string> argv{xenstore_control_bin(), "live-update"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(binary);
    // Debian's client with Debian's libraries: not the fake-Xen ones the
    // daemon under test loads (in a sanitizer build those need the
    // sanitizer's runtime first).
    return run_command(argv, {{"XENSTORED_PATH", d.socket_path()}, {"LD_LIBRARY_PATH", ""}},
                       scaled(std::chrono::seconds(60)));
}

std::string live_update(Client& c, const UpdateRequest& r) {
    auto step = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "live-update");
        auto reply = c.control(args);
        return reply ? *reply : std::string(wire::error_name(reply.error().code));
    };
    std::string got = step({"-f", r.binary});
    if (got != "OK") return got;
    if (r.cmdline) {
        got = step({"-c", *r.cmdline});
        if (got != "OK") {
            step({"-a"});
            return got;
        }
    }
    std::vector<std::string> start{"-s"};
    start.insert(start.end(), r.start.begin(), r.start.end());
    got = step(start);
    if (got != "OK") step({"-a"});
    return got;
}

std::string exe_of(pid_t pid) {
    char buf[PATH_MAX];
    ssize_t n = ::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), buf, sizeof buf - 1);
    return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

std::vector<std::string> cmdline_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos < all.size();) {
        std::size_t nul = all.find('\0', pos);
        if (nul == std::string::npos) nul = all.size();
        out.push_back(all.substr(pos, nul - pos));
        pos = nul + 1;
    }
    return out;
}

std::size_t updates_logged(const Daemon& d) {
    std::string log = d.stderr_text();
    std::size_t n = 0;
    for (std::size_t at = 0; (at = log.find("live-updated:", at)) != std::string::npos; ++at) ++n;
    return n;
}

}  // namespace xs::testing
