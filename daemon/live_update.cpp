// CONTROL live-update: the session (-f, -c, -a), the held -s request, and
// the turn-by-turn steps to the exec (update_exec.cpp). The replies and
// rules are the C daemon's (cxenstored.md §8.2); what differs is in
// docs/live-update.md: version 2 carries open transactions, so it never
// waits for them.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"

namespace xs::daemon {

// ---------------------------------------------------------------- pure rules

std::optional<StartOptions> parse_start(const Strings& args, std::uint32_t version) {
    StartOptions o;
    o.version = version;
    if (args.count > Strings::kMax) return std::nullopt;
    for (std::size_t i = 1; i < args.count; ++i) {
        std::string_view a = args[i];
        if (a == "-F") {
            o.force = true;
        } else if ((a == "-t" || a == "-v") && i + 1 < args.count) {
            auto v = parse_u32(args[++i]);
            if (!v) return std::nullopt;
            (a == "-t" ? o.timeout_s : o.version) = *v;
        } else {
            return std::nullopt;
        }
    }
    return o;
}

std::vector<std::string> update_argv(const std::string& binary, const std::optional<std::string>& cmdline,
                                     const std::vector<std::string>& argv) {
    std::vector<std::string> out{binary};
    if (cmdline) {
        std::size_t pos = 0;
        while ((pos = cmdline->find_first_not_of(" \t", pos)) != std::string::npos) {
            std::size_t end = cmdline->find_first_of(" \t", pos);
            out.push_back(cmdline->substr(pos, end - pos));
            pos = end;
        }
    } else if (!argv.empty()) {
        out.insert(out.end(), argv.begin() + 1, argv.end());
    }
    if (std::none_of(out.begin() + 1, out.end(), [](const std::string& a) { return a == "-U" || a == "--live-update"; }))
        out.push_back("-U");
    return out;
}

// ---------------------------------------------------------------- CONTROL

Result<> Daemon::control_live_update(Request& r, const Strings& args) {
    if (args.count == 0) return fail(EINVAL);
    std::string_view op = args[0];
    // The stub-domain build takes the image in chunks; the host build a path.
    if (image_update_ && op == "-f") return fail(EINVAL);
    if (!image_update_ && (op == "-b" || op == "-d")) return fail(EINVAL);
    if (op == "-b") {
        if (args.count != 2) return fail(EINVAL);
        set_text(r.out, lu_begin_image(r.conn, args[1]));
        return {};
    }
    if (op == "-d") {
        set_text(r.out, lu_save_chunk(r.conn, r.payload));
        return {};
    }
    if (op == "-f") {
        if (args.count != 2) return fail(EINVAL);
        set_text(r.out, lu_set_binary(r.conn, args[1]));
        return {};
    }
    if (op == "-c") {
        if (args.count != 2) return fail(EINVAL);
        if (!lu_ || lu_->owner != r.conn.id()) {
            set_text(r.out, "Not in live-update session.");
            return {};
        }
        log::info("live update: command line \"%.*s\"", static_cast<int>(args[1].size()), args[1].data());
        lu_->cmdline = std::string(args[1]);
        set_text(r.out, "OK");
        return {};
    }
    if (op == "-a") {
        if (args.count != 1) return fail(EINVAL);
        set_text(r.out, lu_abort());
        return {};
    }
    if (op == "-s") return lu_start(r, args);
    return fail(EINVAL);
}

// CONTROL live-update-stream [1|2]: the stream version the next updates
// write unless their -s says -v. Xen 4.17's xenstore-control never sends -v,
// and Xen 4.17's xenstored reads only version 1: this is how an operator
// moves such a host back to the C daemon.
Result<> Daemon::control_stream_version(Request& r, const Strings& args) {
    if (args.count == 0) {
        set_text(r.out, std::to_string(lu_stream_version_));
        return {};
    }
    auto v = args.count == 1 ? parse_u32(args[0]) : std::nullopt;
    if (!v || *v == 0 || *v > migration::kVersion2) return fail(EINVAL);
    lu_stream_version_ = *v;
    log::info("live update: the next updates write stream version %u", *v);
    set_text(r.out, "OK");
    return {};
}

std::string Daemon::lu_set_binary(const Connection& c, std::string_view file) {
    std::string path(file);
    log::info("live update: binary %s", path.c_str());
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return "File not accessible.";
    if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) return "File not executable.";
    if (lu_) return "live-update session already active.";
    lu_.emplace();
    lu_->owner = c.id();
    // Checked from here; the exec happens in the starting directory
    // (update_exec.cpp), so a relative name is anchored now.
    if (path.front() != '/') {
        if (char* cwd = ::getcwd(nullptr, 0)) {
            path = std::string(cwd) + (cwd[1] ? "/" : "") + path;
            std::free(cwd);
        }
    }
    lu_->binary = std::move(path);
    lu_->prep = std::make_unique<UpdatePrep>(state_path(), state_size_hint());
    return "OK";
}

// Any privileged connection may abort; a held -s is answered at once.
std::string Daemon::lu_abort() {
    log::info("live update: abort");
    if (!lu_) return "No live-update session active.";
    if (lu_->phase == LiveUpdateSession::Phase::Waiting) lu_finish("Cancellation was requested");
    else lu_end();
    return "OK";
}

