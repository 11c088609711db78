// One client connection: a dom0 tool on a unix socket, or a guest domain
// on its shared ring. Identity, input framing, output queue, transactions.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "daemon/loop/loop.hpp"
#include "daemon/out_queue.hpp"
#include "daemon/ring_port.hpp"
#include "base/domid.hpp"
#include "store/perms.hpp"
#include "store/transaction.hpp"
#include "transport/wire.hpp"

namespace xs::daemon {

class Connection {
public:
    enum class Kind { Socket, Ring };

    Connection(ConnId id, Kind kind, DomId domid, bool privileged)
        : id_(id), kind_(kind), domid_(domid), privileged_(privileged) {}
    ~Connection();

    ConnId id() const { return id_; }
    Kind kind() const { return kind_; }
    DomId domid() const { return domid_; }
    bool privileged() const { return privileged_; }
    std::optional<DomId> target() const { return target_; }
    void set_target(std::optional<DomId> t) { target_ = t; }
    store::Caller caller() const { return store::Caller{domid_, privileged_, target_}; }

    std::uint32_t features = 0;  // ring feature bits this connection has
    int fd = -1;                 // a socket's fd (the loop owns it; kept across a live update)
    wire::Framer framer;
    OutQueue out;

    // Transactions, by id. Ids start at 1, skip 0 and ids in use, wrap at 2^32.
    store::Transaction* transaction(std::uint32_t id);
    // `now`: the loop's time (the age of its transactions counts from there).
    std::uint32_t add_transaction(std::unique_ptr<store::Transaction> t, Clock::time_point now);
    std::unique_ptr<store::Transaction> take_transaction(std::uint32_t id);
    std::size_t transactions() const { return txs_.size(); }
    // Live update: every transaction with its id, the last id handed out,
    // and a transaction put back under its id.
    template <class F>
    void for_each_transaction(F&& fn) const {
        for (const auto& [id, t] : txs_) fn(id, *t);
    }
    template <class F>
    void for_each_transaction(F&& fn) {
        for (auto& [id, t] : txs_) fn(id, *t);
    }
    std::uint32_t last_transaction_id() const { return last_tx_; }
    void restore_transaction(std::uint32_t id, std::unique_ptr<store::Transaction> t, Clock::time_point now) {
        if (txs_.empty()) transactions_since = now;
        txs_[id] = std::move(t);
        if (id > last_tx_) last_tx_ = id;
    }
    // When its open transactions became more than none (live update's
    // version-1 wait measures their age from here, as upstream).
    Clock::time_point transactions_since{};
    void set_last_transaction_id(std::uint32_t id) { last_tx_ = id; }
    std::size_t transaction_memory() const;
    void clear_transactions() { txs_.clear(); }

    // Socket output in flight (the loop sends straight from `out`).
    bool send_in_flight = false;
    std::array<iovec, 64> iov{};
    // Flow control: input waits while the output queue is too long.
    bool input_paused = false;
    bool dirty = false;    // has output to flush at the end of the turn
    bool closing = false;  // destroyed at the end of the turn
    bool ring_scheduled = false;  // ring input to read at the end of the turn
    // A guest that broke the ring protocol: no more I/O until it dies.
    bool ignored = false;
    // Replies not yet written plus events it caused that still wait
    // somewhere (upstream's "outstanding").
    std::uint32_t outstanding = 0;
    std::unique_ptr<RingPort> ring;

private:
    ConnId id_;
    Kind kind_;
    DomId domid_;
    bool privileged_;
    std::optional<DomId> target_;
    std::map<std::uint32_t, std::unique_ptr<store::Transaction>> txs_;
    std::uint32_t last_tx_ = 0;
};

}  // namespace xs::daemon
