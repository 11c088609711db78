#include "tools/dump/format.hpp"

#include <cstring>

#include "transport/wire.hpp"

namespace xs::dump {

using namespace migration;

namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string hex(std::uint64_t v) {
    std::string s;
    do {
        s.insert(s.begin(), kHex[v & 0xF]);
        v >>= 4;
    } while (v != 0);
    return "0x" + s;
}

std::string num(std::uint64_t v) { return std::to_string(v); }
std::string snum(std::int64_t v) { return std::to_string(v); }

// A name as it is when it looks like one, quoted otherwise.
std::string name(std::string_view n) {
    bool plain = !n.empty();
    for (char c : n) plain &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    return plain ? std::string(n) : quote(n);
}

std::string perms(std::span<const store::PermEntry> ps) {
    static constexpr char kChar[] = {'n', 'r', 'w', 'b'};
    std::string s;
    for (const auto& p : ps) {
        if (!s.empty()) s += ',';
        s += p.access < 4 ? kChar[p.access] : '?';
        s += num(p.domid);
        if (p.ignore) s += '!';
    }
    return s.empty() ? "none" : s;
}

template <class V>
std::string named(std::span<const V> values) {
    std::string s;
    for (const auto& v : values) s += " " + name(v.name) + "=" + num(v.value);
    return s;
}

std::uint32_t u32(std::string_view b, std::size_t at, bool big) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(b[at + (big ? i : 3 - i)]);
    return v;
}

// Protocol messages in a connection's data: whole ones, then what is left
// (an incomplete header or payload).
std::string messages(std::string_view label, std::string_view data, bool big) {
    std::string s;
    while (!data.empty()) {
        s += "\n    " + std::string(label) + ": ";
        if (data.size() < wire::kHeaderSize) {
            s += "incomplete header, " + num(data.size()) + " bytes " + quote(data);
            break;
        }
        std::uint32_t type = u32(data, 0, big), len = u32(data, 12, big);
        s += std::string(wire::type_name(type)) + " req_id=" + num(u32(data, 4, big)) + " tx_id=" + num(u32(data, 8, big)) +
             " len=" + num(len);
        std::string_view payload = data.substr(wire::kHeaderSize);
        if (payload.size() < len) {
            s += " (" + num(payload.size()) + " bytes received) " + quote(payload);
            break;
        }
        s += " " + quote(payload.substr(0, len));
        data = payload.substr(len);
    }
    return s;
}

std::string body(const GlobalData& r, bool) {
    return "socket_fd=" + snum(r.socket_fd) + " evtchn_fd=" + snum(r.evtchn_fd);
}

std::string body(const ConnectionData& r, bool big) {
    std::string s = "conn=" + num(r.conn_id);
    if (r.kind == ConnectionData::Kind::Ring) {
        s += " ring domid=" + num(r.domid) + " target=" + (r.target == kDomidInvalid ? "none" : num(r.target)) +
             " evtchn=" + num(r.evtchn);
    } else {
        s += " socket fd=" + snum(r.fd);
    }
    s += " in=" + num(r.in.size()) + " out=" + num(r.out.size()) + " out_partial=" + num(r.out_partial);
    if (r.unique_id) s += " unique_id=" + hex(*r.unique_id);
    s += messages("in", r.in, big);
    if (r.out_partial > 0) s += "\n    out: end of a partly written message, " + num(r.out_partial) + " bytes " +
                                quote(r.out.substr(0, r.out_partial));
    return s + messages("out", r.out.substr(r.out_partial), big);
}

std::string body(const WatchData& r, bool) {
    std::string s = "conn=" + num(r.conn_id) + " path=" + quote(r.path) + " token=" + quote(r.token);
    if (r.depth) s += " depth=" + (*r.depth == kDepthUnlimited ? std::string("unlimited") : num(*r.depth));
    return s;
}

std::string body(const TransactionData& r, bool) { return "conn=" + num(r.conn_id) + " tx=" + num(r.tx_id); }

std::string body(const NodeData& r, bool) {
    std::string s;
    if (r.conn_id != 0) {
        std::string access = (r.access & NodeData::kAccessRead) ? "r" : "";
        if (r.access & NodeData::kAccessWritten) access += "w";
        if (r.access & ~3) access += (access.empty() ? "" : "+") + hex(r.access & ~3);
        s = "pending conn=" + num(r.conn_id) + " tx=" + num(r.tx_id) + " access=" + (access.empty() ? "none" : access) +
            " ";
    }
    return s + "path=" + quote(r.path) + " perms=" + perms(r.perms) + " value=" + quote(r.value);
}

