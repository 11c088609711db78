// TRANSACTION_START and TRANSACTION_END.
#include <cerrno>

#include "daemon/daemon.hpp"

namespace xs::daemon {

Result<> Daemon::on_transaction_start(Request& r) {
    if (r.tx) return fail(EBUSY);  // no nesting
    if (!exempt(r.conn)) {
        std::uint32_t max = limit(r.conn, quota::Item::Transactions);
        if (!quota::within(max, r.conn.transactions() + 1)) return fail(ENOSPC);
    }
    std::uint32_t node_limit = exempt(r.conn) ? 0 : limit(r.conn, quota::Item::TransactionNodes);
    std::uint32_t id = r.conn.add_transaction(store_.begin(node_limit), loop_.now());
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

}  // namespace xs::daemon
