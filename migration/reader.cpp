// Decoding a migration stream. Every field is read at an offset that was
// checked against the record's length first; every count is checked against
// what is left of the record before a vector is sized from it, so a hostile
// stream can make the reader hold at most about one record's worth of
// memory. Sizes are computed in 64 bits: a u32 count times an element size
// cannot wrap.
#include "migration/reader.hpp"

#include <cstring>
#include <string>
#include <type_traits>

#include "migration/bytes.hpp"

namespace xs::migration {
namespace {

constexpr std::string_view kIdent = "xenstore";
constexpr std::size_t kStreamHeader = 16;
constexpr std::size_t kRecordHeader = 8;
constexpr std::uint32_t kFlagBigEndian = 0x1;

// A sentence about a malformed record (the Reader adds its type and offset).
using Problem = std::string;
template <class T>
using Decoded = Expected<T, Problem>;

void append(std::string& s, std::string_view v) { s += v; }
void append(std::string& s, const char* v) { s += v; }
template <class I>
    requires std::is_integral_v<I>
void append(std::string& s, I v) {
    s += std::to_string(v);
}

template <class... A>
Unexpected<Problem> problem(const A&... parts) {
    std::string s;
    (append(s, parts), ...);
    return unexpected(std::move(s));
}

std::string hex(std::uint64_t v, int digits) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s = "0x";
    for (int i = digits - 1; i >= 0; --i) s += kDigits[(v >> (4 * i)) & 0xF];
    return s;
}

// One record's body, read in the stream's byte order. Offsets passed to
// get() were checked with need() (or are inside the fixed part).
class Body {
public:
    Body(std::string_view bytes, bool big) : b_(bytes), big_(big) {}
    std::uint64_t size() const { return b_.size(); }
    template <class T>
    T get(std::uint64_t off) const {
        return bytes::load<T>(b_.data() + off, big_);
    }
    std::string_view slice(std::uint64_t off, std::uint64_t n) const { return b_.substr(off, n); }

