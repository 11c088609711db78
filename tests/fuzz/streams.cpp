#include "tests/fuzz/streams.hpp"

#include <cstdlib>
#include <cstring>

namespace xs::fuzz {
namespace {

bool renamed(std::string_view payload, bool state_only) {
    std::string_view cmd = payload.substr(0, payload.find('\0'));
    if (cmd == "logfile" || cmd == "log") return true;
    if (cmd == "memreport") return state_only || payload.size() > cmd.size() + 1;  // a file argument
    return state_only && (cmd == "stats" || cmd.starts_with("live-update"));
}

}  // namespace

std::string InputGuard::pass(std::string_view bytes) {
    held_.append(bytes);
    std::string out;
    for (;;) {
        if (body_left_ > 0) {  // inside a message already cleared
            std::size_t n = held_.size() < body_left_ ? held_.size() : static_cast<std::size_t>(body_left_);
            out.append(held_, 0, n);
            held_.erase(0, n);
            body_left_ -= n;
            if (body_left_ > 0 || held_.empty()) return out;
        }
        if (held_.size() < wire::kHeaderSize) return out;
        wire::Header h;
        std::memcpy(&h, held_.data(), sizeof h);
        // Past the bound the daemon drops the connection at the header.
        if (state_only_ && h.type == wire::kDirectoryPart) {
            h.type = wire::kDirectory;
            std::memcpy(held_.data(), &h, sizeof h);
        }
        bool control = h.type == wire::kControl && h.len <= wire::kPayloadMax;
        if (control) {
            if (held_.size() < wire::kHeaderSize + h.len) return out;
            if (renamed(std::string_view(held_).substr(wire::kHeaderSize, h.len), state_only_)) held_[wire::kHeaderSize] = 'X';
        }
        out.append(held_, 0, wire::kHeaderSize);
        held_.erase(0, wire::kHeaderSize);
        body_left_ = h.len;
    }
}

bool OutputCheck::take(std::string_view bytes, std::string& why) {
    framer_.feed(bytes);
    wire::Framer::Message m;
    while (framer_.next(m)) {
        std::uint32_t t = m.header.type;
        if (t >= wire::kTypeCount || t == 20) {
            why = "reply of unknown type " + std::to_string(t);
            return false;
        }
        if (t == wire::kError) {
            std::string_view name = m.payload.substr(0, m.payload.find('\0'));
            if (m.payload.empty() || m.payload.back() != '\0' || wire::error_name(wire::error_code(name)) != name) {
                why = "malformed error reply";
                return false;
            }
        }
        if (t == wire::kTransactionStart) last_tx_ = static_cast<std::uint32_t>(std::strtoul(std::string(m.payload).c_str(), nullptr, 10));
    }
    if (framer_.failed()) {
        why = "reply longer than the protocol allows";
        return false;
    }
    return true;
}

}  // namespace xs::fuzz
