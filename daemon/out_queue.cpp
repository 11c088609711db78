#include "daemon/out_queue.hpp"

#include <functional>
#include <vector>

namespace xs::daemon {

namespace {

// Buffers of sent messages, kept for the next ones: every reply is at least
// a 16-byte header, past std::string's inline capacity, so without this each
// reply costs a malloc and a free (a few percent of the daemon's CPU in the
// pipeline mixes). Bounded in count and size, shared by all connections
// (at most kSpareMax * kSpareCap bytes, however many connections exist).
constexpr std::size_t kSpareMax = 256;
constexpr std::size_t kSpareCap = 256;
thread_local std::vector<std::string> spares;

std::string take_buffer() {
    if (spares.empty()) return {};
    std::string b = std::move(spares.back());
    spares.pop_back();
    b.clear();
    return b;
}

void keep_buffer(std::string& b) {
    if (b.capacity() <= kSpareCap && b.capacity() > 15 && spares.size() < kSpareMax) {
        if (spares.capacity() == 0) spares.reserve(kSpareMax);
        spares.push_back(std::move(b));
    }
}

}  // namespace

void OutQueue::push_reply(const wire::Header& req, std::uint32_t type, std::string_view payload) {
    OutMsg m;
    m.bytes = take_buffer();
    m.bytes.reserve(wire::kHeaderSize + payload.size());
    wire::append_message(m.bytes, wire::Header{type, req.req_id, req.tx_id, 0}, payload);
    bytes_ += m.bytes.size();
    ++replies_;
    q_.push_back(std::move(m));
}

namespace {
std::uint64_t event_key(std::string_view payload) { return std::hash<std::string_view>{}(payload) | 1; }  // never 0
}  // namespace

void OutQueue::restore(std::string bytes, bool reply, DomId source, std::chrono::steady_clock::time_point deadline,
                       bool partial) {
    OutMsg m;
    m.reply = reply;
    m.source = source;
    if (!reply) {
        m.deadline = deadline;
        if (!partial && bytes.size() >= wire::kHeaderSize) {
            m.event_key = event_key(std::string_view(bytes).substr(wire::kHeaderSize));
            keys_.insert(m.event_key);
        }
    }
    m.bytes = std::move(bytes);
    bytes_ += m.bytes.size();
    if (reply) ++replies_;
    else event_bytes_ += m.bytes.size();
    q_.push_back(std::move(m));
}

bool OutQueue::push_event(std::string_view payload, std::chrono::steady_clock::time_point deadline,
                          DomId source) {
    std::uint64_t key = event_key(payload);
    bool special = !payload.empty() && payload[0] == '@';
    if (!special && keys_.count(key)) {
        // A hash match: compare bytes with every unsent event carrying it.
        for (std::size_t i = 0; i < q_.size(); ++i) {
            const OutMsg& m = q_[i];
            if (m.event_key != key || (i == 0 && head_off_ > 0)) continue;
            if (std::string_view(m.bytes).substr(wire::kHeaderSize) == payload) return false;
        }
    }
    OutMsg m;
    m.reply = false;
    m.event_key = key;
    m.deadline = deadline;
    m.source = source;
    m.bytes = take_buffer();
    wire::append_message(m.bytes, wire::Header{wire::kWatchEvent, 0, 0, 0}, payload);
    bytes_ += m.bytes.size();
    event_bytes_ += m.bytes.size();
    keys_.insert(key);
    q_.push_back(std::move(m));
    return true;
}

std::size_t OutQueue::gather(iovec* iov, std::size_t max) const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < q_.size() && n < max; ++i) {
        const std::string& b = q_[i].bytes;
        std::size_t off = i == 0 ? head_off_ : 0;
        iov[n].iov_base = const_cast<char*>(b.data() + off);
        iov[n].iov_len = b.size() - off;
        ++n;
    }
    return n;
}

std::chrono::steady_clock::time_point OutQueue::next_deadline() const {
    std::chrono::steady_clock::time_point best{};
    for (const auto& m : q_)
        if (!m.reply && m.deadline != std::chrono::steady_clock::time_point{} && (best == decltype(best){} || m.deadline < best))
            best = m.deadline;
    return best;
}

void OutQueue::forget(const OutMsg& m) {
    bytes_ -= m.bytes.size();
    if (m.reply) {
        --replies_;
    } else {
        event_bytes_ -= m.bytes.size();
        auto it = keys_.find(m.event_key);
        if (it != keys_.end()) keys_.erase(it);
    }
}

void OutQueue::pop_front() {
    forget(q_.front());
    keep_buffer(q_.front().bytes);
    q_.pop_front();
    head_off_ = 0;
}

}  // namespace xs::daemon
