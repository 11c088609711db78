// The daemon's live objects as a migration::State (live update, before the
// exec). The tree is shared, not copied: a snapshot is O(1).
#include <algorithm>

#include "daemon/daemon.hpp"

namespace xs::daemon {

namespace {

std::int64_t steady_ns(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

migration::State Daemon::export_state(std::uint32_t version) {
    migration::State s;
    s.version = version;
    s.global = migration::GlobalData{listener_fd_, hv_ ? hv_->event_fd() : -1};
    s.tree = store_.tree();
    s.generation = store_.generation();
    for (auto& [name, value] : quotas_.named_values(std::nullopt)) s.quotas.emplace_back(name, value);
    std::vector<ConnId> ids;
    for (const auto& [id, c] : conns_)
        if (!c->closing) ids.push_back(id);
    std::sort(ids.begin(), ids.end());  // oldest first, as they were made
    for (ConnId id : ids) {
        s.connections.push_back(export_connection(*conns_.at(id)));
        if (lu_ && lu_->owner == id && updating())
            s.held_reply = migration::State::HeldReply{static_cast<std::uint32_t>(s.connections.size() - 1),
                                                       lu_->held.req_id};
    }
    for (const auto& [id, d] : domains_.all()) s.domains.push_back(export_domain(d));
    s.live_updates = live_updates_;
    fold_requests();
    s.requests = stats_.requests;
    s.quota_refusals = stats_.quota_refusals;
    s.started_ns = stats_.started_ns;
    s.global_max = global_max_.max_seen;
    return s;
}

migration::Connection Daemon::export_connection(const Connection& c) {
    migration::Connection m;
    if (c.kind() == Connection::Kind::Ring) {
        m.kind = migration::Connection::Kind::Ring;
        m.domid = c.domid();
        m.target = c.target();
        m.port = c.ring ? c.ring->port() : 0;
        if (const Domain* d = domains_.find(c.domid())) m.unique_id = d->unique_id;
    } else {
        m.kind = migration::Connection::Kind::Socket;
        m.fd = c.fd;
    }
    m.input.assign(c.framer.unprocessed());
    c.out.for_each([&](const OutMsg& msg, std::size_t sent) {
        m.output.push_back(migration::OutMessage{msg.bytes.substr(sent), msg.reply, msg.source});
        if (sent) m.first_partial = true;
    });
    if (lu_ && lu_->owner == c.id() && updating()) {
        // The answer to the held -s request: the new process sends it once
        // everything is rebuilt.
        std::string ok;
        wire::append_message(ok, wire::Header{wire::kControl, lu_->held.req_id, lu_->held.tx_id, 0},
                             std::string_view("OK", 3));
        m.output.push_back(migration::OutMessage{std::move(ok), true, migration::XsConnection::kNoDomain});
    }
    watches_.for_each_of(c.id(), [&](const watch::Watch& w) {
        m.watches.push_back(migration::Watch{w.strip ? w.path.substr(w.strip) : w.path, w.token, w.depth});
    });
    c.for_each_transaction([&](std::uint32_t id, const store::Transaction& t) {
        m.transactions.push_back(migration::Transaction{id, t.image()});
    });
    m.last_tx_id = c.last_transaction_id();
    m.ignored = c.ignored;
    m.input_paused = c.input_paused;
    return m;
}

migration::Domain Daemon::export_domain(const Domain& d) {
    migration::Domain m;
    m.id = d.id;
    m.features = d.features;
    for (auto& [name, value] : quotas_.overrides(d.id)) m.quotas.emplace_back(name, value);
    m.shutdown_noticed = d.shutdown_noticed;
    m.unique_id = d.unique_id;
    if (cfg_.write_rate && d.credit.last() != Clock::time_point{}) {
        m.credit = d.credit.credit();
        m.credit_time_ns = steady_ns(d.credit.last());
    }
    m.max_seen = d.usage.max_seen;
    return m;
}

}  // namespace xs::daemon
