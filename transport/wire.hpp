// The xenstore wire protocol: message header, types, error names and an
// incremental framer. Pure code: no system calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace xs::wire {

enum MsgType : std::uint32_t {
    kControl = 0,
    kDirectory = 1,
    kRead = 2,
    kGetPerms = 3,
    kWatch = 4,
    kUnwatch = 5,
    kTransactionStart = 6,
    kTransactionEnd = 7,
    kIntroduce = 8,
    kRelease = 9,
    kGetDomainPath = 10,
    kWrite = 11,
    kMkdir = 12,
    kRm = 13,
    kSetPerms = 14,
    kWatchEvent = 15,
    kError = 16,
    kIsDomainIntroduced = 17,
    kResume = 18,
    kSetTarget = 19,
    // 20 was RESTRICT, removed from the protocol.
    kResetWatches = 21,
    kDirectoryPart = 22,
    kGetFeature = 23,
    kSetFeature = 24,
    kGetQuota = 25,
    kSetQuota = 26,
    kTypeCount = 27,
    kInvalid = 0xffff,
};

struct Header {
    std::uint32_t type;
    std::uint32_t req_id;
    std::uint32_t tx_id;
    std::uint32_t len;
};
static_assert(sizeof(Header) == 16);

inline constexpr std::size_t kHeaderSize = sizeof(Header);
inline constexpr std::uint32_t kPayloadMax = 4096;  // XENSTORE_PAYLOAD_MAX, both directions

// Upper-case protocol name of a message type ("READ"), or "UNKNOWN".
std::string_view type_name(std::uint32_t type);

// Protocol error name for an errno value ("ENOENT"). Codes outside the
// protocol's 16-entry table map to "EINVAL".
std::string_view error_name(int code);
// Inverse of error_name; unknown names give EINVAL (as libxenstore does).
int error_code(std::string_view name);

// Append one complete message (header then payload) to `out`.
void append_message(std::string& out, Header h, std::string_view payload);
// Append an error reply for request `req` ("ENOENT\0").
void append_error(std::string& out, const Header& req, int code);

// Incremental message framer for one byte stream.
// feed() consumes bytes; next() yields complete messages one at a time.
// A header announcing more than `max_payload` bytes puts the framer in the
// failed state for good: the connection must be dropped, nothing is buffered.
class Framer {
public:
    explicit Framer(std::uint32_t max_payload = kPayloadMax) : max_payload_(max_payload) {}

    struct Message {
        Header header;
        std::string_view payload;  // valid until the next feed()/next() call
    };

    // Buffers `bytes`; returns how many were taken (all, unless failed()).
    std::size_t feed(std::string_view bytes);
    // The next complete message, if one is buffered.
    bool next(Message& out);
    // The header of the next message, once it is complete (the message
    // stays buffered).
    bool peek(Header& out) const;
    bool failed() const { return failed_; }
    // Bytes of an incomplete message currently buffered.
    std::size_t pending_bytes() const { return buf_.size() - pos_; }
    // Raw unprocessed bytes (for live update: partial input is carried over).
    std::string_view unprocessed() const { return std::string_view(buf_).substr(pos_); }
    void reset();

private:
    std::uint32_t max_payload_;
    std::string buf_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

}  // namespace xs::wire
