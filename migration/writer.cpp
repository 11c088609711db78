// Encoding a migration stream. Each add() first computes the record's body
// size, checks the format's limits, then grows the buffer once (zero-filled,
// which provides the padding and the pad fields; node records, which store
// every field, have only their padding zeroed) and stores the fields in
// place: one resize and a few memcpy per record.
#include "migration/writer.hpp"

#include <cstring>

#include "migration/bytes.hpp"

namespace xs::migration {
namespace {

constexpr std::uint64_t kMaxBody = 0xFFFFFFF8;  // its padded length must fit the u32 length field
constexpr std::uint64_t kMaxString = 0xFFFE;    // with its NUL in a u16 length
constexpr std::uint64_t kMaxU16 = 0xFFFF;

// Sequential stores into a record's body.
class Put {
public:
    Put(char* p, bool big) : p_(p), big_(big) {}
    template <class T>
    Put& num(T v) {
        bytes::store(p_, v, big_);
        p_ += sizeof v;
        return *this;
    }
    Put& raw(std::string_view s) {
        if (!s.empty()) std::memcpy(p_, s.data(), s.size());  // an empty view may have no data
        p_ += s.size();
        return *this;
    }
    Put& str(std::string_view s) { return raw(s).num(std::uint8_t{0}); }
    Put& skip(std::size_t n) {
        p_ += n;
        return *this;
    }

private:
    char* p_;
    bool big_;
};

// Why `s` cannot be a NUL-terminated string with a u16 length, or nullptr.
const char* string_issue(std::string_view s) {
    if (s.size() > kMaxString) return "is longer than 65534 bytes";
    if (s.find('\0') != std::string_view::npos) return "contains a NUL";
    return nullptr;
}

// The specifier's access character, or 0 for bits it cannot express.
char perm_char(std::uint8_t access) {
    switch (access) {
    case store::kAccessNone: return 'n';
    case store::kAccessRead: return 'r';
    case store::kAccessWrite: return 'w';
    case store::kAccessBoth: return 'b';
    default: return 0;
    }
}

const char* perms_issue(std::span<const store::PermEntry> perms) {
    if (perms.size() > kMaxU16) return "are more than 65535";
    for (const auto& e : perms)
        if (perm_char(e.access) == 0) return "grant more than read and write";
    return nullptr;
}

void put_perms(Put& w, std::span<const store::PermEntry> perms) {
    for (const auto& e : perms)
        w.num(static_cast<std::uint8_t>(perm_char(e.access)))
            .num(static_cast<std::uint8_t>(e.ignore ? 0x01 : 0x00))
            .num(e.domid);
}

// Named values: the size of their names with NULs, whether a name holds a
// NUL, and the stores (values, then names).
template <class V>
std::uint64_t names_size(std::span<const V> values) {
    std::uint64_t n = 0;
    for (const auto& v : values) n += v.name.size() + 1;
    return n;
}

template <class V>
bool names_ok(std::span<const V> values) {
    for (const auto& v : values)
        if (v.name.find('\0') != std::string_view::npos) return false;
    return true;
}

template <class V>
void put_values(Put& w, std::span<const V> values) {
    for (const auto& v : values) w.num(v.value);
}

template <class V>
void put_names(Put& w, std::span<const V> values) {
    for (const auto& v : values) w.str(v.name);
}

}  // namespace

Writer::Writer(WriterOptions opts, std::string buffer) : opts_(opts), out_(std::move(buffer)) {
    big_ = opts.order == ByteOrder::kBig || (opts.order == ByteOrder::kNative && bytes::kHostBig);
    if (opts.version != kVersion1 && opts.version != kVersion2)
        refuse("stream header", "version " + std::to_string(opts.version) + " is not supported");
    out_.clear();
    out_.reserve(4096);
    out_.resize(16);
    std::memcpy(out_.data(), "xenstore", 8);
    bytes::store(out_.data() + 8, opts.version, true);  // the header is big-endian
    bytes::store(out_.data() + 12, std::uint32_t{big_ ? 1u : 0u}, true);
}

bool Writer::refuse(std::string_view record, std::string_view why) {
    if (error_.empty()) error_ = std::string(record) + ": " + std::string(why);
    return false;
}

// Header and room for the body, padded; nullptr if too long. The body is
// zeroed, or (Fill::kPaddingOnly, for a caller that stores every byte of
// it: NODE_DATA, most of a big stream) only its padding is.
char* Writer::open(RecordType type, std::uint64_t body, Fill fill) {
    if (body > kMaxBody) {
        refuse(type_name(static_cast<std::uint32_t>(type)), "record of " + std::to_string(body) + " bytes is too long");
        return nullptr;
    }
    std::uint64_t padded = bytes::align8(body);
    std::size_t at = out_.size();
    std::size_t size = at + 8 + padded;
    // The size is ours, not the callback's second argument: libstdc++ 12
    // passes the grown capacity there when it reallocates.
    out_.resize_and_overwrite(size, [&](char* d, std::size_t) {
        if (fill == Fill::kZero || padded < 8) {
            std::memset(d + at + 8, 0, padded);
        } else {
            // The padding (under 8 bytes) lies in the last 8, which the
            // caller then overwrites up to the padding: one store, not a
            // memset call per record.
            constexpr std::uint64_t kZero8 = 0;
            std::memcpy(d + size - 8, &kZero8, 8);
        }
        return size;
    });
    char* p = out_.data() + at;
    bytes::store(p, static_cast<std::uint32_t>(type), big_);
    bytes::store(p + 4, static_cast<std::uint32_t>(opts_.layout == Layout::kDesign ? body : padded), big_);
    return p + 8;
}

std::string Writer::finish() {
    open(RecordType::End, 0);
    std::string s = std::move(out_);
    out_.clear();
    return s;
}

bool Writer::add(const Record& r) {
    return std::visit([this](const auto& rec) { return add(rec); }, r);
}

// ---- Xen's records ----

// Records whose fields bound their size (GLOBAL_DATA, WATCH_DATA,
// TRANSACTION_DATA, NODE_DATA) are far below the 4 GiB open() refuses.

bool Writer::add(const GlobalData& r) {
    char* p = open(RecordType::GlobalData, 8);
    Put(p, big_).num(r.socket_fd).num(r.evtchn_fd);
    return true;
}

bool Writer::add(const ConnectionData& r) {
    constexpr std::string_view kName = "CONNECTION_DATA";
    bool ring = r.kind == ConnectionData::Kind::Ring;
    if (!ring && r.kind != ConnectionData::Kind::Socket) return refuse(kName, "unknown connection kind");
    if (r.in.size() > kMaxU16) return refuse(kName, "in is longer than 65535 bytes (the rest goes into more_in)");
    if (r.out_partial > kMaxU16 || r.out_partial > r.out.size())
        return refuse(kName, "out_partial is above 65535 or out's size");
    std::uint64_t data_end = 24 + r.in.size() + r.out.size();
    char* p = open(RecordType::ConnectionData, r.unique_id ? bytes::align8(data_end) + 8 : data_end);
    if (p == nullptr) return false;
    Put w(p, big_);
    w.num(r.conn_id).num(static_cast<std::uint16_t>(r.kind)).num(static_cast<std::uint16_t>(r.unique_id ? 1 : 0));
    if (ring)
        w.num(r.domid).num(r.target).num(r.evtchn);
    else
        w.num(r.fd).skip(4);
    w.num(static_cast<std::uint16_t>(r.in.size()))
        .num(static_cast<std::uint16_t>(r.out_partial))
        .num(static_cast<std::uint32_t>(r.out.size()))
        .raw(r.in)
        .raw(r.out);
    if (r.unique_id) bytes::store(p + bytes::align8(data_end), *r.unique_id, big_);
    return true;
}

// WATCH_DATA_EXTENDED when there is a depth and version 2 can carry it.
bool Writer::add(const WatchData& r) {
    bool extended = r.depth && opts_.version >= kVersion2;
    std::string_view name = extended ? "WATCH_DATA_EXTENDED" : "WATCH_DATA";
    if (auto why = string_issue(r.path)) return refuse(name, std::string("path ") + why);
    if (auto why = string_issue(r.token)) return refuse(name, std::string("token ") + why);
    std::uint64_t fixed = extended ? 12 : 8;
    char* p = open(extended ? RecordType::WatchDataExtended : RecordType::WatchData,
                   fixed + r.path.size() + 1 + r.token.size() + 1);
    Put w(p, big_);
    w.num(r.conn_id)
        .num(static_cast<std::uint16_t>(r.path.size() + 1))
        .num(static_cast<std::uint16_t>(r.token.size() + 1));
    if (extended) w.num(*r.depth).skip(2);
    w.str(r.path).str(r.token);
    return true;
}

bool Writer::add(const TransactionData& r) {
    if (opts_.version < kVersion2) return true;  // version 1 carries no transactions
    Put(open(RecordType::TransactionData, 8), big_).num(r.conn_id).num(r.tx_id);
    return true;
}

bool Writer::add(const NodeData& r) {
    constexpr std::string_view kName = "NODE_DATA";
    if (r.conn_id != 0 && opts_.version < kVersion2) return true;  // a pending node: no transactions in v1
    if (auto why = string_issue(r.path)) return refuse(kName, std::string("path ") + why);
    if (r.value.size() > kMaxU16) return refuse(kName, "value is longer than 65535 bytes");
    if (auto why = perms_issue(r.perms)) return refuse(kName, std::string("permissions ") + why);
    std::uint64_t body = 16 + 4 * r.perms.size() + r.path.size() + 1 + r.value.size();
    Put w(open(RecordType::NodeData, body, Fill::kPaddingOnly), big_);
    w.num(r.conn_id)
        .num(r.tx_id)
        .num(static_cast<std::uint16_t>(r.path.size() + 1))
        .num(static_cast<std::uint16_t>(r.value.size()))
        .num(r.access)
        .num(static_cast<std::uint16_t>(r.perms.size()));
    put_perms(w, r.perms);
    w.str(r.path).raw(r.value);
    return true;
}

bool Writer::add(const GlobalQuotaData& r) {
    constexpr std::string_view kName = "GLOBAL_QUOTA_DATA";
    if (r.per_domain.size() > kMaxU16 || r.global.size() > kMaxU16) return refuse(kName, "more than 65535 values");
    if (!names_ok(r.per_domain) || !names_ok(r.global)) return refuse(kName, "a name contains a NUL");
    std::uint64_t n = r.per_domain.size() + r.global.size();
    char* p = open(RecordType::GlobalQuotaData, 4 + 4 * n + names_size(r.per_domain) + names_size(r.global));
    if (p == nullptr) return false;
    Put w(p, big_);
    w.num(static_cast<std::uint16_t>(r.per_domain.size())).num(static_cast<std::uint16_t>(r.global.size()));
    put_values(w, r.per_domain);
    put_values(w, r.global);
    put_names(w, r.per_domain);
    put_names(w, r.global);
    return true;
}

bool Writer::add(const DomainData& r) {
    constexpr std::string_view kName = "DOMAIN_DATA";
    if (r.quotas.size() > kMaxU16) return refuse(kName, "more than 65535 values");
    if (!names_ok(r.quotas)) return refuse(kName, "a name contains a NUL");
    char* p = open(RecordType::DomainData, 8 + 4 * r.quotas.size() + names_size(r.quotas));
    if (p == nullptr) return false;
    Put w(p, big_);
    w.num(r.domid)
        .num(static_cast<std::uint16_t>(r.quotas.size()))
        .num(opts_.version >= kVersion2 ? r.features : std::uint32_t{0});  // no features in v1
    put_values(w, r.quotas);
    put_names(w, r.quotas);
    return true;
}

// ---- xstored's records ----

bool Writer::add(const XsGlobal& r) {
    if (!names_ok(r.values)) return refuse("XS_GLOBAL", "a name contains a NUL");
    char* p = open(RecordType::XsGlobal, 8 + 8 * r.values.size() + names_size(r.values));
    if (p == nullptr) return false;
    Put w(p, big_);
    w.num(static_cast<std::uint32_t>(r.values.size())).skip(4);
    put_values(w, r.values);
    put_names(w, r.values);
    return true;
}

bool Writer::add(const XsDomain& r) {
    if (!names_ok(r.values)) return refuse("XS_DOMAIN", "a name contains a NUL");
    char* p = open(RecordType::XsDomain, 8 + 8 * r.values.size() + names_size(r.values));
    if (p == nullptr) return false;
    Put w(p, big_);
    w.num(r.domid).skip(2).num(static_cast<std::uint32_t>(r.values.size()));
    put_values(w, r.values);
    put_names(w, r.values);
    return true;
}

bool Writer::add(const XsConnection& r) {
    if (!names_ok(r.values)) return refuse("XS_CONNECTION", "a name contains a NUL");
    std::uint64_t body = 16 + 8 * r.values.size() + 4 * r.out.size() + names_size(r.values) + r.more_in.size();
    char* p = open(RecordType::XsConnection, body);
    if (p == nullptr) return false;
    Put w(p, big_);
    w.num(r.conn_id)
        .num(static_cast<std::uint32_t>(r.values.size()))
        .num(static_cast<std::uint32_t>(r.more_in.size()))
        .num(static_cast<std::uint32_t>(r.out.size()));
    put_values(w, r.values);
    for (const auto& o : r.out) w.num(static_cast<std::uint8_t>(o.reply ? 0x01 : 0x00)).skip(1).num(o.source);
    put_names(w, r.values);
    w.raw(r.more_in);
    return true;
}

namespace {

// An entry's size without its trailing padding; the next one starts at
// align8 of it.
std::uint64_t entry_size(const XsTransaction::Entry& e) {
    return 24 + 4 * e.perms.size() + e.path.size() + 1 + e.value.size();
}

const char* entry_issue(const XsTransaction::Entry& e) {
    if (e.op > XsTransaction::Op::SetPerms) return "an entry has an unknown op";
    if (string_issue(e.path)) return "an entry's path is longer than 65534 bytes or contains a NUL";
    if (e.value.size() > kMaxU16) return "an entry's value is longer than 65535 bytes";
    if (perms_issue(e.perms)) return "an entry's permissions are more than 65535 or grant more than read and write";
    return nullptr;
}

void put_entry(Put& w, const XsTransaction::Entry& e) {
    w.num(static_cast<std::uint8_t>(e.op)).num(e.need).num(e.kind).skip(1).num(e.code).num(e.digest);
    w.num(static_cast<std::uint16_t>(e.path.size() + 1))
        .num(static_cast<std::uint16_t>(e.value.size()))
        .num(static_cast<std::uint16_t>(e.perms.size()))
        .skip(2);
    put_perms(w, e.perms);
    w.str(e.path).raw(e.value);
    w.skip(bytes::align8(entry_size(e)) - entry_size(e));
}

}  // namespace

// The body ends with the last entry's value: its padding is the record's
// (counted in the length or not, as the layout says).
bool Writer::add(const XsTransaction& r) {
    if (opts_.version < kVersion2) return true;  // version 1 carries no transactions
    std::uint64_t body = 32 + 24 * r.deltas.size();
    for (const auto& e : r.entries) {
        if (auto why = entry_issue(e)) return refuse("XS_TRANSACTION", why);
        body = bytes::align8(body) + entry_size(e);
    }
    char* p = open(RecordType::XsTransaction, body);
    if (p == nullptr) return false;
    Put w(p, big_);
    w.num(r.conn_id).num(r.tx_id).num(r.failure).num(r.flags).num(r.digest_kind);
    w.num(static_cast<std::uint32_t>(r.entries.size())).num(static_cast<std::uint32_t>(r.deltas.size())).skip(4);
    for (const auto& d : r.deltas) w.num(d.nodes).num(d.bytes).num(d.domid).skip(6);
    for (const auto& e : r.entries) put_entry(w, e);
    return true;
}

bool Writer::add(const UnknownRecord& r) {
    char* p = open(static_cast<RecordType>(r.type), r.body.size());
    if (p == nullptr) return false;
    Put(p, big_).raw(r.body);
    return true;
}

}  // namespace xs::migration
