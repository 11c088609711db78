// A connection's queue of outgoing messages (replies and watch events), in
// order. Messages stay put until written: the event loop sends straight from
// them.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

#include "base/domid.hpp"
#include "transport/wire.hpp"

namespace xs::daemon {

struct OutMsg {
    std::string bytes;           // header + payload
    std::uint64_t event_key = 0; // watch events: hash of the payload; 0 for replies
    std::chrono::steady_clock::time_point deadline{};  // events for guests may expire
    bool reply = true;
    // The domain whose request caused this event and still counts it as
    // outstanding until it leaves the queue (flow control); none if 0xFFFF.
    DomId source = 0xFFFF;
};

class OutQueue {
public:
    // What a queued message costs beyond its bytes: its OutMsg in the deque,
    // the heap block header and rounding of its buffer, and (events) its
    // entry in the de-duplication set. Rounded up so that cost() is an
    // upper bound of the queue's memory.
    static constexpr std::size_t kMessageOverhead = 128;

    void push_reply(const wire::Header& req, std::uint32_t type, std::string_view payload);
    // Watch event `payload` ("path\0token\0"). False (nothing queued) when an
    // identical event is already waiting unsent; events for "@..." names are
    // never merged (each domain's introduction and release counts).
    bool push_event(std::string_view payload, std::chrono::steady_clock::time_point deadline, DomId source);

    bool empty() const { return q_.empty(); }
    std::size_t messages() const { return q_.size(); }
    std::size_t bytes() const { return bytes_; }
    std::size_t replies() const { return replies_; }
    std::size_t events() const { return q_.size() - replies_; }
    // Memory the queue holds (bytes plus kMessageOverhead per message), and
    // the part of it that is watch events: what the queue bounds compare.
    std::size_t cost() const { return bytes_ + q_.size() * kMessageOverhead; }
    std::size_t event_cost() const { return event_bytes_ + events() * kMessageOverhead; }
    // What queuing an event with this payload length would add.
    static std::size_t event_cost(std::size_t payload_len) {
        return wire::kHeaderSize + payload_len + kMessageOverhead;
    }

    // Fill `iov` with up to `max` unsent spans, oldest first; returns the count.
    std::size_t gather(iovec* iov, std::size_t max) const;
    // `n` bytes were written; `done(msg)` is called for each message finished.
    template <class F>
    void consume(std::size_t n, F&& done) {
        while (n > 0 && !q_.empty()) {
            std::size_t left = q_.front().bytes.size() - head_off_;
            if (n < left) {
                head_off_ += n;
                return;
            }
            n -= left;
            done(q_.front());
            pop_front();
        }
    }
    // Drop unsent events whose deadline passed (never a partly written one).
    template <class F>
    std::size_t expire(std::chrono::steady_clock::time_point now, F&& dropped) {
        std::size_t count = 0;
        for (auto it = q_.begin(); it != q_.end();) {
            bool partly_sent = it == q_.begin() && head_off_ > 0;
            if (!it->reply && !partly_sent && it->deadline != std::chrono::steady_clock::time_point{} &&
                it->deadline <= now) {
                dropped(*it);
                forget(*it);
                it = q_.erase(it);
                ++count;
            } else {
                ++it;
            }
        }
        return count;
    }
    // Live update: every message in order, with the bytes of it already
    // written (only the first can have any).
    template <class F>
    void for_each(F&& fn) const {
        for (std::size_t i = 0; i < q_.size(); ++i) fn(q_[i], i == 0 ? head_off_ : std::size_t{0});
    }
    // Put back a message carried across a live update. A partly written
    // first message comes as its unsent rest (`partial`): never merged with
    // a later event, whatever it is.
    void restore(std::string bytes, bool reply, DomId source, std::chrono::steady_clock::time_point deadline,
                 bool partial);

    // The earliest event deadline, or the zero time point.
    std::chrono::steady_clock::time_point next_deadline() const;
    template <class F>
    void clear(F&& dropped) {
        for (auto& m : q_) dropped(m);
        q_.clear();
        keys_.clear();
        bytes_ = replies_ = head_off_ = event_bytes_ = 0;
    }

private:
    void pop_front();
    void forget(const OutMsg& m);

    std::deque<OutMsg> q_;
    std::unordered_multiset<std::uint64_t> keys_;  // pending event keys, for de-duplication
    std::size_t bytes_ = 0;
    std::size_t event_bytes_ = 0;  // of bytes_, in watch events
    std::size_t replies_ = 0;
    std::size_t head_off_ = 0;
};

}  // namespace xs::daemon
