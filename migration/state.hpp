// A xenstore daemon's whole state as a migration stream carries it, and
// the two directions between it and the stream's bytes. Pure code.
//
// Daemon-neutral: the daemon fills a State from its live objects before a
// live update and rebuilds them from one after it (daemon/state_*.cpp).
// decode() checks a stream completely (the format, then every reference
// between records) before it returns a State, so a bad stream never leaves
// a partly rebuilt daemon. A State may also hold one domain alone (its
// connection, watches, transactions and nodes): what moving a guest between
// hosts will carry.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/domid.hpp"
#include "migration/reader.hpp"
#include "migration/records.hpp"
#include "migration/writer.hpp"
#include "quota/items.hpp"
#include "store/transaction.hpp"
#include "store/tree.hpp"

namespace xs::migration {

using Quotas = std::vector<std::pair<std::string, std::uint32_t>>;  // by name; 0 = unlimited
using MaxUsage = std::array<std::int64_t, quota::kItemCount>;       // high-water marks per quota item

struct Watch {
    std::string path;  // as the client gave it (relative stays relative)
    std::string token;
    int depth = -1;    // -1 = unlimited
    friend bool operator==(const Watch&, const Watch&) = default;
};

// One message waiting to be written: a reply or a watch event.
struct OutMessage {
    std::string bytes;  // header + payload (only the unsent rest, for a partly written first message)
    bool reply = true;
    DomId source = XsConnection::kNoDomain;  // an event: the domain whose request caused it
    friend bool operator==(const OutMessage&, const OutMessage&) = default;
};

struct Transaction {
    std::uint32_t id = 0;
    store::Transaction::Image image;
};

struct Connection {
    enum class Kind { Ring, Socket };
    Kind kind = Kind::Socket;
    DomId domid = 0;                  // ring: the guest
    std::optional<DomId> target;      // ring: SET_TARGET
    std::uint32_t port = 0;           // ring: our local event-channel port
    std::int32_t fd = -1;             // socket
    std::optional<std::uint64_t> unique_id;  // ring: the domain's unique id
    std::string input;                // received, not yet processed (any length)
    std::vector<OutMessage> output;   // in order
    bool first_partial = false;       // output[0] is the unsent rest of a partly written message
    std::vector<Watch> watches;       // in registration order
    std::vector<Transaction> transactions;
    std::uint32_t last_tx_id = 0;     // transaction ids continue after it
    bool ignored = false;             // a guest that broke the ring protocol
    bool input_paused = false;        // flow control holds its input (its output is too long)
};

struct Domain {
    DomId id = 0;
    std::uint32_t features = 0;
    Quotas quotas;                    // the values this domain overrides
    bool shutdown_noticed = false;    // @releaseDomain/<id> fired for its shutdown
    std::uint64_t unique_id = 0;
    // Write-rate credit (steady-clock nanoseconds: the clock survives exec).
    std::optional<double> credit;
    std::int64_t credit_time_ns = 0;
    MaxUsage max_seen{};
};

struct State {
    std::uint32_t version = kVersion2;  // of the stream it came from / will go to
    GlobalData global;
    store::Tree tree;                   // committed nodes, special ones included
    std::uint64_t generation = 0;       // the tree's generation counter
    // Set by decode() only: each owner's nodes and bytes in `tree` (what
    // tree.tally() gives), counted while the tree was built, so a restore
    // does not walk a big store once more.
    store::Deltas tally;
    Quotas quotas;                      // global values
    std::vector<Connection> connections;
    std::vector<Domain> domains;
    std::uint64_t live_updates = 0;     // updates this store went through
    std::uint64_t requests = 0;         // requests handled since the first start (CONTROL stats)
    std::uint64_t quota_refusals = 0;   // requests refused for a quota since then
    std::int64_t started_ns = 0;        // when the first daemon started (wall clock); 0 = unknown
    // The reply to the request that started the live update ("OK", last in
    // its connection's output): a process that rolls the update back
    // replaces it with the reason.
    struct HeldReply {
        std::uint32_t conn = 0;  // index into `connections`
        std::uint32_t req_id = 0;
        friend bool operator==(const HeldReply&, const HeldReply&) = default;
    };
    std::optional<HeldReply> held_reply;
    MaxUsage global_max{};              // CONTROL quota max
    // Set by decode(): streams that came from xstored carry its records.
    bool from_xstored = false;
    std::size_t skipped_records = 0;    // unknown types, ignored
};

// The stream for `state`, or why it cannot be written (input over 65535
// bytes on a connection cannot be carried in a version-1 stream).
// The stream is written into `buffer`'s memory: a caller that reserved
// room for it (a big store's stream is tens of megabytes; growing it step
// by step copies it again and again) and touched that room beforehand
// spares the encoding both costs.
Expected<std::string, std::string> encode(const State& state, const WriterOptions& opts = {},
                                          std::string buffer = {});

// The state in `stream`. `priv` owns "/" and the special nodes until the
// stream says otherwise.
Parsed<State> decode(std::string_view stream, DomId priv = 0);

}  // namespace xs::migration
