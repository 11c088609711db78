// xstore-bench: measures a xenstore daemon over its own wire protocol
// engine. See docs/benchmarks.md.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/context.hpp"
#include "bench/options.hpp"
#include "bench/workloads.hpp"

namespace {

std::string default_socket() {
    if (const char* p = std::getenv("XENSTORED_PATH"); p && *p) return p;
    return "/run/xenstored/socket";
}

std::string default_fakexen() {
    const char* p = std::getenv("XSTORE_FAKEXEN");
    return p ? p : "";
}

}  // namespace

int main(int argc, char** argv) {
    using namespace xs::bench;
    std::signal(SIGPIPE, SIG_IGN);
    auto opts = parse_options(std::vector<std::string>(argv + 1, argv + argc), default_socket(), default_fakexen());
    if (!opts) {
        std::fprintf(stderr, "xstore-bench: %s\n\n%s", opts.error().message.c_str(), usage().c_str());
        return 2;
    }
    if (opts->command == "help") {
        std::fputs(usage().c_str(), stdout);
        return 0;
    }
    auto ctx = Context::create(*opts);
    if (!ctx) {
        std::fprintf(stderr, "xstore-bench: %s\n", ctx.error().message.c_str());
        return 1;
    }
    if (!(*ctx)->daemon_pid())
        std::fprintf(stderr, "xstore-bench: daemon pid unknown: no CPU or RSS figures (use --daemon-pid)\n");

    run_workload(**ctx, opts->command);

    if (opts->format != Format::kJson) {
        if (opts->format == Format::kBoth) std::fputs("\n", stdout);
        std::fputs(format_table((*ctx)->results()).c_str(), stdout);
    }
    for (const auto& m : (*ctx)->results())
        if (m.status == kStatusError || m.status == kStatusTimeout) return 1;
    return 0;
}
