#include "bench/conn.hpp"

#include <bit>
#include <cstring>

namespace xs::bench {

namespace {

constexpr std::size_t kInputChunk = 256 * 1024;

}  // namespace

std::string_view Reply::error() const {
    if (!is_error()) return {};
    std::string_view s = payload;
    if (!s.empty() && s.back() == '\0') s.remove_suffix(1);
    return s;
}

Conn::Conn(std::unique_ptr<Stream> stream, std::size_t window, int index)
    : stream_(std::move(stream)), window_(window == 0 ? 1 : window), index_(index) {
    // Twice the window, so a late reply never blocks a fresh id's slot for long.
    std::size_t n = std::bit_ceil(std::max<std::size_t>(8, 2 * window_));
    slots_.resize(n);
    mask_ = static_cast<std::uint32_t>(n - 1);
    in_.resize(kInputChunk);
}

std::uint32_t Conn::send(std::uint32_t type, std::uint32_t tx, std::initializer_list<std::string_view> parts,
                         std::uint64_t tag, std::uint64_t now_ns) {
    std::uint32_t id;
    for (;;) {
        id = next_id_++;
        if (id != 0 && !slots_[id & mask_].used) break;  // 0 is the id of watch events
    }
    std::size_t len = 0;
    for (auto p : parts) len += p.size();
    wire::Header h{type, id, tx, static_cast<std::uint32_t>(len)};
    out_.append(reinterpret_cast<const char*>(&h), sizeof h);
    for (auto p : parts) out_.append(p);
    slots_[id & mask_] = Slot{id, type, now_ns, tag, true};
    ++in_flight_;
    return id;
}

bool Conn::flush() {
    while (out_pos_ < out_.size()) {
        long n = stream_->write_some(out_.data() + out_pos_, out_.size() - out_pos_);
        if (n < 0) return false;
        if (n == 0) return true;  // full: the engine waits for writability
        out_pos_ += static_cast<std::size_t>(n);
    }
    out_.clear();
    out_pos_ = 0;
    return true;
}

long Conn::fill_input(bool& filled) {
    // Keep unparsed bytes at the front and room for a large read behind them.
    if (in_begin_ == in_end_) {
        in_begin_ = in_end_ = 0;
    } else if (in_.size() - in_end_ < kInputChunk / 4) {
        std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
        in_end_ -= in_begin_;
        in_begin_ = 0;
    }
    if (in_.size() - in_end_ < kInputChunk / 4) in_.resize(in_.size() * 2);
    std::size_t room = in_.size() - in_end_;
    long n = stream_->read_some(in_.data() + in_end_, room);
    if (n > 0) in_end_ += static_cast<std::size_t>(n);
    filled = n > 0 && static_cast<std::size_t>(n) == room;
    return n;
}

Checked<Conn::Kind> Conn::next(Reply& reply, Event& event, std::uint64_t now_ns) {
    std::size_t avail = in_end_ - in_begin_;
    if (avail < wire::kHeaderSize) return Kind::kNone;
    wire::Header h;
    std::memcpy(&h, in_.data() + in_begin_, sizeof h);
    if (h.len > kMaxReply) return failed("message of " + std::to_string(h.len) + " bytes from the daemon");
    if (avail < wire::kHeaderSize + h.len) {
        // Make sure a large reply fits once it is all there.
        if (in_.size() < wire::kHeaderSize + h.len + kInputChunk / 4) in_.resize(wire::kHeaderSize + h.len + kInputChunk);
        return Kind::kNone;
    }
    std::string_view payload(in_.data() + in_begin_ + wire::kHeaderSize, h.len);
    in_begin_ += wire::kHeaderSize + h.len;

    if (h.type == wire::kWatchEvent) {
        auto nul = payload.find('\0');
        if (nul == std::string_view::npos) return failed("watch event without a NUL");
        event.path = payload.substr(0, nul);
        std::string_view rest = payload.substr(nul + 1);
        auto nul2 = rest.find('\0');
        event.token = nul2 == std::string_view::npos ? rest : rest.substr(0, nul2);
        return Kind::kEvent;
    }
    Slot& s = slots_[h.req_id & mask_];
    if (!s.used || s.req_id != h.req_id)
        return failed("reply " + std::string(wire::type_name(h.type)) + " with unknown req_id " +
                      std::to_string(h.req_id));
    if (h.type != s.type && h.type != wire::kError)
        return failed("reply type " + std::string(wire::type_name(h.type)) + " to a " +
                      std::string(wire::type_name(s.type)) + " request");
    s.used = false;
    --in_flight_;
    reply = Reply{h, payload, s.type, s.tag, now_ns >= s.sent_ns ? now_ns - s.sent_ns : 0};
    return Kind::kReply;
}

}  // namespace xs::bench