    // `what` must end at `end` inside the record.
    Decoded<void> need(std::uint64_t end, std::string_view what) const {
        if (end <= b_.size()) return {};
        return problem(what, " past the end of the record (needs ", end, " bytes, length ", b_.size(), ")");
    }
    // A string of `len` bytes at `off` (checked), its NUL last and only there.
    Decoded<std::string_view> cstring(std::uint64_t off, std::uint64_t len, std::string_view what) const {
        if (len == 0 || b_[off + len - 1] != '\0') return problem(what, " not NUL-terminated");
        if (std::memchr(b_.data() + off, '\0', len - 1) != nullptr) return problem(what, " contains a NUL before its end");
        return b_.substr(off, len - 1);
    }
    // `count` NUL-terminated names from `off`; calls set(i, name). Returns
    // the offset after the last NUL.
    template <class F>
    Decoded<std::uint64_t> names(std::uint64_t off, std::uint64_t count, F set) const {
        for (std::uint64_t i = 0; i < count; ++i) {
            const void* nul = off < b_.size() ? std::memchr(b_.data() + off, '\0', b_.size() - off) : nullptr;
            if (nul == nullptr) return problem("names: only ", i, " of ", count, " are NUL-terminated");
            std::uint64_t end = static_cast<const char*>(nul) - b_.data();
            set(i, b_.substr(off, end - off));
            off = end + 1;
        }
        return off;
    }

private:
    std::string_view b_;
    bool big_;
};

Decoded<void> fixed(const Body& b, std::uint64_t size) {
    if (b.size() >= size) return {};
    return problem("too short for its fixed fields (", b.size(), " of ", size, " bytes)");
}

// Permission specifiers: u8 access char, u8 flags, u16 domid.
Decoded<void> perms(const Body& b, std::uint64_t off, std::uint64_t count, std::vector<store::PermEntry>& out) {
    for (std::uint64_t i = 0; i < count; ++i, off += 4) {
        store::PermEntry e;
        switch (b.get<std::uint8_t>(off)) {
        case 'n': e.access = store::kAccessNone; break;
        case 'r': e.access = store::kAccessRead; break;
        case 'w': e.access = store::kAccessWrite; break;
        case 'b': e.access = store::kAccessBoth; break;
        default: return problem("permission ", i, ": unknown access ", hex(b.get<std::uint8_t>(off), 2));
        }
        std::uint8_t flags = b.get<std::uint8_t>(off + 1);
        if (flags & ~0x01) return problem("permission ", i, ": unknown flags ", hex(flags, 2));
        e.ignore = flags & 0x01;
        e.domid = b.get<std::uint16_t>(off + 2);
        out.push_back(e);
    }
    return {};
}

// ---- Xen's records ----

Decoded<Record> global_data(const Body& b) {
    return fixed(b, 8).map([&] { return Record(GlobalData{b.get<std::int32_t>(0), b.get<std::int32_t>(4)}); });
}

Decoded<Record> connection_data(const Body& b) {
    if (auto f = fixed(b, 24); !f) return unexpected(f.error());
    ConnectionData c;
    c.conn_id = b.get<std::uint32_t>(0);
    auto kind = b.get<std::uint16_t>(4);
    if (kind == 0) {
        c.kind = ConnectionData::Kind::Ring;
        c.domid = b.get<std::uint16_t>(8);
        c.target = b.get<std::uint16_t>(10);
        c.evtchn = b.get<std::uint32_t>(12);
    } else if (kind == 1) {
        c.kind = ConnectionData::Kind::Socket;
        c.fd = b.get<std::int32_t>(8);
    } else {
        return problem("unknown connection type ", kind);
    }
    std::uint64_t in = b.get<std::uint16_t>(16);
    c.out_partial = b.get<std::uint16_t>(18);
    std::uint64_t out = b.get<std::uint32_t>(20);
    if (c.out_partial > out) return problem("out_resp_len ", c.out_partial, " exceeds out_len ", out);
    if (auto d = b.need(24 + in + out, "data"); !d) return unexpected(d.error());
    c.in = b.slice(24, in);
    c.out = b.slice(24 + in, out);
    // Fields after the data start 8-aligned; bits we do not know name
    // fields after those we know, which we can skip.
    if (b.get<std::uint16_t>(6) & 0x1) {
        std::uint64_t at = bytes::align8(24 + in + out);
        if (auto d = b.need(at + 8, "unique_id"); !d) return unexpected(d.error());
        c.unique_id = b.get<std::uint64_t>(at);
    }
    return c;
}

Decoded<WatchData> watch_strings(const Body& b, std::uint64_t at) {
    WatchData w;
    w.conn_id = b.get<std::uint32_t>(0);
    std::uint64_t p = b.get<std::uint16_t>(4), t = b.get<std::uint16_t>(6);
    if (auto d = b.need(at + p + t, "path and token"); !d) return unexpected(d.error());
    auto path = b.cstring(at, p, "path");
    if (!path) return unexpected(path.error());
    auto token = b.cstring(at + p, t, "token");
    if (!token) return unexpected(token.error());
    w.path = *path;
    w.token = *token;
    return w;
}

Decoded<Record> watch_data(const Body& b) {
    return fixed(b, 8).and_then([&] { return watch_strings(b, 8); }).map([](WatchData w) { return Record(w); });
}

// The documented layout (depth at 8, strings at 12) first. Xen's C daemon
// writes type 8 with the strings at offset 8, no depth, and a length that
// may count 8 bytes it never wrote (the next record's header): if the
// documented layout does not hold, take that one, depth unlimited, and say
// where its bytes end (`used`) so the next record is found.
Decoded<Record> watch_data_extended(const Body& b, std::uint64_t& used) {
    if (auto f = fixed(b, 8); !f) return unexpected(f.error());
    auto documented = fixed(b, 12).and_then([&] { return watch_strings(b, 12); });
    if (documented) {
        documented->depth = b.get<std::uint16_t>(8);
        return *documented;
    }
    auto quirk = watch_strings(b, 8);
    if (!quirk) return unexpected(documented.error());
    quirk->depth = kDepthUnlimited;
    used = 8 + quirk->path.size() + quirk->token.size() + 2;
    return *quirk;
}

Decoded<Record> transaction_data(const Body& b) {
    return fixed(b, 8).map(
        [&] { return Record(TransactionData{b.get<std::uint32_t>(0), b.get<std::uint32_t>(4)}); });
}

Decoded<Record> node_data(const Body& b, std::vector<store::PermEntry>& perm_buf) {
    if (auto f = fixed(b, 16); !f) return unexpected(f.error());
    NodeData n;
    n.conn_id = b.get<std::uint32_t>(0);
    n.tx_id = b.get<std::uint32_t>(4);
    std::uint64_t p = b.get<std::uint16_t>(8), v = b.get<std::uint16_t>(10);
    n.access = b.get<std::uint16_t>(12);
    std::uint64_t count = b.get<std::uint16_t>(14);
    std::uint64_t at = 16 + 4 * count;
    if (auto d = b.need(at + p + v, "permissions, path and value"); !d) return unexpected(d.error());
    perm_buf.clear();
    if (auto r = perms(b, 16, count, perm_buf); !r) return unexpected(r.error());
    auto path = b.cstring(at, p, "path");
    if (!path) return unexpected(path.error());
    n.path = *path;
    n.value = b.slice(at + p, v);
    n.perms = perm_buf;
    return n;
}

Decoded<Record> global_quota_data(const Body& b, std::vector<NamedValue>& dom, std::vector<NamedValue>& glob) {
    if (auto f = fixed(b, 4); !f) return unexpected(f.error());
    std::uint64_t nd = b.get<std::uint16_t>(0), ng = b.get<std::uint16_t>(2);
    if (auto d = b.need(4 + 4 * (nd + ng), "values"); !d) return unexpected(d.error());
    dom.resize(nd);
    glob.resize(ng);
    // One list in the stream: the per-domain values, then the global ones.
    auto item = [&](std::uint64_t i) -> NamedValue& { return i < nd ? dom[i] : glob[i - nd]; };
    for (std::uint64_t i = 0; i < nd + ng; ++i) item(i).value = b.get<std::uint32_t>(4 + 4 * i);
    auto end = b.names(4 + 4 * (nd + ng), nd + ng, [&](std::uint64_t i, std::string_view name) { item(i).name = name; });
    if (!end) return unexpected(end.error());
    return GlobalQuotaData{dom, glob};
}

Decoded<Record> domain_data(const Body& b, std::uint32_t version, std::vector<NamedValue>& quotas) {
    if (auto f = fixed(b, 8); !f) return unexpected(f.error());
    DomainData d;
    d.domid = b.get<std::uint16_t>(0);
    std::uint64_t n = b.get<std::uint16_t>(2);
    d.features = version >= kVersion2 ? b.get<std::uint32_t>(4) : 0;
    if (auto r = b.need(8 + 4 * n, "values"); !r) return unexpected(r.error());
    quotas.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) quotas[i].value = b.get<std::uint32_t>(8 + 4 * i);
    auto end = b.names(8 + 4 * n, n, [&](std::uint64_t i, std::string_view name) { quotas[i].name = name; });
    if (!end) return unexpected(end.error());
    d.quotas = quotas;
    return d;
}

