#include "daemon/daemon.hpp"

#include <unistd.h>

#include <cerrno>

#include "daemon/config/log.hpp"
#include "daemon/config/signals.hpp"

namespace xs::daemon {


// Handler table, indexed by message type (cxenstored.md §1.3).
const Daemon::HandlerInfo Daemon::kHandlers[wire::kTypeCount] = {
    /* CONTROL */ {&Daemon::on_control, true, false},
    /* DIRECTORY */ {&Daemon::on_directory, false, false},
    /* READ */ {&Daemon::on_read, false, false},
    /* GET_PERMS */ {&Daemon::on_get_perms, false, false},
    /* WATCH */ {&Daemon::on_watch, false, true},
    /* UNWATCH */ {&Daemon::on_unwatch, false, true},
    /* TRANSACTION_START */ {&Daemon::on_transaction_start, false, false},
    /* TRANSACTION_END */ {&Daemon::on_transaction_end, false, false},
    /* INTRODUCE */ {&Daemon::on_introduce, true, false},
    /* RELEASE */ {&Daemon::on_release, true, false},
    /* GET_DOMAIN_PATH */ {&Daemon::on_get_domain_path, false, false},
    /* WRITE */ {&Daemon::on_write, false, false},
    /* MKDIR */ {&Daemon::on_mkdir, false, false},
    /* RM */ {&Daemon::on_rm, false, false},
    /* SET_PERMS */ {&Daemon::on_set_perms, false, false},
    /* WATCH_EVENT */ {nullptr, false, false},
    /* ERROR */ {nullptr, false, false},
    /* IS_DOMAIN_INTRODUCED */ {&Daemon::on_is_domain_introduced, true, false},
    /* RESUME */ {&Daemon::on_resume, true, false},
    /* SET_TARGET */ {&Daemon::on_set_target, true, false},
    /* RESTRICT (removed) */ {nullptr, false, false},
    /* RESET_WATCHES */ {&Daemon::on_reset_watches, false, false},
    /* DIRECTORY_PART */ {&Daemon::on_directory_part, false, false},
    /* GET_FEATURE: checks privilege itself */ {&Daemon::on_get_feature, false, false},
    /* SET_FEATURE */ {&Daemon::on_set_feature, true, false},
    /* GET_QUOTA */ {&Daemon::on_get_quota, true, false},
    /* SET_QUOTA */ {&Daemon::on_set_quota, true, false},
};

Daemon::Daemon(const Config& cfg, EventLoop& loop)
    : cfg_(cfg),
      loop_(loop),
      priv_domid_(cfg.priv_domid.value_or(cfg.master_domid.value_or(0))),
      store_(priv_domid_),
      quotas_(cfg.limits),
      lu_stream_version_(cfg.live_update_stream) {
    // The initial nodes belong to the privileged domain.
    account(store_.tree().tally());
    Domain& priv = domains_.get(priv_domid_);
    priv.introduced = true;
    stats_.started_ns = wall_clock_ns();  // a live update's state may say earlier (restore)
}

// Connections go first: their ring ports unbind and unmap through hv_.
Daemon::~Daemon() {
    conns_.clear();
    closing_.clear();
}

void Daemon::watch_signals(int signal_fd) {
    signal_fd_ = signal_fd;
    loop_.watch_readable(signal_fd, kSignalToken);
}

// ---------------------------------------------------------------- connections

Connection* Daemon::find(ConnId id) {
    auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second.get();
}

Connection& Daemon::add_connection(Connection::Kind kind, DomId domid, bool privileged) {
    ConnId id = next_id_++;
    auto c = std::make_unique<Connection>(id, kind, domid, privileged);
    c->features = kDefaultFeatures;
    Connection& ref = *c;
    conns_.emplace(id, std::move(c));
    return ref;
}

ConnId Daemon::on_accept(int /*listener_fd*/, int fd) {
    if (stopping_) return 0;
    // Socket clients are dom0 tools: privileged, at home in the store domain.
    Connection& c = add_connection(Connection::Kind::Socket, priv_domid_, true);
    c.fd = fd;
    return c.id();
}

// Forget every watch and transaction of a connection, with their charges.
void Daemon::drop_state(Connection& c) {
    std::int64_t count = 0, bytes = 0;
    watches_.for_each_of(c.id(), [&](const watch::Watch& w) {
        ++count;
        bytes += static_cast<std::int64_t>(w.path.size() + w.token.size());
    });
    watches_.remove_all(c.id());
    open_transactions_ -= c.transactions();
    if (Domain* d = charged(c)) {
        d->usage.add(quota::Item::Watches, -count);
        d->usage.add(quota::Item::Transactions, -static_cast<std::int64_t>(c.transactions()));
        d->usage.add(quota::Item::Memory, -bytes - static_cast<std::int64_t>(c.transaction_memory()));
    }
    c.clear_transactions();
}

void Daemon::close(Connection& c) {
    if (c.closing) return;
    c.closing = true;
    if (lu_ && lu_->owner == c.id()) {  // a live-update session dies with its owner
        log::info("live update: session owner gone, session ended");
        lu_end();
    }
    drop_state(c);
    c.out.clear([&](const OutMsg& m) { message_left(c, m); });
    if (c.kind() == Connection::Kind::Socket) loop_.close_socket(c.id());
    closing_.push_back(c.id());
}

void Daemon::on_hangup(ConnId id) {
    if (Connection* c = find(id)) close(*c);
}

// ---------------------------------------------------------------- input

void Daemon::on_receive(ConnId id, std::span<const char> bytes) {
    Connection* c = find(id);
    if (!c || c->closing) return;
    c->framer.feed(std::string_view(bytes.data(), bytes.size()));
    process_input(*c);
}

void Daemon::process_input(Connection& c) {
    wire::Framer::Message m;
    while (!c.input_paused && !c.closing && !c.ignored && !updating() && !holds_transaction_start(c) &&
           c.framer.next(m)) {
        dispatch(c, m.header, m.payload);
        update_flow(c);
    }
    if (c.framer.failed() && !c.closing) {
        log::limited(limiter_, c.id(), log::Level::Error, "Client tried to feed us an oversized message (connection %llu)",
                     static_cast<unsigned long long>(c.id()));
        if (c.kind() == Connection::Kind::Socket) close(c);
    }
}

void Daemon::dispatch(Connection& c, const wire::Header& hdr, std::string_view payload) {
    ++stats_.requests;
    if (log::trace_enabled())
        log::trace_io(log::Direction::In, c.id(), c.domid(), wire::type_name(hdr.type), payload);
    if (hdr.type >= wire::kTypeCount || !kHandlers[hdr.type].fn) return send_error(c, hdr, ENOSYS);
    const HandlerInfo& h = kHandlers[hdr.type];
    if (h.privileged && !c.privileged()) return send_error(c, hdr, EACCES);
    store::Transaction* tx = nullptr;
    if (!h.no_tx && hdr.tx_id != 0) {
        tx = c.transaction(hdr.tx_id);
        if (!tx) return send_error(c, hdr, ENOENT);
    }
    reply_buf_.clear();
    Request r{c, hdr, payload, tx, reply_buf_};
    Result<> res = (this->*h.fn)(r);
    note_result(c, hdr, res);
    if (!res) return send_error(c, hdr, res.error().code);
    if (r.replied) return;
    if (reply_buf_.size() > wire::kPayloadMax) return send_error(c, hdr, E2BIG);
    send_reply(c, hdr, hdr.type, reply_buf_);
}

// ---------------------------------------------------------------- output

void Daemon::send_reply(Connection& c, const wire::Header& hdr, std::uint32_t type, std::string_view payload) {
    if (c.closing) return;
    if (log::trace_enabled()) log::trace_io(log::Direction::Out, c.id(), c.domid(), wire::type_name(type), payload);
    c.out.push_reply(hdr, type, payload);
    if (Domain* d = charged(c)) {
        d->usage.add(quota::Item::Outstanding, 1);
        d->usage.add(quota::Item::Memory, static_cast<std::int64_t>(wire::kHeaderSize + payload.size()));
    }
    mark_dirty(c);
}

void Daemon::send_error(Connection& c, const wire::Header& hdr, int code) {
    std::string_view name = wire::error_name(code);
    std::string payload(name);
    payload.push_back('\0');
    send_reply(c, hdr, wire::kError, payload);
}

void Daemon::message_left(Connection& c, const OutMsg& m) {
    if (Domain* d = charged(c)) d->usage.add(quota::Item::Memory, -static_cast<std::int64_t>(m.bytes.size()));
    DomId who = m.reply ? (charged(c) ? c.domid() : 0xFFFF) : m.source;
    if (who == 0xFFFF) return;
    if (Domain* d = domains_.find(who)) d->usage.add(quota::Item::Outstanding, -1);
}

void Daemon::mark_dirty(Connection& c) {
    if (!c.dirty) {
        c.dirty = true;
        dirty_.push_back(c.id());
    }
}

void Daemon::flush(Connection& c) {
    if (c.closing) return;
    if (c.kind() == Connection::Kind::Ring) {
        flush_ring(c);  // with no output, still the kick for what was read
    } else {
        if (c.out.empty() || c.send_in_flight) return;
        std::size_t n = c.out.gather(c.iov.data(), c.iov.size());
        c.send_in_flight = true;
        loop_.send(c.id(), std::span<const iovec>(c.iov.data(), n));
    }
}

void Daemon::on_sent(ConnId id, std::size_t n) {
    Connection* c = find(id);
    if (!c) return;
    c->send_in_flight = false;
    c->out.consume(n, [&](const OutMsg& m) { message_left(*c, m); });
    if (!c->out.empty()) mark_dirty(*c);
    update_flow(*c);
}

// Input stops while a client may not add work: its unread output is over the
// queue bound (every connection), or, for a guest, its outstanding requests
// or memory reached their quotas. A socket resumes once its output drained
// to half the bound; a ring as soon as it is no longer blocked.
void Daemon::update_flow(Connection& c) {
    if (c.closing) return;
    bool blocked = input_blocked(c);
    if (!c.input_paused && blocked) {
        c.input_paused = true;
        if (c.kind() == Connection::Kind::Socket) loop_.set_reading(c.id(), false);
        else paused_.push_back(c.id());
    } else if (c.input_paused && !blocked) {
        if (c.kind() == Connection::Kind::Socket) {
            if (c.out.cost() > cfg_.socket_queue_bytes / 2) return;
            c.input_paused = false;
            loop_.set_reading(c.id(), true);
            process_input(c);
        } else {
            c.input_paused = false;
            schedule_ring(c);
        }
    }
}

void Daemon::schedule_ring(Connection& c) {
    if (!c.ring_scheduled) {
        c.ring_scheduled = true;
        to_service_.push_back(c.id());
    }
}

// ---------------------------------------------------------------- turns

void Daemon::on_readable(int token) {
    if (token == kEventToken) return on_event_channel();
    if (token == kSignalToken) {
        switch (read_signal(signal_fd_)) {
            case SignalAction::Exit:
                log::info("exiting on signal");
                stopping_ = true;
                loop_.stop();
                break;
            case SignalAction::Reopen: reload(); break;
            case SignalAction::None: break;
        }
    }
}

void Daemon::expire_events() {
    auto now = loop_.now();
    Clock::time_point next{};
    for (auto& [id, c] : conns_) {
        if (c->out.events() == 0) continue;
        c->out.expire(now, [&](const OutMsg& m) {
            log::debug("watch event for domain %u timed out", c->domid());
            message_left(*c, m);
        });
        Clock::time_point d = c->out.next_deadline();
        if (d != Clock::time_point{} && (next == Clock::time_point{} || d < next)) next = d;
    }
    next_deadline_ = next;
}

// Each turn serves dom0's sockets first: their requests are answered as the
// loop delivers them, and with rings to serve or to write to in the turn,
// the replies are sent before that work rather than after it. Otherwise a
// toolstack request waits for the turn's guest work: a slice of the
// guests' requests and a kick to every ring with output. Without guest
// work the replies go with the end of the turn (one submission, not two).
void Daemon::send_socket_replies_first() {
    bool guest_work = !to_service_.empty();
    bool socket_reply = false;
    for (ConnId id : dirty_) {
        const Connection* c = find(id);
        if (!c) continue;
        if (c->kind() == Connection::Kind::Ring) guest_work = true;
        else socket_reply = socket_reply || (!c->out.empty() && !c->send_in_flight);
    }
    if (!guest_work || !socket_reply) return;
    for (ConnId id : dirty_)
        if (Connection* c = find(id); c && c->kind() != Connection::Kind::Ring) flush(*c);
    loop_.submit_sends();
}

void Daemon::on_turn_end() {
    if (next_deadline_ != Clock::time_point{} && next_deadline_ <= loop_.now()) expire_events();
    // Guests paused by flow control may go on once their work drained.
    credit_wake_ = {};
    if (!paused_.empty()) {
        std::vector<ConnId> paused;
        paused.swap(paused_);
        for (ConnId id : paused)
            if (Connection* c = find(id); c && c->input_paused) {
                update_flow(*c);
                if (c->input_paused) paused_.push_back(id);
            }
    }
    if (resume_input_) lu_resume_input();
    send_socket_replies_first();
    service_rings();  // a bounded amount of guest input
    // A live update's next step (it may exec here, or fail and answer).
    std::optional<Clock::time_point> lu_wake = lu_step();
    flush_dirty();
    for (ConnId id : closing_) conns_.erase(id);
    closing_.clear();
    // Wake for the next event deadline, or at once when ring input waits.
    std::optional<Clock::time_point> wake;
    if (next_deadline_ != Clock::time_point{}) wake = next_deadline_;
    if (credit_wake_ != Clock::time_point{} && (!wake || credit_wake_ < *wake)) wake = credit_wake_;
    if (!to_service_.empty() || !dirty_.empty() || resume_input_) wake = loop_.now();
    if (lu_wake && (!wake || *lu_wake < *wake)) wake = lu_wake;
    if (auto w = notify_turn(); w && (!wake || *w < *wake)) wake = w;
    loop_.set_deadline(wake);
}

}  // namespace xs::daemon