Result<> Daemon::lu_start(Request& r, const Strings& args) {
    std::optional<StartOptions> o = parse_start(args, lu_stream_version_);
    if (!o) return fail(EINVAL);
    log::info("live update: start, force=%d, timeout=%u s, stream version %u", o->force, o->timeout_s, o->version);
    if (!lu_ || lu_->owner != r.conn.id() || lu_->phase != LiveUpdateSession::Phase::Prepared) {
        set_text(r.out, "Not in live-update session.");
        return {};
    }
    if (o->version == 0 || o->version > migration::kVersion2) {
        set_text(r.out, "Migration stream version not supported.");
        return {};
    }
    if (image_update_ && (lu_->image_size == 0 || lu_->image.size() != lu_->image_size)) {
        set_text(r.out, "No new kernel");  // none, or not all of it arrived
        return {};
    }
    lu_->start = *o;
    lu_->held = r.hdr;
    lu_->started = loop_.now();
    r.replied = true;  // answered by the new process, or here if the update fails
    // Version 2 carries open transactions: nothing to wait for.
    if (o->version >= migration::kVersion2) lu_quiesce();
    else lu_->phase = LiveUpdateSession::Phase::Waiting;
    return {};
}

// ---------------------------------------------------------------- the steps

// Stop taking input everywhere: the loop stops reading sockets and
// accepting, rings are no longer read (what guests write stays in their
// pages), and the exec happens once the loop is quiet.
void Daemon::lu_quiesce() {
    lu_->phase = LiveUpdateSession::Phase::Quiescing;
    loop_.quiesce();
}

// Version 1 cannot carry transactions (C daemon rules): go when none is
// open, or, with -F, when every open one is older than the timeout.
bool Daemon::lu_transactions_allow() const {
    std::size_t open = 0, old = 0;
    auto now = loop_.now();
    for (const auto& [id, c] : conns_) {
        if (c->closing || c->transactions() == 0) continue;
        ++open;
        if (now - c->transactions_since >= std::chrono::seconds(lu_->start.timeout_s)) ++old;
    }
    return open == 0 || (lu_->start.force && old == open);
}

std::string Daemon::lu_transactions_reason() const {
    std::string text;
    auto now = loop_.now();
    for (const auto& [id, c] : conns_) {
        if (c->closing || c->transactions() == 0) continue;
        auto age = std::chrono::duration_cast<std::chrono::seconds>(now - c->transactions_since).count();
        if (age < static_cast<long>(lu_->start.timeout_s)) continue;
        if (text.empty()) text = "Domains with long running transactions:";
        text += log::format("\nDomain %u: %ld s", c->domid(), static_cast<long>(age));
    }
    return text.empty() ? "Overlapping transactions" : text;
}

// Called at the end of every turn; returns when to be woken.
std::optional<Clock::time_point> Daemon::lu_step() {
    if (!lu_) return std::nullopt;
    switch (lu_->phase) {
        case LiveUpdateSession::Phase::Prepared: return std::nullopt;
        case LiveUpdateSession::Phase::Waiting: {
            auto now = loop_.now();
            if (lu_transactions_allow()) {
                lu_quiesce();
                return now;
            }
            if (now < lu_->started + std::chrono::seconds(lu_->start.timeout_s)) return now + std::chrono::seconds(1);
            if (!lu_->start.force) {
                lu_finish(lu_transactions_reason());
                return std::nullopt;
            }
            lu_quiesce();  // forced: their transactions are lost
            return now;
        }
        case LiveUpdateSession::Phase::Quiescing:
            if (!loop_.quiet()) return std::nullopt;
            lu_->quiet = loop_.now();
            // lu_exec and lu_exec_image return only when the exec failed
            lu_finish(image_update_ ? lu_exec_image() : lu_exec());
            return std::nullopt;
    }
    return std::nullopt;
}

// Answer the held -s request (a failure: success is answered by the new
// process) and end the session.
void Daemon::lu_finish(std::string_view reply) {
    log::warning("live update failed: %.*s", static_cast<int>(reply.size()), reply.data());
    if (Connection* c = find(lu_->owner)) {
        std::string text(reply);
        text.push_back('\0');
        send_reply(*c, lu_->held, wire::kControl, text);
    }
    lu_end();
}

// The session ends: a stopped loop serves again, and requests held while
// it waited are processed at the end of the turn (this may run inside a
// handler, whose buffers must not be reused under it).
void Daemon::lu_end() {
    bool was_quiescing = updating();
    bool was_waiting = lu_->phase == LiveUpdateSession::Phase::Waiting;
    lu_.reset();
    if (was_quiescing) loop_.resume();
    if (was_quiescing || was_waiting) resume_input_ = true;
}

// Input that waited during a live update that did not happen.
void Daemon::lu_resume_input() {
    resume_input_ = false;
    for (auto& [id, c] : conns_) {
        if (c->closing) continue;
        if (c->kind() == Connection::Kind::Ring) schedule_ring(*c);
        else process_input(*c);
    }
}

// While a version-1 update waits for transactions to end (and until its
// exec), a connection without one may not start one (C daemon rule); the
// request waits in its input.
bool Daemon::holds_transaction_start(const Connection& c) const {
    if (!lu_ || lu_->phase == LiveUpdateSession::Phase::Prepared || lu_->start.version >= migration::kVersion2 ||
        c.transactions() != 0)
        return false;
    wire::Header h;
    return c.framer.peek(h) && h.type == wire::kTransactionStart;
}

}  // namespace xs::daemon