// ---- xstored's records ----

// n u64 values at `at`, then n names. Returns the offset after the names.
Decoded<std::uint64_t> named64(const Body& b, std::uint64_t at, std::uint64_t n, std::vector<NamedValue64>& out) {
    if (auto d = b.need(at + 8 * n, "values"); !d) return unexpected(d.error());
    out.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) out[i].value = b.get<std::uint64_t>(at + 8 * i);
    return b.names(at + 8 * n, n, [&](std::uint64_t i, std::string_view name) { out[i].name = name; });
}

Decoded<Record> xs_global(const Body& b, std::vector<NamedValue64>& values) {
    if (auto f = fixed(b, 8); !f) return unexpected(f.error());
    return named64(b, 8, b.get<std::uint32_t>(0), values).map([&](std::uint64_t) {
        return Record(XsGlobal{values});
    });
}

Decoded<Record> xs_domain(const Body& b, std::vector<NamedValue64>& values) {
    if (auto f = fixed(b, 8); !f) return unexpected(f.error());
    return named64(b, 8, b.get<std::uint32_t>(4), values).map([&](std::uint64_t) {
        return Record(XsDomain{b.get<std::uint16_t>(0), values});
    });
}

// Output entries: u8 flags (bit 0: reply), u8 pad, u16 source domid.
Decoded<void> out_infos(const Body& b, std::uint64_t at, std::uint64_t n, std::vector<XsConnection::OutInfo>& out) {
    out.resize(n);
    for (std::uint64_t i = 0; i < n; ++i, at += 4) {
        std::uint8_t flags = b.get<std::uint8_t>(at);
        if (flags & ~0x01) return problem("output entry ", i, ": unknown flags ", hex(flags, 2));
        out[i] = XsConnection::OutInfo{(flags & 0x01) != 0, b.get<std::uint16_t>(at + 2)};
    }
    return {};
}

