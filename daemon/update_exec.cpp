// The exec of a live update: the state file, what the new process
// inherits (the listening socket, every client socket, the event-channel
// fd with its bindings), and the undoing of all that when the exec fails,
// so the daemon keeps serving and a later update can succeed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/config/log.hpp"
#include "daemon/config/signals.hpp"
#include "daemon/daemon.hpp"
#include "daemon/rollback.hpp"
#include "daemon/update_timeline.hpp"

namespace xs::daemon {

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

void set_cloexec(int fd, bool on) {
    if (fd >= 0) ::fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0);
}

Result<> write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail(n < 0 ? errno : EIO);
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

// What the exec changes in this process, undone if it fails. The new
// program reads the same command line, so it starts in the directory this
// one was started in (a detached daemon has moved to "/"): relative names
// mean the same files to it.
class ExecScope {
public:
    ExecScope(std::vector<int> fds, transport::Hypervisor* hv, std::uint32_t virq, const Config& cfg)
        : fds_(std::move(fds)), hv_(hv), virq_(virq) {
        for (int fd : fds_) set_cloexec(fd, false);
        cwd_fd_ = ::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!cfg.start_dir.empty() && ::chdir(cfg.start_dir.c_str()) < 0)
            log::warning("live update: cannot change to %s, where relative names on the command line start: %s",
                         cfg.start_dir.c_str(), std::strerror(errno));
        const std::vector<std::string>& argv = cfg.argv;
        if (!rollback::arm(argv)) log::warning("live update: no way back to this binary if the new one fails");
        // The new daemon binds VIRQ_DOM_EXC itself (one binding per domain).
        if (hv_ && virq_ != ~0u) hv_->unbind(virq_);
        release_signals_for_exec();
    }
    ~ExecScope() {
        if (cwd_fd_ >= 0) ::close(cwd_fd_);
    }
    // Back to serving: the directory, signals,
    // close-on-exec, and domain deaths noticed again (the C daemon forgets
    // the last one).
    std::uint32_t undo() {
        if (cwd_fd_ >= 0) (void)::fchdir(cwd_fd_);
        rollback::disarm();
        reclaim_signals();
        for (int fd : fds_) set_cloexec(fd, true);
        if (!hv_ || virq_ == ~0u) return virq_;
        auto port = hv_->bind_dom_exc();
        if (!port) log::error("live update: cannot bind VIRQ_DOM_EXC again: %s", std::strerror(port.error().code));
        return port ? *port : ~0u;
    }

private:
    std::vector<int> fds_;
    transport::Hypervisor* hv_;
    std::uint32_t virq_;
    int cwd_fd_ = -1;  // where this process was (closed by the exec)
};

}  // namespace

// About what the stream will take: node records and paths (the accounts
// hold their sum) with the stream's per-node overhead, and queued output.
std::size_t Daemon::state_size_hint() const {
    std::int64_t nodes = 0, bytes = 0;
    for (const auto& [id, d] : domains_.all()) {
        nodes += d.usage[quota::Item::Nodes];
        bytes += d.node_bytes;
    }
    std::size_t out = 0;
    for (const auto& [id, c] : conns_) out += c->out.bytes() + c->framer.pending_bytes() + 256;
    return static_cast<std::size_t>(bytes + 16 * nodes) + out + 65536;
}

std::string Daemon::state_path() const { return cfg_.rundir + "/" + std::string(kStateFile); }

// The state file, or the reply that says why it could not be written. The
// buffer and the file come readied from -f on (UpdatePrep).
Expected<std::string, std::string> Daemon::write_state_file() {
    auto t0 = Clock::now();
    migration::State st = export_state(lu_->start.version);
    auto t1 = Clock::now();
    auto bytes = migration::encode(st, migration::WriterOptions{lu_->start.version}, lu_->prep->take_buffer());
    if (!bytes) return unexpected("Dump error: " + bytes.error());
    auto t2 = Clock::now();
    std::string path = state_path();
    int fd = lu_->prep->take_file();
    if (fd < 0) fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return unexpected(std::string("Dump state open error: ") + path + ": " + std::strerror(errno));
    Result<> ok = ::fchmod(fd, 0600) < 0 ? fail(errno) : write_all(fd, *bytes);
    if (ok && ::ftruncate(fd, static_cast<off_t>(bytes->size())) < 0) ok = fail(errno);
    ::close(fd);
    if (!ok) {
        ::unlink(path.c_str());
        return unexpected(std::string("Dump write error: ") + path + ": " + std::strerror(ok.error().code));
    }
    log::info("live update: state written to %s (%zu bytes, stream version %u) in %.1f ms "
              "(collect %.1f, encode %.1f, write %.1f)",
              path.c_str(), bytes->size(), lu_->start.version, ms_since(t0),
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              std::chrono::duration<double, std::milli>(t2 - t1).count(), ms_since(t2));
    return path;
}

// Before a version-1 stream: handle every complete request still waiting
// in an input buffer (flow control may have held them back). Xen 4.17's
// daemon restores such requests as delayed ones, which it handles after a
// request that completes later from the same guest: their replies would
// come out of order. A TRANSACTION_START held by the version-1 wait stays
// held (with everything behind it).
void Daemon::lu_drain_input() {
    for (auto& [id, c] : conns_) {
        wire::Framer::Message m;
        while (!c->closing && !c->ignored && !holds_transaction_start(*c) && c->framer.next(m))
            dispatch(*c, m.header, m.payload);
    }
}

std::string Daemon::lu_exec() {
    if (stop_pending()) return "Cancelled: the daemon is stopping.";
    if (lu_->start.version < migration::kVersion2) lu_drain_input();
    auto path = write_state_file();
    if (!path) return path.error();
    std::vector<std::string> args = update_argv(lu_->binary, lu_->cmdline, cfg_.argv);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<int> fds{listener_fd_};
    for (const auto& [id, c] : conns_)
        if (!c->closing && c->kind() == Connection::Kind::Socket) fds.push_back(c->fd);
    // Kicks still owed for requests read this turn: the new process does
    // not know of them.
    for (const auto& [id, c] : conns_)
        if (c->ring && c->ring->notify_pending()) c->ring->notify();
    log::info("live update: exec %s, %.1f ms after -s", lu_->binary.c_str(), ms_since(lu_->started));
    ExecScope scope(std::move(fds), hv_.get(), virq_port_, cfg_);
    timeline::pass({lu_->started, lu_->quiet, loop_.now()});
    // execv, not execvp: the binary was named by its path at -f, and execvp would
    // hand a file the kernel cannot run to /bin/sh instead of failing.
    ::execv(argv[0], argv.data());
    int err = errno;
    timeline::withdraw();
    virq_port_ = scope.undo();
    ::unlink(path->c_str());
    return "Error activating new binary.\n" + lu_->binary + ": " + std::strerror(err);
}

}  // namespace xs::daemon
