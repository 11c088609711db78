// xstore-top: xstored's live figures, refreshed like top(1), from CONTROL
// stats -j over the daemon's socket. Ctrl-C ends it.
#include <getopt.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "tools/client/xs_client.hpp"
#include "tools/top/screen.hpp"

using namespace xs;

namespace {

constexpr const char* kUsage =
    "Usage: xstore-top [-d SECONDS] [-n COUNT] [-b] [--socket PATH]\n"
    "xstored's live figures (CONTROL stats -j), refreshed every SECONDS (default 2).\n"
    "  -d, --delay SECONDS  time between screens (at least 0.1)\n"
    "  -n, --count COUNT    stop after COUNT screens (default: until Ctrl-C)\n"
    "  -b, --batch          no screen clearing: screens one after another (for logs)\n"
    "      --socket PATH    the daemon's socket (default $XENSTORED_PATH, else\n"
    "                       $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket)\n";

struct Options {
    double delay = 2;
    long count = 0;
    bool batch = false;
    std::string socket;
};

std::string default_socket() {
    if (const char* p = std::getenv("XENSTORED_PATH"); p && *p) return p;
    if (const char* d = std::getenv("XENSTORED_RUNDIR"); d && *d) return std::string(d) + "/socket";
    return "/var/run/xenstored/socket";
}

bool parse(int argc, char** argv, Options& o) {
    const option longs[] = {{"delay", required_argument, nullptr, 'd'}, {"count", required_argument, nullptr, 'n'},
                            {"batch", no_argument, nullptr, 'b'},       {"socket", required_argument, nullptr, 's'},
                            {"help", no_argument, nullptr, 'h'},        {nullptr, 0, nullptr, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "d:n:bh", longs, nullptr)) != -1) {
        char* end = nullptr;
        switch (c) {
            case 'd': o.delay = std::strtod(optarg, &end); break;
            case 'n': o.count = std::strtol(optarg, &end, 10); break;
            case 'b': o.batch = true; break;
            case 's': o.socket = optarg; break;
            case 'h': std::fputs(kUsage, stdout); std::exit(0);
            default: return false;
        }
        if (end && (*end || end == optarg)) return false;
    }
    if (o.socket.empty()) o.socket = default_socket();
    return optind == argc && o.delay >= 0.1 && o.count >= 0;
}

std::size_t terminal_rows() {
    winsize w{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_row > 8) return w.ws_row - 7u;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    std::string err;
    auto ch = client::connect_unix(o.socket, err);
    if (!ch) {
        std::fprintf(stderr, "xstore-top: cannot connect to %s: %s\n", o.socket.c_str(), err.c_str());
        return 1;
    }
    client::Client c(std::move(ch));
    std::optional<top::Json> prev;
    for (long n = 0; o.count == 0 || n < o.count; ++n) {
        if (n) std::this_thread::sleep_for(std::chrono::duration<double>(o.delay));
        auto reply = c.control({"stats", "-j"});
        if (!reply) {
            std::fprintf(stderr, "xstore-top: CONTROL stats -j failed (%s)\n", std::strerror(reply.error().code));
            return 1;
        }
        auto j = top::parse_json(*reply);
        if (!j) {
            std::fputs("xstore-top: the daemon's stats are not JSON this program reads\n", stderr);
            return 1;
        }
        std::string screen = top::render(*j, prev, o.delay, o.batch ? 0 : terminal_rows());
        std::fputs(o.batch ? (n ? "\n" : "") : "\033[H\033[2J", stdout);
        std::fputs(screen.c_str(), stdout);
        std::fflush(stdout);
        prev = std::move(j);
    }
    return 0;
}
