// Guest connections over shared rings: reading requests, writing replies
// and events, reconnection, and cutting off a guest that breaks the ring
// protocol.
#include <atomic>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"
#include "daemon/ring_port.hpp"
#include "transport/ring.hpp"

namespace xs::daemon {

namespace {
constexpr int kRingReadsPerTurn = 8;
}  // namespace

// Whether a guest must wait before more of its requests are read: too many
// replies/events outstanding or too much memory (privileged domains: only
// the queue bound every connection has).
bool Daemon::input_blocked(const Connection& c) {
    if (c.out.cost() > cfg_.socket_queue_bytes) return true;
    if (exempt(c) || c.kind() != Connection::Kind::Ring) return false;
    Domain& d = domains_.get(c.domid());
    const quota::Usage& u = d.usage;
    std::uint32_t out = limit(c, quota::Item::Outstanding);
    std::uint32_t mem = limit(c, quota::Item::Memory);
    if ((out && u[quota::Item::Outstanding] >= out) || (mem && u[quota::Item::Memory] >= mem)) return true;
    if (cfg_.write_rate && d.credit.in_debt(loop_.now())) {
        Clock::time_point ready = d.credit.ready_at();
        if (credit_wake_ == Clock::time_point{} || ready < credit_wake_) credit_wake_ = ready;
        return true;
    }
    return false;
}

void Daemon::service_ring(Connection& c) {
    // During a live update what guests write stays in their rings.
    if (c.closing || c.ignored || !c.ring || updating()) return;
    ring::Interface& page = c.ring->page();
    if (std::atomic_ref<std::uint32_t>(page.connection).load(std::memory_order_acquire) == ring::kReconnect)
        return reset_ring(c, true);
    // Requests already buffered come first (after a pause, nothing new may
    // arrive to trigger them); nothing more is read while they wait.
    process_input(c);
    if (c.framer.failed()) return ignore(c, ring::kErrorProto);
    char buf[ring::kRingSize];
    // A few ring-fulls per turn, so one busy guest cannot starve the others.
    for (int round = 0; !c.input_paused && !c.closing && !c.ignored; ++round) {
        if (round == kRingReadsPerTurn) {
            schedule_ring(c);
            break;
        }
        Result<std::size_t> n = ring::read(page, ring::Direction::kRequest, buf, sizeof buf);
        if (!n) return ignore(c, ring::kErrorRingIdx);
        if (*n == 0) break;
        c.framer.feed(std::string_view(buf, *n));
        process_input(c);
        if (c.framer.failed()) return ignore(c, ring::kErrorProto);
        // A message cut short: the guest waits for room to write the rest,
        // and hears at once. Otherwise with the replies.
        if (c.framer.pending_bytes()) c.ring->notify();
        else c.ring->notify_later();
    }
    mark_dirty(c);
}

// Rings with input to read, a bounded amount each (service_ring), and all
// of them for at most kGuestSlice. A request of the toolstack waits for at
// most about that much of this work instead of for every ring with
// something to say (with a hundred busy guests a turn took milliseconds).
// Rings not reached keep their place at the head of the queue, and at least
// one is served per turn, so every guest still makes progress in turn.
void Daemon::service_rings() {
    std::vector<ConnId> rings;
    rings.swap(to_service_);
    const Clock::time_point until = loop_.now() + kGuestSlice;
    std::size_t served = 0;
    for (; served < rings.size(); ++served) {
        if (served > 0 && loop_.now() >= until) break;
        if (Connection* c = find(rings[served])) {
            c->ring_scheduled = false;
            service_ring(*c);
        }
    }
    // Those left are still marked scheduled: they go first next turn.
    to_service_.insert(to_service_.begin(), rings.begin() + static_cast<std::ptrdiff_t>(served), rings.end());
}

// The turn's output: every socket's, then the rings' for at most kGuestSlice
// (at least one ring; during a live update all of them). Each ring written
// to costs a kick; rings not reached stay dirty and go first next turn.
void Daemon::flush_dirty() {
    const Clock::time_point until = loop_.now() + kGuestSlice;
    bool ring_flushed = false;
    std::vector<ConnId> later;
    for (std::size_t i = 0; i < dirty_.size(); ++i) {  // flushing may dirty more
        Connection* c = find(dirty_[i]);
        if (!c) continue;
        bool ring = c->kind() == Connection::Kind::Ring;
        if (ring && ring_flushed && !updating() && loop_.now() >= until) {
            later.push_back(c->id());  // still marked dirty
            continue;
        }
        c->dirty = false;
        flush(*c);
        ring_flushed = ring_flushed || ring;
    }
    dirty_ = std::move(later);
}

void Daemon::flush_ring(Connection& c) {
    if (c.ignored || !c.ring) return;
    ring::Interface& page = c.ring->page();
    bool had_output = !c.out.empty();
    bool wrote = false;
    while (!c.out.empty()) {
        iovec iov;
        c.out.gather(&iov, 1);
        Result<std::size_t> n = ring::write(page, ring::Direction::kResponse, static_cast<const char*>(iov.iov_base),
                                            iov.iov_len);
        if (!n) return ignore(c, ring::kErrorRingIdx);
        if (*n == 0) break;
        wrote = true;
        c.out.consume(*n, [&](const OutMsg& m) { message_left(c, m); });
        if (*n < iov.iov_len) break;
    }
    if (wrote || c.ring->notify_pending()) c.ring->notify();
    if (had_output) update_flow(c);
}

// Drop everything the guest had in flight: watches, transactions, queued
// output, partial input. With `handshake`, the guest asked for it through
// the connection field (reconnection feature); otherwise INTRODUCE did.
void Daemon::reset_ring(Connection& c, bool handshake) {
    drop_state(c);
    c.out.clear([&](const OutMsg& m) { message_left(c, m); });
    c.framer.reset();
    c.input_paused = false;
    if (!c.ring) return;
    ring::Interface& page = c.ring->page();
    page.req_cons = page.req_prod = page.rsp_cons = page.rsp_prod = 0;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::atomic_ref<std::uint32_t> conn(page.connection);
    if (handshake || conn.load(std::memory_order_acquire) == ring::kReconnect) {
        conn.store(ring::kConnected, std::memory_order_release);
        c.ring->notify();
    }
}

// A guest broke the protocol: stop talking to it for good, but keep its
// domain so @releaseDomain still fires when it dies.
void Daemon::ignore(Connection& c, std::uint32_t reason) {
    if (c.ignored) return;
    log::limited(limiter_, c.domid(), log::Level::Error, "domain %u broke the ring protocol (error %u): ignored",
                 c.domid(), reason);
    drop_state(c);
    c.out.clear([&](const OutMsg& m) { message_left(c, m); });
    c.framer.reset();
    c.ignored = true;
    if (c.ring && (c.features & ring::kFeatureError)) {
        std::atomic_ref<std::uint32_t>(c.ring->page().error).store(reason, std::memory_order_release);
        c.ring->notify();
    }
}

}  // namespace xs::daemon