Decoded<Record> xs_connection(const Body& b, std::vector<NamedValue64>& values,
                              std::vector<XsConnection::OutInfo>& outs) {
    if (auto f = fixed(b, 16); !f) return unexpected(f.error());
    XsConnection c;
    c.conn_id = b.get<std::uint32_t>(0);
    std::uint64_t nv = b.get<std::uint32_t>(4), more = b.get<std::uint32_t>(8), no = b.get<std::uint32_t>(12);
    std::uint64_t at = 16 + 8 * nv;
    if (auto d = b.need(at + 4 * no, "values and output entries"); !d) return unexpected(d.error());
    if (auto r = out_infos(b, at, no, outs); !r) return unexpected(r.error());
    values.resize(nv);
    for (std::uint64_t i = 0; i < nv; ++i) values[i].value = b.get<std::uint64_t>(16 + 8 * i);
    auto end = b.names(at + 4 * no, nv, [&](std::uint64_t i, std::string_view name) { values[i].name = name; });
    if (!end) return unexpected(end.error());
    if (auto d = b.need(*end + more, "more_in"); !d) return unexpected(d.error());
    c.values = values;
    c.more_in = b.slice(*end, more);
    c.out = outs;
    return c;
}

// One request-log entry at `at` (8-aligned): 24 fixed bytes, permissions,
// path, value. Its permissions are appended to `perm_buf`, which the caller
// reserved so that this never reallocates. Returns the end of its value.
Decoded<std::uint64_t> tx_entry(const Body& b, std::uint64_t at, XsTransaction::Entry& e,
                                std::vector<store::PermEntry>& perm_buf) {
    if (auto d = b.need(at + 24, "fixed fields"); !d) return unexpected(d.error());
    auto op = b.get<std::uint8_t>(at);
    if (op > static_cast<std::uint8_t>(XsTransaction::Op::SetPerms)) return problem("unknown op ", op);
    e.op = static_cast<XsTransaction::Op>(op);
    e.need = b.get<std::uint8_t>(at + 1);
    e.kind = b.get<std::uint8_t>(at + 2);
    e.code = b.get<std::int32_t>(at + 4);
    e.digest = b.get<std::uint64_t>(at + 8);
    std::uint64_t p = b.get<std::uint16_t>(at + 16), v = b.get<std::uint16_t>(at + 18);
    std::uint64_t count = b.get<std::uint16_t>(at + 20);
    std::uint64_t path_at = at + 24 + 4 * count;
    if (auto d = b.need(path_at + p + v, "permissions, path and value"); !d) return unexpected(d.error());
    std::size_t first = perm_buf.size();
    if (auto r = perms(b, at + 24, count, perm_buf); !r) return unexpected(r.error());
    e.perms = std::span<const store::PermEntry>(perm_buf.data() + first, count);
    auto path = b.cstring(path_at, p, "path");
    if (!path) return unexpected(path.error());
    e.path = *path;
    e.value = b.slice(path_at + p, v);
    return path_at + p + v;
}

struct TxBuffers {
    std::vector<XsTransaction::Entry>& entries;
    std::vector<store::PermEntry>& perms;
    std::vector<XsTransaction::Delta>& deltas;
};

Decoded<Record> xs_transaction(const Body& b, TxBuffers buf) {
    if (auto f = fixed(b, 32); !f) return unexpected(f.error());
    XsTransaction t;
    t.conn_id = b.get<std::uint32_t>(0);
    t.tx_id = b.get<std::uint32_t>(4);
    t.failure = b.get<std::int32_t>(8);
    t.flags = b.get<std::uint32_t>(12);
    t.digest_kind = b.get<std::uint32_t>(16);
    std::uint64_t ne = b.get<std::uint32_t>(20), nd = b.get<std::uint32_t>(24);
    // Every entry has at least its fixed part: bound the counts first.
    if (auto d = b.need(32 + 24 * nd + 24 * ne, "deltas and entries"); !d) return unexpected(d.error());
    buf.deltas.resize(nd);
    for (std::uint64_t i = 0; i < nd; ++i) {
        std::uint64_t at = 32 + 24 * i;
        buf.deltas[i] = XsTransaction::Delta{b.get<std::uint16_t>(at + 16), b.get<std::int64_t>(at),
                                             b.get<std::int64_t>(at + 8)};
    }
    buf.entries.resize(ne);
    buf.perms.clear();
    buf.perms.reserve(b.size() / 4);  // every permission takes 4 bytes of the record
    std::uint64_t at = 32 + 24 * nd;
    for (std::uint64_t i = 0; i < ne; ++i) {
        auto end = tx_entry(b, at, buf.entries[i], buf.perms);
        if (!end) return problem("entry ", i, ": ", end.error());
        at = bytes::align8(*end);
    }
    t.entries = buf.entries;
    t.deltas = buf.deltas;
    return t;
}

}  // namespace

