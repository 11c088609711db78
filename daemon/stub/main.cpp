// xstored-stubdom: the daemon as a xenstore stub domain would run it. Ring
// connections only (no sockets, no io_uring, no files, no exec): a fresh
// start connects the domains that exist (Daemon::start_stub_domain); a
// start with -U restores the state the previous image handed over in
// memory (Platform::take_handover). Every system call is the platform's
// (platform.hpp) or the Xen libraries' (transport/hypervisor.hpp).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "daemon/config/log.hpp"
#include "daemon/config/options.hpp"
#include "daemon/daemon.hpp"
#include "daemon/stub/platform.hpp"
#include "daemon/stub/poll_loop.hpp"
#include "migration/state.hpp"
#include "transport/hypervisor.hpp"
#include "xs_config.h"

using namespace xs;
using namespace xs::daemon;

namespace {

// A build can tag itself (the tests update to a tagged variant).
#ifdef XSTORED_BUILD_TAG
#define STUB_NAME "xstored " XSTORED_VERSION " (stub domain, " XSTORED_BUILD_TAG ")"
#else
#define STUB_NAME "xstored " XSTORED_VERSION " (stub domain)"
#endif

// Options that name files or sockets mean nothing here.
void note_ignored(const Config& cfg) {
    for (const std::string& o : cfg.ignored) log::info("option %s has no effect", o.c_str());
    if (!cfg.pid_file.empty()) log::info("stub domain: no pid file (-F ignored)");
    if (!cfg.trace_file.empty()) log::info("stub domain: no trace file (-T ignored)");
}

int serve(EventLoop& loop, Daemon& daemon) {
    loop.run(daemon);
    log::info("xstored stopped");
    return 0;
}

int run_fresh(const Config& cfg, stub::Platform& platform) {
    std::string why;
    auto hv = transport::Hypervisor::open(why);
    if (!hv) {
        log::error("stub domain: no hypervisor (%s): nothing to serve", why.c_str());
        return 1;
    }
    auto loop = stub::make_poll_loop(platform);
    Daemon daemon(cfg, *loop);
    daemon.use_image_update(platform);
    daemon.attach_hypervisor(std::move(hv));
    std::vector<DomId> ids = daemon.start_stub_domain();
    std::string list;
    for (DomId id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
    log::info(STUB_NAME " serving domains %s (%s loop)", list.empty() ? "(none)" : list.c_str(), loop->name());
    return serve(*loop, daemon);
}

int run_after_update(const Config& cfg, stub::Platform& platform) {
    auto t0 = Clock::now();
    std::string why;
    std::optional<std::string> bytes = platform.take_handover(why);
    if (!bytes) {
        log::error("live update: %s", why.c_str());
        return 1;
    }
    DomId priv = cfg.priv_domid.value_or(cfg.master_domid.value_or(0));
    migration::Parsed<migration::State> st = migration::decode(*bytes, priv);
    if (!st) {
        log::error("live update: the handed-over state cannot be read: %s", st.error().describe().c_str());
        return 1;
    }
    auto hv = transport::Hypervisor::adopt(st->global.evtchn_fd, why);
    if (!hv) {
        log::error("live update: cannot take the event channels over: %s", why.c_str());
        return 1;
    }
    auto loop = stub::make_poll_loop(platform);
    Daemon daemon(cfg, *loop);
    daemon.use_image_update(platform);
    daemon.attach_hypervisor(std::move(hv));
    std::size_t conns = st->connections.size();
    daemon.restore(std::move(*st));
    log::info(STUB_NAME " live-updated: %zu bytes of state, %zu connections restored in %.1f ms", bytes->size(), conns,
              std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    return serve(*loop, daemon);
}

}  // namespace

int main(int argc, char** argv) {
    ParseOutcome parsed = parse_options(argc, argv, [](const char* name) { return std::getenv(name); });
    if (!parsed.config) {
        std::fputs(parsed.message.c_str(), parsed.exit_code ? stderr : stdout);
        return parsed.exit_code;
    }
    const Config& cfg = *parsed.config;
    // A stub domain's log goes to its console.
    log::init(log::Sink::Stderr, cfg.verbose ? log::Level::Debug : log::Level::Info);
    note_ignored(cfg);
    std::unique_ptr<stub::Platform> platform = stub::make_harness_platform();
    return cfg.live_update ? run_after_update(cfg, *platform) : run_fresh(cfg, *platform);
}
