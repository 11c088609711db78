// Quota accounting: node counts and memory per domain, budgets for requests.
#include <algorithm>

#include "daemon/daemon.hpp"

namespace xs::daemon {

// Usage of a connection is charged to its domain; dom0's tools on sockets are
// not charged (as upstream: they have no domain structure).
Domain* Daemon::charged(const Connection& c) {
    if (c.kind() != Connection::Kind::Ring) return nullptr;
    return &domains_.get(c.domid());
}

void Daemon::charge_memory(const Connection& c, std::int64_t bytes) {
    if (bytes == 0) return;
    if (Domain* d = charged(c)) d->usage.add(quota::Item::Memory, bytes);
}

void Daemon::account(const store::Deltas& deltas) {
    for (const auto& d : deltas.items()) {
        Domain& dom = domains_.get(d.domid);
        dom.usage.add(quota::Item::Nodes, d.nodes);
        dom.usage.add(quota::Item::Memory, d.bytes);
        dom.node_bytes += d.bytes;
        if (d.domid != priv_domid_) {
            global_max_.observe(quota::Item::Nodes, dom.usage[quota::Item::Nodes]);
            global_max_.observe(quota::Item::Memory, dom.usage[quota::Item::Memory]);
        }
    }
}

// A guest's change costs write credit while any transaction is open, so a
// guest rewriting what others' transactions read cannot starve them.
void Daemon::charge_write(const Connection& c) {
    if (exempt(c) || c.kind() != Connection::Kind::Ring || cfg_.write_rate == 0 || open_transactions_ == 0) return;
    domains_.get(c.domid()).credit.charge(loop_.now());
}

std::uint32_t Daemon::limit(const Connection& c, quota::Item item) const {
    return quotas_.get(c.domid(), item);
}

// What the caller's domain may still use. Privileged callers are exempt.
// Inside a transaction, what it deleted makes room (delete k, create k at
// the quota works), while what it created is charged at commit only (create
// then delete a temporary node at quota - 1 works); the commit checks the
// net change.
store::Budget Daemon::budget(const Connection& c, const store::Transaction* tx) {
    store::Budget b;
    if (exempt(c)) return b;
    b.enforced = true;
    b.node_size = limit(c, quota::Item::NodeSize);
    const quota::Usage& u = domains_.get(c.domid()).usage;
    store::OwnerDelta pending = tx ? tx->effects().deltas.of(c.domid()) : store::OwnerDelta{c.domid(), 0, 0};
    std::int64_t freed_nodes = std::min<std::int64_t>(pending.nodes, 0);
    std::int64_t freed_bytes = std::min<std::int64_t>(pending.bytes, 0);
    if (std::uint32_t n = limit(c, quota::Item::Nodes))
        b.nodes_left = static_cast<std::int64_t>(n) - u[quota::Item::Nodes] - freed_nodes;
    if (std::uint32_t m = limit(c, quota::Item::Memory))
        b.memory_left = static_cast<std::int64_t>(m) - u[quota::Item::Memory] - freed_bytes;
    return b;
}

}  // namespace xs::daemon