std::string ParseError::describe() const {
    std::string s;
    if (type == kNoRecord && offset == 0) {
        s = "stream header";
    } else {
        s = "record ";
        if (type != kNoRecord) {
            std::string_view name = type_name(type);
            s += name == "unknown" ? hex(type, 8) : std::string(name);
            s += ' ';
        }
        s += "at offset " + std::to_string(offset);
    }
    return s + ": " + message;
}

Reader::Reader(std::string_view stream, std::uint32_t version, bool big_endian)
    : stream_(stream), pos_(kStreamHeader), version_(version), big_endian_(big_endian) {}

Parsed<Reader> Reader::open(std::string_view stream) {
    auto bad = [](std::string m) { return unexpected(ParseError{std::move(m), ParseError::kNoRecord, 0}); };
    if (stream.size() < kStreamHeader)
        return bad("truncated (" + std::to_string(stream.size()) + " of 16 bytes)");
    if (stream.substr(0, kIdent.size()) != kIdent) return bad("not a xenstore stream (no \"xenstore\" ident)");
    auto version = bytes::load<std::uint32_t>(stream.data() + 8, true);
    auto flags = bytes::load<std::uint32_t>(stream.data() + 12, true);
    if (version != kVersion1 && version != kVersion2)
        return bad("unsupported version " + std::to_string(version) + " (1 and 2 are known)");
    if (flags & ~kFlagBigEndian) return bad("unknown flags " + hex(flags, 8));
    return Reader(stream, version, flags & kFlagBigEndian);
}

// The body of a record whose header was read: a record, or a problem.
// `used` starts as the body's length; a decoder whose record ends earlier
// (the C daemon's WATCH_DATA_EXTENDED) lowers it.
Decoded<Record> Reader::decode(std::uint32_t type, std::string_view body, std::uint64_t& used) {
    Body b(body, big_endian_);
    switch (static_cast<RecordType>(type)) {
    case RecordType::GlobalData: return global_data(b);
    case RecordType::ConnectionData: return connection_data(b);
    case RecordType::WatchData: return watch_data(b);
    case RecordType::WatchDataExtended:
        if (version_ < kVersion2) break;  // not defined in version 1: unknown
        return watch_data_extended(b, used);
    case RecordType::TransactionData: return transaction_data(b);
    case RecordType::NodeData: return node_data(b, perms_);
    case RecordType::GlobalQuotaData: return global_quota_data(b, named_, named2_);
    case RecordType::DomainData: return domain_data(b, version_, named_);
    case RecordType::XsGlobal: return xs_global(b, named64_);
    case RecordType::XsDomain: return xs_domain(b, named64_);
    case RecordType::XsConnection: return xs_connection(b, named64_, out_info_);
    case RecordType::XsTransaction: return xs_transaction(b, TxBuffers{entries_, entry_perms_, deltas_});
    case RecordType::End: break;  // handled by next()
    }
    return UnknownRecord{type, body};
}

Parsed<std::optional<Record>> Reader::next() {
    if (ended_) return std::optional<Record>();
    offset_ = pos_;
    type_ = ParseError::kNoRecord;
    std::size_t left = stream_.size() - pos_;
    if (left == 0) return unexpected(error("truncated: the stream ends without an END record"));
    if (left < kRecordHeader)
        return unexpected(error("truncated record header (" + std::to_string(left) + " of 8 bytes)"));
    type_ = bytes::load<std::uint32_t>(stream_.data() + pos_, big_endian_);
    length_ = bytes::load<std::uint32_t>(stream_.data() + pos_ + 4, big_endian_);
    left -= kRecordHeader;
    if (length_ > left)
        return unexpected(error("length " + std::to_string(length_) + " past the end of the stream (" +
                                std::to_string(left) + " bytes left)"));
    if (type_ == static_cast<std::uint32_t>(RecordType::End)) return end(left);
    std::uint64_t used = length_;
    auto r = decode(type_, stream_.substr(pos_ + kRecordHeader, length_), used);
    if (!r) return unexpected(error(std::move(r.error())));
    // Records start 8-aligned whether or not the length counted the padding.
    pos_ = std::min<std::uint64_t>(pos_ + kRecordHeader + bytes::align8(used), stream_.size());
    return std::optional<Record>(std::move(*r));
}

// END: no body, and nothing after it.
Parsed<std::optional<Record>> Reader::end(std::size_t left) {
    if (length_ != 0) return unexpected(error("END with a body of " + std::to_string(length_) + " bytes"));
    if (left != 0) return unexpected(error(std::to_string(left) + " bytes after END"));
    ended_ = true;
    pos_ = stream_.size();
    return std::optional<Record>();
}

}  // namespace xs::migration
