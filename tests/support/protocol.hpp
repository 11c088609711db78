// Protocol helpers for tests: raw messages (for malformed input), reply
// texts, watch-event bookkeeping and connection-closed detection. Built on
// the project's client; no test framework here.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/client/xs_client.hpp"
#include "transport/wire.hpp"

namespace xs::testing {

using client::Client;
using client::Message;

// Header plus payload, with the header's len = payload size.
std::string raw_message(std::uint32_t type, std::string_view payload, std::uint32_t req_id = 0,
                        std::uint32_t tx_id = 0);
// A header alone, with any len (it need not match what follows).
std::string raw_header(std::uint32_t type, std::uint32_t req_id, std::uint32_t tx_id, std::uint32_t len);

// Each string followed by a NUL: {"a", "b"} -> "a\0b\0".
std::string nul_join(std::initializer_list<std::string_view> parts);

// A reply's payload without its one trailing NUL (if any).
std::string text(const Message& m);
// "ENOENT" for an error reply, "OK" for "OK\0", else the text; "<none>" for nullopt.
std::string summary(const std::optional<Message>& m);

struct Event {
    std::string path;
    std::string token;
    friend bool operator==(const Event&, const Event&) = default;
};
// Split a WATCH_EVENT payload "path\0token\0".
Event parse_event(const Message& m);

// Events ordered by path, then token (when several watches of one
// connection match, their relative order is not part of the protocol).
std::vector<Event> sorted(std::vector<Event> events);

// A round trip (GET_DOMAIN_PATH 0): afterwards every message the daemon
// queued for `c` before handling it has been received (watch events are
// kept in the client). False when no reply came.
bool sync(Client& c);
// sync(), then every watch event received so far, in order (drained).
std::vector<Event> take_events(Client& c);

enum class CloseOutcome { Closed, StillOpen, GotMessage };
struct CloseCheck {
    CloseOutcome outcome;
    std::optional<Message> message;  // GotMessage: what arrived instead
};
// Wait up to `wait` for the daemon to close the connection.
CloseCheck wait_closed(Client& c, std::chrono::milliseconds wait);

// The DIRECTORY_PART reply split into its generation and names.
struct DirPart {
    std::string gen;
    std::vector<std::string> names;  // the chunk's names (no final empty string)
    bool last = false;               // the chunk ended with the extra empty string
    std::size_t chunk_bytes = 0;     // bytes of names with their NULs (offset advance)
};
std::optional<DirPart> parse_dir_part(const Message& m);

// "OK" for a success, else the protocol's error name ("ENOENT"); a reply
// that never came shows as "EIO" (the client's transport error).
template <class T>
std::string outcome(const Result<T>& r) {
    return r.has_value() ? std::string("OK") : std::string(wire::error_name(r.error().code));
}

// Strings joined with `sep`, for readable comparisons in checks.
std::string joined(const std::vector<std::string>& items, std::string_view sep = ",");
// The same for a request's result; an error shows as "<ENOENT>", so a failed
// request fails the check instead of crashing the test.
std::string joined(const Result<std::vector<std::string>>& items, std::string_view sep = ",");
// A READ's value, or "<ENOENT>" for an error.
std::string value(const Result<std::string>& r);
// Events as "path|token" joined with ";".
std::string joined(const std::vector<Event>& events);

// The value of one row of a CONTROL quota text ("nodes            :  1000 ...").
std::optional<std::uint64_t> quota_row(std::string_view report, std::string_view name);

}  // namespace xs::testing
