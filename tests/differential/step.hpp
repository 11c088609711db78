// One step of a differential run, and its text form (the reproducer
// format, docs/conformance.md "Differential testing"). A step names its
// connection and transaction symbolically, so that the same step means the
// same thing on both daemons and still means something when a shrinker
// drops the steps around it.
//
//   req g3 WRITE h1 "data/x\0value"      request; payload with \0 \xNN \\ \" escapes,
//                                         \p3; for domain 3's xenstore port, \g3; for its frame
//   req s0 TRANSACTION_START - "" bind=h1  the reply's id becomes handle h1
//   req s1 #99 #77 "x"                  an unknown type (a number); a raw transaction id
//   oversize g3 5000                    a header announcing 5000 bytes
//   host create 3 | host shutdown 3 crash | host destroy 3 [dying]
//   conn open s1 | conn close s1
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/domid.hpp"

namespace xs::diff {

// A connection: a dom0 socket (s0, s1, ...), dom0's own ring (r0) or a
// guest's ring (g<domid>).
struct ConnRef {
    enum class Kind : std::uint8_t { Socket, Dom0Ring, Guest } kind = Kind::Socket;
    std::uint32_t index = 0;  // the socket's number, or the guest's domid

    bool privileged() const { return kind != Kind::Guest; }
    DomId domid() const { return kind == Kind::Guest ? static_cast<DomId>(index) : 0; }
    friend auto operator<=>(const ConnRef&, const ConnRef&) = default;
};

// The transaction a request names: none (id 0), a handle bound by an
// earlier TRANSACTION_START, or a literal id (bad ids).
struct TxRef {
    enum class Kind : std::uint8_t { None, Handle, Raw } kind = Kind::None;
    std::uint32_t value = 0;
    friend bool operator==(const TxRef&, const TxRef&) = default;
};

// A payload: literal bytes with placeholders for what differs between the
// two fake hosts (a domain's event channel port and ring frame).
struct Payload {
    struct Piece {
        enum class Kind : std::uint8_t { Bytes, Port, Gfn } kind = Kind::Bytes;
        std::string bytes;  // Bytes
        DomId domid = 0;    // Port, Gfn
        friend bool operator==(const Piece&, const Piece&) = default;
    };
    std::vector<Piece> pieces;

    Payload() = default;
    Payload(std::string bytes) { append(std::move(bytes)); }  // NOLINT: implicit on purpose
    void append(std::string bytes);
    void append_port(DomId d) { pieces.push_back({Piece::Kind::Port, {}, d}); }
    void append_gfn(DomId d) { pieces.push_back({Piece::Kind::Gfn, {}, d}); }
    // The literal bytes (placeholders left out): what rules look at.
    std::string literal() const;
    friend bool operator==(const Payload&, const Payload&) = default;
};

struct Step {
    enum class Kind : std::uint8_t { Request, Oversize, Create, Shutdown, Destroy, Open, Close } kind = Kind::Request;
    ConnRef conn;            // Request, Oversize, Open, Close
    std::uint32_t type = 0;  // Request: the message type
    TxRef tx;                // Request
    Payload payload;         // Request
    std::optional<std::uint32_t> bind;  // Request TRANSACTION_START: the handle it binds
    DomId domid = 0;         // Create, Shutdown, Destroy
    std::uint32_t arg = 0;   // Oversize: the announced length; Shutdown: the reason; Destroy: 1 = stop at dying

    bool is_request() const { return kind == Kind::Request; }
    bool is_host() const { return kind == Kind::Create || kind == Kind::Shutdown || kind == Kind::Destroy; }
    friend bool operator==(const Step&, const Step&) = default;
};

std::string to_text(const ConnRef& c);
std::string to_text(const TxRef& t);
std::string to_text(const Payload& p);
std::string to_text(const Step& s);

std::optional<ConnRef> parse_conn(std::string_view text);
// One line of the text form; nullopt with `why` set when it is malformed.
std::optional<Step> parse_step(std::string_view line, std::string& why);

// A whole reproducer: comment lines (#) and blank lines are skipped.
struct Script {
    std::vector<std::string> comments;
    std::vector<Step> steps;
};
std::string to_text(const Script& s);
std::optional<Script> parse_script(std::string_view text, std::string& why);

// The payload's NUL-terminated strings (bytes after the last NUL are not
// one), as the daemons split them.
std::vector<std::string> strings_of(std::string_view payload);

// A path (or an event's) made absolute as both daemons do for `conn`.
std::string absolute_path(const std::string& p, const ConnRef& conn);
// The path a request names (its first string), made absolute.
std::string request_path(const Step& s);
// A request step of `conn`.
Step request(const ConnRef& c, std::uint32_t type, TxRef tx, std::string payload);

}  // namespace xs::diff
