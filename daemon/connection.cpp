#include "daemon/connection.hpp"

#include "daemon/ring_port.hpp"

namespace xs::daemon {

Connection::~Connection() = default;

store::Transaction* Connection::transaction(std::uint32_t id) {
    auto it = txs_.find(id);
    return it == txs_.end() ? nullptr : it->second.get();
}

std::uint32_t Connection::add_transaction(std::unique_ptr<store::Transaction> t, Clock::time_point now) {
    if (txs_.empty()) transactions_since = now;
    do {
        ++last_tx_;
    } while (last_tx_ == 0 || txs_.count(last_tx_));
    txs_.emplace(last_tx_, std::move(t));
    return last_tx_;
}

std::unique_ptr<store::Transaction> Connection::take_transaction(std::uint32_t id) {
    auto it = txs_.find(id);
    if (it == txs_.end()) return nullptr;
    auto t = std::move(it->second);
    txs_.erase(it);
    return t;
}

std::size_t Connection::transaction_memory() const {
    std::size_t n = 0;
    for (const auto& [id, t] : txs_) n += t->memory();
    return n;
}

}  // namespace xs::daemon