std::string body(const GlobalQuotaData& r, bool) {
    return "per-domain:" + named(r.per_domain) + (r.global.empty() ? "" : " global:" + named(r.global));
}

std::string body(const DomainData& r, bool) {
    return "domid=" + num(r.domid) + " features=" + hex(r.features) + named(r.quotas);
}

std::string body(const XsGlobal& r, bool) { return "values:" + named(r.values); }

std::string body(const XsDomain& r, bool) { return "domid=" + num(r.domid) + named(r.values); }

std::string body(const XsConnection& r, bool) {
    std::string s = "conn=" + num(r.conn_id) + named(r.values) + " more_in=" + num(r.more_in.size()) +
                    " out_messages=" + num(r.out.size());
    for (std::size_t i = 0; i < r.out.size(); ++i) {
        s += "\n    out " + num(i) + ": " + (r.out[i].reply ? "reply" : "event");
        if (r.out[i].source != XsConnection::kNoDomain) s += " source=" + num(r.out[i].source);
    }
    if (!r.more_in.empty()) s += "\n    more_in: " + quote(r.more_in);
    return s;
}

std::string op_name(XsTransaction::Op op) {
    static constexpr const char* kNames[] = {"FETCH", "WRITE", "MKDIR", "RM", "SET_PERMS"};
    auto i = static_cast<std::size_t>(op);
    return i < 5 ? kNames[i] : "op " + num(i);
}

std::string body(const XsTransaction& r, bool) {
    std::string s = "conn=" + num(r.conn_id) + " tx=" + num(r.tx_id) + " failure=" + snum(r.failure) +
                    " flags=" + hex(r.flags) + " digest_kind=" + num(r.digest_kind) + " entries=" +
                    num(r.entries.size()) + " deltas=" + num(r.deltas.size());
    for (const auto& d : r.deltas)
        s += "\n    delta domid=" + num(d.domid) + " nodes=" + snum(d.nodes) + " bytes=" + snum(d.bytes);
    for (std::size_t i = 0; i < r.entries.size(); ++i) {
        const auto& e = r.entries[i];
        s += "\n    entry " + num(i) + ": " + op_name(e.op) + " code=" + snum(e.code) + " path=" + quote(e.path);
        if (e.op == XsTransaction::Op::Fetch)
            s += " need=" + num(e.need) + " kind=" + num(e.kind) + " digest=" + hex(e.digest);
        if (e.op == XsTransaction::Op::Write) s += " value=" + quote(e.value);
        if (e.op == XsTransaction::Op::SetPerms) s += " perms=" + perms(e.perms);
    }
    return s;
}

std::string body(const UnknownRecord& r, bool) { return "body=" + quote(r.body); }

}  // namespace

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        auto b = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (b >= 0x20 && b < 0x7f) {
                out += c;
            } else {
                out += "\\x";
                out += kHex[b >> 4];
                out += kHex[b & 0xF];
            }
        }
    }
    return out + "\"";
}

std::string describe(const Frame& f, const Record& r) {
    std::string_view t = type_name(f.type);
    std::string head = "@" + num(f.offset) + " " + (t == "unknown" ? "unknown type " + hex(f.type) : std::string(t)) +
                       " length " + num(f.length) + ": ";
    return head + std::visit([&](const auto& rec) { return body(rec, f.big_endian); }, r);
}

void Totals::count(const Frame& f) {
    ++records_;
    ++per_type_[f.type];
    if (f.length % 8 != 0) ++unpadded_lengths_;
}

void Totals::add(const Frame& f, const Record& r) {
    count(f);
    if (const auto* n = std::get_if<NodeData>(&r)) {
        ++(n->conn_id == 0 ? nodes_ : pending_nodes_);
        path_bytes_ += n->path.size();
        value_bytes_ += n->value.size();
    }
}

std::string Totals::text(std::uint32_t version, bool big_endian, std::uint64_t stream_bytes) const {
    std::string s = "summary: version " + num(version) + ", " + (big_endian ? "big" : "little") + "-endian, " +
                    num(stream_bytes) + " bytes, " + num(records_) + " records";
    for (auto [type, n] : per_type_) {
        std::string_view t = type_name(type);
        s += "\n  " + (t == "unknown" ? "unknown type " + hex(type) : std::string(t)) + ": " + num(n);
    }
    s += "\n  nodes: " + num(nodes_) + " committed, " + num(pending_nodes_) + " pending; paths " + num(path_bytes_) +
         " bytes, values " + num(value_bytes_) + " bytes";
    s += "\n  lengths: " + (unpadded_lengths_ == 0 ? std::string("all multiples of 8 (padding counted)")
                                                  : num(unpadded_lengths_) + " without padding (design layout)");
    return s;
}

}  // namespace xs::dump
