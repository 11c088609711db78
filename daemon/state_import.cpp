// The new process of a live update: the daemon's live objects rebuilt from
// a migration::State (decode() has checked it), then every usage counter
// recounted from what was rebuilt. Rings are mapped again at their saved
// event-channel ports (the bindings live in the inherited fd); a ring that
// cannot be mapped is kept but ignored, so @releaseDomain still fires when
// its domain dies (as the C daemon does).
#include <fcntl.h>

#include <atomic>
#include <cstring>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"
#include "store/path.hpp"

namespace xs::daemon {

namespace {

// A rolled-back update: the held request's "OK" becomes the reason.
void answer_with(migration::State& st, const std::string& reason) {
    if (!st.held_reply) return;
    migration::Connection& c = st.connections[st.held_reply->conn];
    migration::OutMessage& last = c.output.back();
    std::string text = "Error activating new binary.\nThe new binary could not take over (" + reason +
                       "); the previous binary was restored.";
    text.push_back('\0');
    last.bytes.clear();
    wire::append_message(last.bytes, wire::Header{wire::kControl, st.held_reply->req_id, 0, 0}, text);
}

}  // namespace

void Daemon::restore(migration::State st, const std::optional<std::string>& rolled_back) {
    if (rolled_back) answer_with(st, *rolled_back);
    store_.install(std::move(st.tree));
    store_.generation() = st.generation;
    domains_ = Domains{};
    quotas_ = quota::Table(cfg_.limits);
    for (const auto& [name, value] : st.quotas) (void)quotas_.set(std::nullopt, name, value);  // unknown names: ignored
    for (const migration::Domain& d : st.domains) restore_domain(d, st.version);
    domains_.get(priv_domid_).introduced = true;
    for (migration::Connection& c : st.connections) restore_connection(c, st);
    recount_usage(st.tally);
    for (const migration::Domain& d : st.domains)
        for (quota::Item item : quota::kItems)
            domains_.get(d.id).usage.observe(item, d.max_seen[quota::index(item)]);
    for (quota::Item item : quota::kItems) global_max_.observe(item, st.global_max[quota::index(item)]);
    live_updates_ = st.live_updates + (rolled_back ? 0 : 1);
    stats_.requests = stats_.folded = st.requests;
    stats_.quota_refusals = st.quota_refusals;
    if (st.started_ns) stats_.started_ns = st.started_ns;  // else: counting began at this start
    // Whatever waited while the old daemon stopped: queued output goes out,
    // requests guests wrote meanwhile are read.
    for (auto& [id, c] : conns_) {
        mark_dirty(*c);
        if (c->kind() == Connection::Kind::Ring) schedule_ring(*c);
        else process_input(*c);
    }
    check_domains();  // deaths missed while no VIRQ was bound
    loop_.set_deadline(loop_.now());  // the first turn flushes all of that at once
}

void Daemon::restore_domain(const migration::Domain& md, std::uint32_t version) {
    Domain& d = domains_.get(md.id);
    if (version >= migration::kVersion2) d.features = md.features;
    for (const auto& [name, value] : md.quotas) (void)quotas_.set(md.id, name, value);
    d.shutdown_noticed = md.shutdown_noticed;
    d.unique_id = md.unique_id;
    d.credit.configure(cfg_.write_rate, static_cast<double>(cfg_.write_burst));
    if (md.credit) d.credit.restore(*md.credit, Clock::time_point(std::chrono::nanoseconds(md.credit_time_ns)));
}

void Daemon::restore_connection(migration::Connection& mc, const migration::State& st) {
    bool ring = mc.kind == migration::Connection::Kind::Ring;
    Connection& c = ring ? add_connection(Connection::Kind::Ring, mc.domid, mc.domid == priv_domid_)
                         : add_connection(Connection::Kind::Socket, priv_domid_, true);
    if (ring) {
        restore_ring(c, mc);
        // A stream without features (version 1) leaves what the guest was
        // shown in its page.
        Domain& d = domains_.get(mc.domid);
        bool known = false;
        for (const migration::Domain& md : st.domains) known |= md.id == mc.domid;
        if (!known) d.credit.configure(cfg_.write_rate, static_cast<double>(cfg_.write_burst));
        if ((st.version < migration::kVersion2 || !known) && c.ring)
            d.features = std::atomic_ref<std::uint32_t>(c.ring->page().server_features).load() & ring::kFeaturesAll;
        c.features = d.features;
    } else {
        c.fd = mc.fd;
        ::fcntl(c.fd, F_SETFD, FD_CLOEXEC);
        loop_.add_socket(c.id(), c.fd);
    }
    c.ignored = c.ignored || mc.ignored;
    // Paused stays paused: it resumes below half the bound for a socket,
    // so the bound alone cannot tell (its input must wait as it did).
    if (mc.input_paused) {
        c.input_paused = true;
        if (ring) paused_.push_back(c.id());
        else loop_.set_reading(c.id(), false);
    }
    c.framer.feed(mc.input);
    auto deadline = cfg_.watch_event_timeout_s && !c.privileged()
                        ? loop_.now() + std::chrono::seconds(cfg_.watch_event_timeout_s)
                        : Clock::time_point{};
    for (std::size_t i = 0; i < mc.output.size(); ++i) {
        migration::OutMessage& m = mc.output[i];
        c.out.restore(std::move(m.bytes), m.reply, m.source, m.reply ? Clock::time_point{} : deadline,
                      i == 0 && mc.first_partial);
    }
    if (deadline != Clock::time_point{} && c.out.events() && (next_deadline_ == Clock::time_point{} || deadline < next_deadline_))
        next_deadline_ = deadline;
    for (const migration::Watch& w : mc.watches) {
        store::PathRules rules;
        rules.home = c.domid();
        rules.allow_special = true;
        std::string canon;
        if (!store::canonicalize(canon, w.path, rules)) continue;  // decode() refuses these
        auto strip = static_cast<std::uint16_t>(store::is_relative(w.path) ? store::home_path(c.domid()).size() + 1 : 0);
        (void)watches_.add(watch::Watch{c.id(), std::move(canon), w.token, w.depth, strip});
    }
    std::uint32_t node_limit = exempt(c) ? 0 : limit(c, quota::Item::TransactionNodes);
    for (migration::Transaction& t : mc.transactions)
        c.restore_transaction(
            t.id,
            std::make_unique<store::Transaction>(std::move(t.image), node_limit, store_.tree().superseded()),
            loop_.now());
    c.set_last_transaction_id(std::max(c.last_transaction_id(), mc.last_tx_id));
}

void Daemon::restore_ring(Connection& c, const migration::Connection& mc) {
    Domain& d = domains_.get(mc.domid);
    d.introduced = true;
    d.conn = c.id();
    if (mc.unique_id) d.unique_id = *mc.unique_id;
    c.set_target(mc.target);
    bool from_file = mc.domid == store_domid();
    Result<ring::Interface*> page = !hv_         ? fail(ENOSYS)
                                    : from_file ? hv_->map_file_ring(cfg_.dom0_kva)
                                                : hv_->map_guest_ring(mc.domid);
    if (!page || mc.port == 0) {
        log::error("live update: domain %u: cannot map its ring again (%s): ignored until it dies", mc.domid,
                   page ? "no event channel" : std::strerror(page.error().code));
        if (page) hv_->unmap_ring(*page, from_file);
        c.ignored = true;
        return;
    }
    c.ring = std::make_unique<RingPort>(*hv_, *page, from_file, mc.port);
    by_port_[mc.port] = c.id();
}

// Every usage counter from what exists now: nodes and their bytes from the
// tree; watches, transactions, queued output and outstanding work from the
// connections (as the requests that made them charged them).
void Daemon::recount_usage(const store::Deltas& tree_tally) {
    for (auto& [id, d] : domains_.all()) {
        d.usage.current = {};
        d.node_bytes = 0;
    }
    account(tree_tally);
    open_transactions_ = 0;
    next_unpin_ = 0;
    for (auto& [id, c] : conns_) {
        open_transactions_ += c->transactions();
        c->out.for_each([&](const OutMsg& m, std::size_t) {
            if (!m.reply && m.source != 0xFFFF) domains_.get(m.source).usage.add(quota::Item::Outstanding, 1);
        });
        Domain* d = charged(*c);
        if (!d) continue;
        std::int64_t count = 0, bytes = 0;
        watches_.for_each_of(c->id(), [&](const watch::Watch& w) {
            ++count;
            bytes += static_cast<std::int64_t>(w.path.size() + w.token.size());
        });
        d->usage.add(quota::Item::Watches, count);
        d->usage.add(quota::Item::Transactions, static_cast<std::int64_t>(c->transactions()));
        d->usage.add(quota::Item::Outstanding, static_cast<std::int64_t>(c->out.replies()));
        d->usage.add(quota::Item::Memory,
                     bytes + static_cast<std::int64_t>(c->transaction_memory() + c->out.bytes()));
    }
}

}  // namespace xs::daemon
