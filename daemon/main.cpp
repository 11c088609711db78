// xstored: start-up and shutdown around the event loop. A normal start
// creates the store, the socket and dom0's ring; a start with -U (the exec
// of a live update) takes all of that from the previous daemon's state file
// and the fds it left open.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include "daemon/config/log.hpp"
#include "daemon/config/notify.hpp"
#include "daemon/config/options.hpp"
#include "daemon/config/pidfile.hpp"
#include "daemon/config/signals.hpp"
#include "daemon/daemon.hpp"
#include "daemon/prefault.hpp"
#include "daemon/rollback.hpp"
#include "daemon/state_bytes.hpp"
#include "daemon/update_timeline.hpp"
#include "migration/state.hpp"
#include "transport/hypervisor.hpp"
#include "transport/unix_listener.hpp"
#include "xs_config.h"

using namespace xs;
using namespace xs::daemon;

// A build can tag itself (the live-update tests build a variant).
#ifdef XSTORED_BUILD_TAG
#define XSTORED_NAME "xstored " XSTORED_VERSION " (" XSTORED_BUILD_TAG ")"
#else
#define XSTORED_NAME "xstored " XSTORED_VERSION
#endif

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

// What every start needs around the daemon: pid file, signals, the loop.
struct Process {
    std::optional<PidFile> pid;
    int signal_fd = -1;
    std::unique_ptr<EventLoop> loop;
};

std::optional<Process> set_up(const Config& cfg) {
    Process p;
    if (!cfg.pid_file.empty()) {
        auto f = PidFile::create(cfg.pid_file);
        if (!f) {
            log::error("%s", PidFile::describe_error(cfg.pid_file, f.error()).c_str());
            return std::nullopt;
        }
        p.pid.emplace(std::move(*f));
    }
    auto sigfd = open_signal_fd();
    if (!sigfd) {
        log::error("cannot set up signals: %s", std::strerror(sigfd.error().code));
        return std::nullopt;
    }
    p.signal_fd = *sigfd;
    p.loop = make_loop(cfg);
    if (!p.loop) return std::nullopt;
    return p;
}

int serve(const Config& cfg, Process& p, Daemon& daemon) {
    p.loop->run(daemon);
    notify::stopping();
    ::unlink(cfg.socket_path.c_str());
    log::info("xstored stopped");
    return 0;
}

int run_fresh(const Config& cfg) {
    ::mkdir(cfg.rundir.c_str(), 0755);
    if (!cfg.no_fork) {
        if (auto ok = daemonize(); !ok) {
            log::error("cannot daemonize: %s", std::strerror(ok.error().code));
            return 1;
        }
    }
    std::optional<Process> p = set_up(cfg);
    if (!p) return 1;
    auto listener = transport::listen_unix(cfg.socket_path);
    if (!listener) {
        log::error("cannot listen on %s: %s", cfg.socket_path.c_str(), std::strerror(listener.error().code));
        return 1;
    }
    Daemon daemon(cfg, *p->loop);
    daemon.watch_signals(p->signal_fd);
    attach_domains(daemon, cfg);
    daemon.set_listener(*listener);
    p->loop->add_listener(*listener);
    if (cfg.output_pid) {
        std::printf("%d\n", static_cast<int>(::getpid()));
        std::fflush(stdout);
    }
    log::info(XSTORED_NAME " listening on %s (%s loop)", cfg.socket_path.c_str(), p->loop->name());
    notify::ready(daemon.status_line());  // the socket accepts, dom0's ring is served
    return serve(cfg, *p, daemon);
}

// ---------------------------------------------------------------- -U

bool fd_open(int fd) { return fd >= 0 && ::fcntl(fd, F_GETFD) != -1; }

using Failed = Unexpected<std::string>;

// Every fd the state names must be one this process inherited.
Expected<void, std::string> check_fds(const migration::State& st) {
    auto check = [&](int fd, const char* what) -> Expected<void, std::string> {
        if (fd < 0 || fd_open(fd)) return {};
        return unexpected("the state names fd " + std::to_string(fd) + " (" + what + "), which this process does not have");
    };
    if (auto ok = check(st.global.socket_fd, "the listening socket"); !ok) return ok;
    if (auto ok = check(st.global.evtchn_fd, "event channels"); !ok) return ok;
    for (const migration::Connection& c : st.connections)
        if (c.kind == migration::Connection::Kind::Socket)
            if (auto ok = check(c.fd, "a client socket"); !ok) return ok;
    return {};
}

Expected<migration::State, std::string> read_state(const Config& cfg, const std::string& path) {
    auto t0 = Clock::now();
    Result<StateBytes> file = StateBytes::read(path);
    if (!file) return unexpected("cannot read the state file " + path + ": " + std::strerror(file.error().code));
    DomId priv = cfg.priv_domid.value_or(cfg.master_domid.value_or(0));
    // The nodes about to be made take about as much heap as the stream.
    auto t1 = Clock::now();
    std::thread heap = grow_heap(file->bytes().size());
    auto t2 = Clock::now();
    migration::Parsed<migration::State> st = migration::decode(file->bytes(), priv);
    auto t3 = Clock::now();
    heap.join();
    heap_back_to_normal();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    log::info("live update: %zu bytes of state read in %.1f ms (read %.1f, heap %.1f, decode %.1f, wait %.1f)",
              file->bytes().size(), ms(t0, Clock::now()), ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, Clock::now()));
    if (!st) return unexpected("the state file " + path + " cannot be read: " + st.error().describe());
    if (st->skipped_records) log::info("live update: %zu records of unknown types skipped", st->skipped_records);
    if (auto ok = check_fds(*st); !ok) return unexpected(ok.error());
    return std::move(*st);
}

