// A small blocking xenstore protocol client: the project's own client, used
// by the integration tests, the fake-Xen proxy tests and xstore-client. It
// speaks the wire protocol directly over a byte channel (a unix socket here;
// the fake-Xen guest library supplies a ring channel).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "transport/wire.hpp"

namespace xs::client {

// A bidirectional byte stream.
class Channel {
public:
    virtual ~Channel() = default;
    // Write every byte or return false.
    virtual bool write_all(std::string_view bytes) = 0;
    // Read up to `cap` bytes, waiting at most `timeout`. Returns the count,
    // 0 on timeout, -1 on end of stream or error.
    virtual long read_some(char* buf, std::size_t cap, std::chrono::milliseconds timeout) = 0;
};

// A channel over a connected stream socket (owns the fd).
std::unique_ptr<Channel> unix_channel(int fd);
// Connect to a unix socket path; nullptr with `err` set on failure.
std::unique_ptr<Channel> connect_unix(const std::string& path, std::string& err);

struct Message {
    wire::Header header{};
    std::string payload;

    bool is_error() const { return header.type == wire::kError; }
    // The error name without its NUL ("ENOENT"), or "" when not an error.
    std::string error() const;
    // Payload split at NULs (a trailing NUL does not add an empty string).
    std::vector<std::string> strings() const;
};

class Client {
public:
    explicit Client(std::unique_ptr<Channel> ch) : ch_(std::move(ch)) {}

    std::chrono::milliseconds timeout{5000};

    // ---- raw protocol ----
    // Send raw bytes as they are (for malformed-input tests).
    bool send_raw(std::string_view bytes) { return ch_->write_all(bytes); }
    // Send one request; returns its req_id.
    std::uint32_t send(std::uint32_t type, std::string_view payload, std::uint32_t tx = 0);
    // Next message of any kind from the stream, or nullopt on timeout/EOF.
    std::optional<Message> receive(std::chrono::milliseconds wait);
    // Send a request and wait for the reply with its req_id; watch events
    // that arrive first are kept for next_event(). nullopt on timeout/EOF.
    std::optional<Message> call(std::uint32_t type, std::string_view payload, std::uint32_t tx = 0);
    // Wait for the reply to an earlier send().
    std::optional<Message> wait_reply(std::uint32_t req_id);
    // The next watch event (queued or from the stream).
    std::optional<Message> next_event(std::chrono::milliseconds wait);
    std::size_t queued_events() const { return events_.size(); }
    bool closed() const { return closed_; }

    // ---- convenience: payload-level helpers, errors as errno values ----
    Result<std::string> read(std::string_view path, std::uint32_t tx = 0);
    Result<> write(std::string_view path, std::string_view value, std::uint32_t tx = 0);
    Result<> mkdir(std::string_view path, std::uint32_t tx = 0);
    Result<> rm(std::string_view path, std::uint32_t tx = 0);
    Result<std::vector<std::string>> directory(std::string_view path, std::uint32_t tx = 0);
    Result<std::vector<std::string>> get_perms(std::string_view path, std::uint32_t tx = 0);
    Result<> set_perms(std::string_view path, const std::vector<std::string>& perms,
                       std::uint32_t tx = 0);
    Result<> watch(std::string_view path, std::string_view token,
                   std::optional<unsigned> depth = std::nullopt);
    Result<> unwatch(std::string_view path, std::string_view token);
    Result<std::uint32_t> transaction_start();
    Result<> transaction_end(std::uint32_t tx, bool commit);
    // CONTROL with the given argument strings; the reply text without its NUL.
    Result<std::string> control(const std::vector<std::string>& args);
    // Any request whose reply is a string (GET_DOMAIN_PATH, GET_QUOTA, ...).
    Result<std::string> request_string(std::uint32_t type, const std::vector<std::string>& args,
                                       std::uint32_t tx = 0);

    // Join strings each followed by a NUL: {"a","b"} -> "a\0b\0".
    static std::string join(const std::vector<std::string>& args);

private:
    Result<Message> checked_call(std::uint32_t type, std::string_view payload, std::uint32_t tx);

    std::unique_ptr<Channel> ch_;
    std::string inbuf_;
    std::deque<Message> events_;
    std::deque<Message> replies_;
    std::uint32_t next_req_ = 1;
    bool closed_ = false;
};

}  // namespace xs::client
