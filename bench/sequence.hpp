// A list of requests sent one after another on one connection, plainly or
// inside a transaction (TRANSACTION_START first, TRANSACTION_END last; a
// commit answered EAGAIN starts the whole transaction again, as xenbus
// drivers and libxl do, and is counted). The guest-boot workload runs every
// step of its handshake as one of these, several per connection at once,
// telling them apart by the tag each request carries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/engine.hpp"
#include "bench/guestboot_plan.hpp"

namespace xs::bench {

struct SeqCounters {
    std::uint64_t eagain = 0;   // EAGAIN answers (commits retried)
    std::uint64_t commits = 0;  // transactions committed
};

class Sequence {
public:
    enum class Step { kMore, kDone, kFailed };

    // Send the first request of `reqs` (TRANSACTION_START when `tx`).
    void begin(Engine& e, Conn& c, std::vector<BootRequest> reqs, bool tx, std::uint64_t tag);
    // Handle the reply to this sequence's request in flight and send the
    // next one. kDone after the last reply (the commit's, in a
    // transaction); kFailed after e.fail() (an error or a wrong answer).
    Step on_reply(Engine& e, Conn& c, const Reply& r, SeqCounters& n);

    // The payload of the last plain reply, without a trailing NUL (a READ's value).
    const std::string& last() const { return last_; }
    bool active() const { return active_; }
    // What the request in flight is ("READ /local/domain/1/name"), for reports.
    std::string pending() const;

private:
    void send(Engine& e, Conn& c);

    std::vector<BootRequest> reqs_;
    bool tx_ = false, active_ = false;
    long step_ = 0;  // -1: TRANSACTION_START in flight; reqs_.size(): TRANSACTION_END
    std::uint32_t tx_id_ = 0;
    std::uint64_t tag_ = 0;
    std::string last_;
};

}  // namespace xs::bench