// The inherited event channels, or (no hypervisor) none. A failure leaves
// the fd and its bindings alone, for the previous binary to take again.
Expected<std::unique_ptr<transport::Hypervisor>, std::string> adopt_hypervisor(int evtchn_fd) {
    if (evtchn_fd < 0) return std::unique_ptr<transport::Hypervisor>();
    std::string why;
    auto hv = transport::Hypervisor::adopt(evtchn_fd, why);
    if (!hv) return unexpected(why);
    return hv;
}

// Everything that can fail, before anything changes: a failure here falls
// back to the previous binary (rollback.hpp) with nothing disturbed.
struct TakeOver {
    migration::State state;
    std::unique_ptr<transport::Hypervisor> hv;
    int listener = -1;
};

Expected<TakeOver, std::string> prepare_take_over(const Config& cfg, const std::string& path) {
    TakeOver t;
    auto st = read_state(cfg, path);
    if (!st) return unexpected(st.error());
    t.state = std::move(*st);
    t.listener = t.state.global.socket_fd;
    if (t.listener < 0) {
        auto l = transport::listen_unix(cfg.socket_path);
        if (!l) return unexpected("cannot listen on " + cfg.socket_path + ": " + std::strerror(l.error().code));
        t.listener = *l;
    }
    auto hv = adopt_hypervisor(t.state.global.evtchn_fd);
    if (!hv) return unexpected(hv.error());
    t.hv = std::move(*hv);
    return t;
}

int run_after_update(const Config& cfg, Clock::time_point entered) {
    auto t0 = Clock::now();
    std::optional<timeline::Before> before = timeline::take();
    std::string path = cfg.rundir + "/" + std::string(kStateFile);
    std::optional<std::string> rolled_back = rollback::reason();
    auto take = prepare_take_over(cfg, path);
    auto read = Clock::now();
    std::optional<Process> p = take ? set_up(cfg) : std::nullopt;
    if (!take || !p) {
        std::string why = take ? "cannot set up the process (see above)" : take.error();
        log::error("live update: %s", why.c_str());
        rollback::fall_back(why);
        return 1;
    }
    Daemon daemon(cfg, *p->loop);
    daemon.watch_signals(p->signal_fd);
    if (take->hv) daemon.attach_hypervisor(std::move(take->hv));
    ::fcntl(take->listener, F_SETFD, FD_CLOEXEC);
    std::size_t conns = take->state.connections.size();
    daemon.set_listener(take->listener);
    daemon.restore(std::move(take->state), rolled_back);
    give_back_unused_heap();
    p->loop->add_listener(take->listener);
    ::unlink(path.c_str());
    rollback::forget();
    // The previous program moved to "/" when it detached; the exec put this
    // one in the starting directory (update_exec.cpp), where a fall-back
    // would have needed it. Names are absolute by now.
    if (!cfg.no_fork) (void)::chdir("/");
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (rolled_back)
        log::error(XSTORED_NAME " back after a failed live update (%s): %zu connections restored in %.1f ms",
                   rolled_back->c_str(), conns, ms);
    else
        log::info(XSTORED_NAME " live-updated: %zu connections restored in %.1f ms (%s loop)", conns, ms,
                  p->loop->name());
    if (before) log::info("live update: %s", timeline::describe(*before, entered, read, Clock::now()).c_str());
    // Same pid, new program: said again, and no second READY=1.
    notify::updated(daemon.status_line() + (rolled_back ? std::string("; back after a failed live update")
                                                        : log::format("; live-updated in %.1f ms", ms)));
    return serve(cfg, *p, daemon);
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

int run(const Config& cfg, Clock::time_point entered) {
    log::init(cfg.no_fork ? log::Sink::Stderr : log::Sink::Syslog, cfg.verbose ? log::Level::Debug : log::Level::Info);
    if (!cfg.trace_file.empty()) {
        log::set_trace_file(cfg.trace_file);
        if (auto ok = log::trace_on(); !ok)
            log::error("cannot open trace file %s: %s", cfg.trace_file.c_str(), std::strerror(ok.error().code));
    }
    for (const std::string& o : cfg.ignored) log::info("option %s has no effect", o.c_str());
    return cfg.live_update ? run_after_update(cfg, entered) : run_fresh(cfg);
}

}  // namespace

int main(int argc, char** argv) {
    auto entered = Clock::now();
    notify::set_sender(&notify::send_datagram);
    ParseOutcome parsed = parse_options(argc, argv, [](const char* name) { return std::getenv(name); });
    if (!parsed.config) {
        std::fputs(parsed.message.c_str(), parsed.exit_code ? stderr : stdout);
        // The exec of a live update with a command line this binary refuses.
        if (parsed.exit_code) rollback::fall_back("the new command line is not valid: " + first_line(parsed.message));
        return parsed.exit_code;
    }
    return run(*parsed.config, entered);
}
