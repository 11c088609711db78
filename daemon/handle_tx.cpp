// TRANSACTION_START and TRANSACTION_END.
#include <algorithm>
#include <cerrno>
#include <limits>

#include "daemon/daemon.hpp"

namespace xs::daemon {

Result<> Daemon::on_transaction_start(Request& r) {
    if (r.tx) return fail(EBUSY);  // no nesting
    if (!exempt(r.conn)) {
        std::uint32_t max = limit(r.conn, quota::Item::Transactions);
        if (!quota::within(max, r.conn.transactions() + 1)) return fail(ENOSPC);
    }
    std::uint32_t node_limit = exempt(r.conn) ? 0 : limit(r.conn, quota::Item::TransactionNodes);
    std::unique_ptr<store::Transaction> t = store_.begin(node_limit);
    note_pin(*t);
    std::uint32_t id = r.conn.add_transaction(std::move(t), loop_.now());
    ++open_transactions_;
    if (Domain* d = charged(r.conn)) d->usage.add(quota::Item::Transactions, 1);
    r.out = std::to_string(id);
    r.out.push_back('\0');
    return {};
}

// The transaction ends whatever the outcome; "T" commits (EAGAIN on a
// conflict), "F" discards.
Result<> Daemon::on_transaction_end(Request& r) {
    bool commit;
    if (r.payload == std::string_view("T\0", 2)) commit = true;
    else if (r.payload == std::string_view("F\0", 2)) commit = false;
    else return fail(EINVAL);
    if (!r.tx) return fail(ENOENT);
    std::unique_ptr<store::Transaction> t = r.conn.take_transaction(r.hdr.tx_id);
    r.tx = nullptr;
    --open_transactions_;
    if (Domain* d = charged(r.conn)) {
        d->usage.add(quota::Item::Transactions, -1);
        d->usage.add(quota::Item::Memory, -static_cast<std::int64_t>(t->memory()));
    }
    if (commit) {
        Result<store::Effects> e = store_.commit(*t, r.conn.caller(), budget(r.conn));
        if (!e) return fail(e.error());
        apply(*e, r.conn);
    }
    r.out.assign("OK", 3);
    return {};
}

void Daemon::note_pin(const store::Transaction& t) {
    if (cfg_.transaction_pin) next_unpin_ = std::min(next_unpin_, t.pin_mark() + cfg_.transaction_pin);
}

// After a committed change: a transaction whose snapshot may keep more than
// --transaction-pin bytes alive takes the committed tree as its view again.
// The walk happens only when the smallest mark comes due, and rebases at
// least that transaction, so it costs one pass per rebase at most.
void Daemon::unpin_transactions() {
    std::uint64_t now = store_.tree().superseded();
    if (!cfg_.transaction_pin || now <= next_unpin_) return;
    next_unpin_ = std::numeric_limits<std::uint64_t>::max();
    for (auto& [id, c] : conns_) {
        c->for_each_transaction([&](std::uint32_t, store::Transaction& t) {
            if (now - t.pin_mark() > cfg_.transaction_pin) {
                // As the commit's replay: the node-size rule, no quota (the
                // changes were charged when they ran).
                store::Budget b = budget(*c);
                b.nodes_left = store::Budget{}.nodes_left;
                b.memory_left = store::Budget{}.memory_left;
                t.rebase(store_.tree(), store_.context(c->caller(), b));
                ++tx_rebases_;
            }
            note_pin(t);
        });
    }
}

}  // namespace xs::daemon
