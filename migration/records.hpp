// The records of the xenstore migration stream (Xen's
// docs/designs/xenstore-migration.md), as plain structs. Pure code.
//
// Strings and byte blocks are views: a record returned by the Reader points
// into the stream buffer (valid while the buffer lives); a record handed to
// the Writer is copied into the stream at once. docs/migration-stream.md
// describes every field, what we write and what we accept.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "base/domid.hpp"
#include "store/perms.hpp"

namespace xs::migration {

// Record type numbers. 0..8 are Xen's; the 0x7873xxxx ("xs") range holds
// xstored's own records, which other readers skip as unknown types (the
// design reserves 9 and up for its future use; ours stay far from there).
enum class RecordType : std::uint32_t {
    End = 0,
    GlobalData = 1,
    ConnectionData = 2,
    WatchData = 3,
    TransactionData = 4,
    NodeData = 5,
    GlobalQuotaData = 6,
    DomainData = 7,
    WatchDataExtended = 8,
    XsGlobal = 0x78730001,
    XsDomain = 0x78730002,
    XsConnection = 0x78730003,
    XsTransaction = 0x78730004,
};

// "END", "NODE_DATA", "XS_TRANSACTION", ... or "unknown".
std::string_view type_name(std::uint32_t type);

inline constexpr std::uint32_t kVersion1 = 1;
inline constexpr std::uint32_t kVersion2 = 2;
inline constexpr std::uint16_t kDepthUnlimited = 0xFFFF;  // WATCH_DATA_EXTENDED

// Element-wise equality of two arrays (the records' operator== below; a
// span has none of its own).
template <class T>
bool same_items(std::span<const T> a, std::span<const T> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

struct GlobalData {
    std::int32_t socket_fd = -1;  // listening socket, -1 if none
    std::int32_t evtchn_fd = -1;
    friend bool operator==(const GlobalData&, const GlobalData&) = default;
};

struct ConnectionData {
    enum class Kind : std::uint16_t { Ring = 0, Socket = 1 };
    std::uint32_t conn_id = 0;  // non-zero, unique in the stream
    Kind kind = Kind::Socket;
    // Ring: the guest, the domain it acts for (SET_TARGET, kDomidInvalid if
    // none), and our local event-channel port.
    DomId domid = 0;
    DomId target = kDomidInvalid;
    std::uint32_t evtchn = 0;
    // Socket: the connected socket's fd.
    std::int32_t fd = -1;
    std::string_view in;           // received, not yet processed (at most 65535 bytes)
    std::string_view out;          // not yet written: out_partial bytes ending a partly
    std::uint32_t out_partial = 0; // written message first, then whole messages
    std::optional<std::uint64_t> unique_id;  // ring: the domain's unique id (fields bit 0)
    friend bool operator==(const ConnectionData&, const ConnectionData&) = default;
};

// WATCH_DATA, or WATCH_DATA_EXTENDED when `depth` is set (version 2 only:
// the writer drops the depth in a version-1 stream).
struct WatchData {
    std::uint32_t conn_id = 0;
    std::string_view path;   // as the client gave it (relative stays relative)
    std::string_view token;
    std::optional<std::uint16_t> depth;  // kDepthUnlimited = no limit
    friend bool operator==(const WatchData&, const WatchData&) = default;
};

struct TransactionData {
    std::uint32_t conn_id = 0;
    std::uint32_t tx_id = 0;
    friend bool operator==(const TransactionData&, const TransactionData&) = default;
};

// NODE_DATA: a committed node (conn_id 0) or a node as a pending transaction
// sees it (conn_id, tx_id). A pending node with no permissions is deleted in
// that transaction.
struct NodeData {
    static constexpr std::uint16_t kAccessRead = 0x1;
    static constexpr std::uint16_t kAccessWritten = 0x2;
    std::uint32_t conn_id = 0;
    std::uint32_t tx_id = 0;
    std::string_view path;   // absolute, or "@introduceDomain" / "@releaseDomain"
    std::string_view value;
    std::uint16_t access = 0;  // pending nodes only
    std::span<const store::PermEntry> perms;  // owner first; Reader: valid until its next call
    friend bool operator==(const NodeData& a, const NodeData& b) {
        return a.conn_id == b.conn_id && a.tx_id == b.tx_id && a.path == b.path && a.value == b.value &&
               a.access == b.access && same_items(a.perms, b.perms);
    }
};

// A named 32-bit value (quotas: 0 = unlimited).
struct NamedValue {
    std::string_view name;
    std::uint32_t value = 0;
    friend bool operator==(const NamedValue&, const NamedValue&) = default;
};

// A named 64-bit value (xstored's records).
struct NamedValue64 {
    std::string_view name;
    std::uint64_t value = 0;
    friend bool operator==(const NamedValue64&, const NamedValue64&) = default;
};

struct GlobalQuotaData {
    std::span<const NamedValue> per_domain;  // defaults for every domain
    std::span<const NamedValue> global;      // global-only values (none today)
    friend bool operator==(const GlobalQuotaData& a, const GlobalQuotaData& b) {
        return same_items(a.per_domain, b.per_domain) && same_items(a.global, b.global);
    }
};

struct DomainData {
    DomId domid = 0;
    std::uint32_t features = 0;  // version 2 only (written as 0 in version 1)
    std::span<const NamedValue> quotas;
    friend bool operator==(const DomainData& a, const DomainData& b) {
        return a.domid == b.domid && a.features == b.features && same_items(a.quotas, b.quotas);
    }
};

// ---- xstored's records (docs/migration-stream.md) ----

// Daemon-wide values: "generation", "live-updates", "max-nodes", ...
struct XsGlobal {
    std::span<const NamedValue64> values;
    friend bool operator==(const XsGlobal& a, const XsGlobal& b) { return same_items(a.values, b.values); }
};

// What a domain carries beyond DOMAIN_DATA: "flags", "unique-id",
// "credit-micro", "credit-time-ns", "max-<quota item>", ...
struct XsDomain {
    DomId domid = 0;
    std::span<const NamedValue64> values;
    friend bool operator==(const XsDomain& a, const XsDomain& b) {
        return a.domid == b.domid && same_items(a.values, b.values);
    }
};

// What a connection carries beyond CONNECTION_DATA: named values
// ("flags", "last-tx-id"), input beyond CONNECTION_DATA's 65535 bytes
// (it follows `in` there), and one entry per output message (the partly
// written one first): whether it is a reply, and the domain whose request
// caused an event (kNoDomain if none).
struct XsConnection {
    static constexpr std::uint16_t kNoDomain = 0xFFFF;
    struct OutInfo {
        bool reply = true;
        DomId source = kNoDomain;
        friend bool operator==(const OutInfo&, const OutInfo&) = default;
    };
    std::uint32_t conn_id = 0;
    std::span<const NamedValue64> values;
    std::string_view more_in;
    std::span<const OutInfo> out;
    friend bool operator==(const XsConnection& a, const XsConnection& b) {
        return a.conn_id == b.conn_id && same_items(a.values, b.values) && a.more_in == b.more_in &&
               same_items(a.out, b.out);
    }
};

// The request log of a pending transaction (TRANSACTION_DATA plus its
// pending NODE_DATA records give its view; this gives what it must replay
// at commit).
struct XsTransaction {
    enum class Op : std::uint8_t { Fetch = 0, Write = 1, Mkdir = 2, Rm = 3, SetPerms = 4 };
    struct Entry {
        Op op = Op::Fetch;
        std::uint8_t need = 0;   // Fetch: access asked for
        std::uint8_t kind = 0;   // Fetch: store::ReadKind
        std::int32_t code = 0;   // errno of the reply, 0 for success
        std::uint64_t digest = 0;  // Fetch: digest of what it returned
        std::string_view path;
        std::string_view value;    // Write
        std::span<const store::PermEntry> perms;  // SetPerms
        friend bool operator==(const Entry& a, const Entry& b) {
            return a.op == b.op && a.need == b.need && a.kind == b.kind && a.code == b.code &&
                   a.digest == b.digest && a.path == b.path && a.value == b.value &&
                   same_items(a.perms, b.perms);
        }
    };
    struct Delta {  // net change per owner so far (nodes, bytes)
        DomId domid = 0;
        std::int64_t nodes = 0;
        std::int64_t bytes = 0;
        friend bool operator==(const Delta&, const Delta&) = default;
    };
    static constexpr std::uint32_t kFlagChanged = 0x1;  // it changed something
    static constexpr std::uint32_t kDigestFnv1a = 1;    // the digest algorithm of `digest`
    std::uint32_t conn_id = 0;
    std::uint32_t tx_id = 0;
    std::int32_t failure = 0;       // errno that poisoned it, 0 if none
    std::uint32_t flags = 0;
    std::uint32_t digest_kind = kDigestFnv1a;
    std::span<const Entry> entries;
    std::span<const Delta> deltas;
    friend bool operator==(const XsTransaction& a, const XsTransaction& b) {
        return a.conn_id == b.conn_id && a.tx_id == b.tx_id && a.failure == b.failure && a.flags == b.flags &&
               a.digest_kind == b.digest_kind && same_items(a.entries, b.entries) &&
               same_items(a.deltas, b.deltas);
    }
};

// A record of a type this reader does not know (skipped).
struct UnknownRecord {
    std::uint32_t type = 0;
    std::string_view body;
    friend bool operator==(const UnknownRecord&, const UnknownRecord&) = default;
};

using Record = std::variant<GlobalData, ConnectionData, WatchData, TransactionData, NodeData, GlobalQuotaData,
                            DomainData, XsGlobal, XsDomain, XsConnection, XsTransaction, UnknownRecord>;

}  // namespace xs::migration
