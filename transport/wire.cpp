#include "transport/wire.hpp"

#include <array>
#include <cerrno>
#include <cstring>

namespace xs::wire {

namespace {

constexpr std::array<std::string_view, kTypeCount> kTypeNames = {
    "CONTROL", "DIRECTORY", "READ", "GET_PERMS", "WATCH", "UNWATCH",
    "TRANSACTION_START", "TRANSACTION_END", "INTRODUCE", "RELEASE",
    "GET_DOMAIN_PATH", "WRITE", "MKDIR", "RM", "SET_PERMS", "WATCH_EVENT",
    "ERROR", "IS_DOMAIN_INTRODUCED", "RESUME", "SET_TARGET", "RESTRICT",
    "RESET_WATCHES", "DIRECTORY_PART", "GET_FEATURE", "SET_FEATURE",
    "GET_QUOTA", "SET_QUOTA",
};

struct ErrorEntry {
    int code;
    std::string_view name;
};

// The order is the protocol's (xs_wire.h); the names are what goes on the wire.
constexpr std::array<ErrorEntry, 16> kErrors = {{
    {EINVAL, "EINVAL"}, {EACCES, "EACCES"}, {EEXIST, "EEXIST"}, {EISDIR, "EISDIR"},
    {ENOENT, "ENOENT"}, {ENOMEM, "ENOMEM"}, {ENOSPC, "ENOSPC"}, {EIO, "EIO"},
    {ENOTEMPTY, "ENOTEMPTY"}, {ENOSYS, "ENOSYS"}, {EROFS, "EROFS"}, {EBUSY, "EBUSY"},
    {EAGAIN, "EAGAIN"}, {EISCONN, "EISCONN"}, {E2BIG, "E2BIG"}, {EPERM, "EPERM"},
}};

}  // namespace

std::string_view type_name(std::uint32_t type) {
    return type < kTypeNames.size() ? kTypeNames[type] : std::string_view("UNKNOWN");
}

std::string_view error_name(int code) {
    for (const auto& e : kErrors)
        if (e.code == code) return e.name;
    return "EINVAL";
}

int error_code(std::string_view name) {
    for (const auto& e : kErrors)
        if (e.name == name) return e.code;
    return EINVAL;
}

void append_message(std::string& out, Header h, std::string_view payload) {
    h.len = static_cast<std::uint32_t>(payload.size());
    out.append(reinterpret_cast<const char*>(&h), sizeof h);
    out.append(payload);
}

void append_error(std::string& out, const Header& req, int code) {
    std::string_view name = error_name(code);
    Header h{kError, req.req_id, req.tx_id, static_cast<std::uint32_t>(name.size() + 1)};
    out.append(reinterpret_cast<const char*>(&h), sizeof h);
    out.append(name);
    out.push_back('\0');
}

std::size_t Framer::feed(std::string_view bytes) {
    if (failed_) return 0;
    if (pos_ > 0 && pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    } else if (pos_ > 4 * kPayloadMax) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    buf_.append(bytes);
    // Validate the next header as soon as it is complete, so an oversized
    // length is refused before anything more is buffered for it.
    if (buf_.size() - pos_ >= kHeaderSize) {
        Header h;
        std::memcpy(&h, buf_.data() + pos_, sizeof h);
        if (h.len > max_payload_) failed_ = true;
    }
    return bytes.size();
}

bool Framer::next(Message& out) {
    if (failed_) return false;
    std::size_t avail = buf_.size() - pos_;
    if (avail < kHeaderSize) return false;
    Header h;
    std::memcpy(&h, buf_.data() + pos_, sizeof h);
    if (h.len > max_payload_) {
        failed_ = true;
        return false;
    }
    if (avail < kHeaderSize + h.len) return false;
    out.header = h;
    out.payload = std::string_view(buf_).substr(pos_ + kHeaderSize, h.len);
    pos_ += kHeaderSize + h.len;
    // The following header, if already complete, is checked now as well.
    if (buf_.size() - pos_ >= kHeaderSize) {
        Header nh;
        std::memcpy(&nh, buf_.data() + pos_, sizeof nh);
        if (nh.len > max_payload_) failed_ = true;
    }
    return true;
}

bool Framer::peek(Header& out) const {
    if (failed_ || buf_.size() - pos_ < kHeaderSize) return false;
    std::memcpy(&out, buf_.data() + pos_, sizeof out);
    return true;
}

void Framer::reset() {
    buf_.clear();
    pos_ = 0;
    failed_ = false;
}

}  // namespace xs::wire
