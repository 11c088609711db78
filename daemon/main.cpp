// xstored: start-up and shutdown around the event loop.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "daemon/config/log.hpp"
#include "daemon/config/options.hpp"
#include "daemon/config/pidfile.hpp"
#include "daemon/config/signals.hpp"
#include "daemon/daemon.hpp"
#include "transport/hypervisor.hpp"
#include "transport/unix_listener.hpp"
#include "xs_config.h"

using namespace xs;
using namespace xs::daemon;

namespace {

std::unique_ptr<EventLoop> make_loop(const Config& cfg) {
    LoopOptions opts;
    if (cfg.loop == Config::LoopKind::Epoll) return make_epoll_loop(opts);
    std::string why;
    auto loop = make_uring_loop(opts, why);
    if (loop) return loop;
    if (cfg.loop == Config::LoopKind::IoUring) {
        log::error("io_uring is not available: %s", why.c_str());
        return nullptr;
    }
    log::info("io_uring is not available (%s); using epoll", why.c_str());
    return make_epoll_loop(opts);
}

// Guests need the hypervisor; without one (or without the fake-Xen harness)
// the daemon serves dom0's tools on its socket only.
void attach_domains(Daemon& daemon, const Config& cfg) {
    std::string why;
    auto hv = transport::Hypervisor::open(why);
    if (!hv) {
        log::info("no hypervisor (%s): serving the socket only", why.c_str());
        return;
    }
    daemon.attach_hypervisor(std::move(hv));
    if (cfg.no_domain_init) return;
    if (auto ok = daemon.introduce_store_domain(); !ok)
        log::warning("cannot connect the store domain's own ring (%s, %s): %s", cfg.dom0_kva.c_str(),
                     cfg.dom0_port.c_str(), std::strerror(ok.error().code));
}

int run(const Config& cfg) {
    log::init(cfg.no_fork ? log::Sink::Stderr : log::Sink::Syslog, cfg.verbose ? log::Level::Debug : log::Level::Info);
    if (!cfg.trace_file.empty()) {
        log::set_trace_file(cfg.trace_file);
        if (auto ok = log::trace_on(); !ok)
            log::error("cannot open trace file %s: %s", cfg.trace_file.c_str(), std::strerror(ok.error().code));
    }
    if (cfg.live_update) {
        log::error("live update (-U) is not supported by this build");
        return 1;
    }
    ::mkdir(cfg.rundir.c_str(), 0755);
    if (!cfg.no_fork) {
        if (auto ok = daemonize(); !ok) {
            log::error("cannot daemonize: %s", std::strerror(ok.error().code));
            return 1;
        }
    }
    std::optional<PidFile> pid;
    if (!cfg.pid_file.empty()) {
        auto p = PidFile::create(cfg.pid_file);
        if (!p) {
            log::error("%s", PidFile::describe_error(cfg.pid_file, p.error()).c_str());
            return 1;
        }
        pid.emplace(std::move(*p));
    }
    auto sigfd = open_signal_fd();
    if (!sigfd) {
        log::error("cannot set up signals: %s", std::strerror(sigfd.error().code));
        return 1;
    }
    auto listener = transport::listen_unix(cfg.socket_path);
    if (!listener) {
        log::error("cannot listen on %s: %s", cfg.socket_path.c_str(), std::strerror(listener.error().code));
        return 1;
    }
    std::unique_ptr<EventLoop> loop = make_loop(cfg);
    if (!loop) return 1;
    Daemon daemon(cfg, *loop);
    daemon.watch_signals(*sigfd);
    attach_domains(daemon, cfg);
    loop->add_listener(*listener);
    if (cfg.output_pid) {
        std::printf("%d\n", static_cast<int>(::getpid()));
        std::fflush(stdout);
    }
    log::info("xstored %s listening on %s (%s loop)", XSTORED_VERSION, cfg.socket_path.c_str(), loop->name());
    loop->run(daemon);
    ::unlink(cfg.socket_path.c_str());
    log::info("xstored stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    ParseOutcome parsed = parse_options(argc, argv, [](const char* name) { return std::getenv(name); });
    if (!parsed.config) {
        std::fputs(parsed.message.c_str(), parsed.exit_code ? stderr : stdout);
        return parsed.exit_code;
    }
    return run(*parsed.config);
}
