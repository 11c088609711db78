// One measured connection: an output buffer that collects whole windows of
// requests for a single write, an input buffer read in large chunks, and
// the table of requests in flight keyed by req_id (so replies are matched
// by id, not by order) with each one's send time.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/failure.hpp"
#include "bench/stream.hpp"
#include "transport/wire.hpp"

namespace xs::bench {

struct Reply {
    wire::Header header;
    std::string_view payload;  // valid only during the callback
    std::uint32_t request_type;
    std::uint64_t tag;         // what the sender attached
    std::uint64_t latency_ns;  // send to receipt

    bool is_error() const { return header.type == wire::kError; }
    // The error name without its NUL ("EAGAIN"), or "" for a normal reply.
    std::string_view error() const;
};

// A watch event: "path\0token\0".
struct Event {
    std::string_view path;
    std::string_view token;
};

class Conn {
public:
    // Replies larger than the protocol's 4096 bytes are accepted (oxenstored
    // sends unbounded DIRECTORY replies on sockets), up to this sanity bound.
    static constexpr std::size_t kMaxReply = 64u << 20;

    Conn(std::unique_ptr<Stream> stream, std::size_t window, int index);

    int index() const { return index_; }
    Stream& stream() { return *stream_; }
    std::size_t window() const { return window_; }
    std::size_t in_flight() const { return in_flight_; }
    bool can_send() const { return in_flight_ < window_; }

    // Queue one request whose payload is the concatenation of `parts`; it
    // goes out at the next flush. Returns the req_id. Precondition: can_send().
    std::uint32_t send(std::uint32_t type, std::uint32_t tx, std::initializer_list<std::string_view> parts,
                       std::uint64_t tag, std::uint64_t now_ns);

    // Write as much queued output as the stream takes. False on a stream error.
    bool flush();
    bool output_pending() const { return out_pos_ < out_.size(); }

    // Read what is available. Returns bytes read, 0 if none, -1 on end/error.
    // `filled` tells whether the read took all the room offered (so the
    // kernel may hold more).
    long fill_input(bool& filled);
    // The next complete message: a reply (matched to its request) or an
    // event. Returns false when none is complete yet.
    enum class Kind { kNone, kReply, kEvent };
    Checked<Kind> next(Reply& reply, Event& event, std::uint64_t now_ns);

private:
    struct Slot {
        std::uint32_t req_id = 0;
        std::uint32_t type = 0;
        std::uint64_t sent_ns = 0;
        std::uint64_t tag = 0;
        bool used = false;
    };

    std::unique_ptr<Stream> stream_;
    std::size_t window_;
    int index_;
    std::vector<Slot> slots_;
    std::uint32_t mask_;
    std::uint32_t next_id_ = 1;
    std::size_t in_flight_ = 0;
    std::string out_;
    std::size_t out_pos_ = 0;
    std::vector<char> in_;
    std::size_t in_begin_ = 0;
    std::size_t in_end_ = 0;
};

}  // namespace xs::bench
