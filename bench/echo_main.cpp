// xstore-echo --socket PATH: see echo_server.hpp.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "bench/echo_server.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

int usage(int rc) {
    std::fprintf(rc ? stderr : stdout,
                 "usage: xstore-echo --socket PATH\n"
                 "Answers every xenstore request on PATH at once with a canned reply: the\n"
                 "benchmark's physical-limit baseline. Stops on SIGINT or SIGTERM.\n");
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    std::string path;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") return usage(0);
        if (a == "--socket" && i + 1 < argc) path = argv[++i];
        else if (a.rfind("--socket=", 0) == 0) path = a.substr(9);
        else return usage(2);
    }
    if (path.empty()) return usage(2);
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    return xs::bench::echo::serve(path, g_stop);
}
