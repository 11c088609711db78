#include "support.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace xs::migration::test {

std::string unhex(std::string_view hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    int high = -1;
    for (char c : hex) {
        int n = nibble(c);
        if (n < 0) continue;
        if (high < 0) {
            high = n;
        } else {
            out += static_cast<char>(high * 16 + n);
            high = -1;
        }
    }
    if (high >= 0) throw std::invalid_argument("odd number of hex digits");
    return out;
}

std::string hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0 && i % 8 == 0) s += ' ';
        auto b = static_cast<unsigned char>(bytes[i]);
        s += kDigits[b >> 4];
        s += kDigits[b & 0xF];
    }
    return s;
}

Bytes& Bytes::put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
        int shift = big_ ? 8 * (n - 1 - i) : 8 * i;
        s_ += static_cast<char>((v >> shift) & 0xFF);
    }
    return *this;
}

std::string stream_header(std::uint32_t version, bool big, std::uint32_t flags_extra) {
    return Bytes(true).raw("xenstore").u32(version).u32((big ? 1u : 0u) | flags_extra).bytes();
}

std::string record(std::uint32_t type, std::string_view body, bool big, bool length_with_padding) {
    std::size_t padded = (body.size() + 7) / 8 * 8;
    Bytes b(big);
    b.u32(type).u32(static_cast<std::uint32_t>(length_with_padding ? padded : body.size())).raw(body);
    return b.zeros(padded - body.size()).bytes();
}

std::string end_record(bool big) { return Bytes(big).u32(0).u32(0).bytes(); }

std::string stream_error(std::string_view stream) {
    auto e = for_each_record(stream, [](const Record&, const Reader&) {});
    return e ? e->describe() : std::string();
}

std::string write_stream(WriterOptions opts, std::span<const Record> records) {
    Writer w(opts);
    for (const auto& r : records) w.add(r);
    return w.finish();
}

namespace {

using namespace std::string_view_literals;
using xs::store::PermEntry;
using xs::store::kAccessBoth;
using xs::store::kAccessNone;
using xs::store::kAccessRead;
using xs::store::kAccessWrite;

ConnectionData ring(std::uint32_t id, xs::DomId domid, std::uint32_t evtchn, std::uint64_t unique_id) {
    ConnectionData c;
    c.conn_id = id;
    c.kind = ConnectionData::Kind::Ring;
    c.domid = domid;
    c.evtchn = evtchn;
    c.unique_id = unique_id;
    return c;
}

NodeData node(std::string_view path, std::string_view value, std::span<const PermEntry> perms) {
    NodeData n;
    n.path = path;
    n.value = value;
    n.perms = perms;
    return n;
}

void add_connections(std::vector<Record>& out, Keep& k) {
    out.push_back(ring(1, 0, 6, 0x1111));
    out.push_back(WatchData{1, "@releaseDomain", "rel", std::nullopt});
    ConnectionData guest = ring(2, 1, 7, 0x2222);
    guest.target = 5;
    guest.in = "\x02\0\0\0\x07\0\0\0\0\0\0\0\x05\0\0\0/a"sv;  // a READ, 2 of its 5 payload bytes
    // The last 3 bytes of a reply ("yes\0"), then a whole WATCH_EVENT.
    guest.out = "es\0\x0f\0\0\0\0\0\0\0\0\0\0\0\x19\0\0\0/local/domain/1/data\0tok\0"sv;
    guest.out_partial = 3;
    out.push_back(guest);
    out.push_back(XsConnection{2, k.span<NamedValue64>({{"flags", 1}, {"last-tx-id", 3}}), "ore input",
                               k.span<XsConnection::OutInfo>({{true, XsConnection::kNoDomain}, {false, 3}})});
    out.push_back(WatchData{2, "data", "tok", 2});
    out.push_back(WatchData{2, "/local/domain/1/x", "", kDepthUnlimited});
    out.push_back(TransactionData{2, 3});
    XsTransaction::Entry fetch;
    fetch.need = kAccessRead;
    fetch.kind = 1;
    fetch.code = 2;
    fetch.digest = 0xcbf29ce484222325;
    fetch.path = "/local/domain/1/data/missing";
    XsTransaction::Entry write;
    write.op = XsTransaction::Op::Write;
    write.path = "/local/domain/1/data/x";
    write.value = "y";
    XsTransaction::Entry perms;
    perms.op = XsTransaction::Op::SetPerms;
    perms.path = "/local/domain/1/data/x";
    perms.perms = k.span<PermEntry>({{1, kAccessNone, false}, {0, kAccessRead, false}, {9, kAccessBoth, true}});
    out.push_back(XsTransaction{2, 3, 0, XsTransaction::kFlagChanged, XsTransaction::kDigestFnv1a,
                                k.span<XsTransaction::Entry>({fetch, write, perms}),
                                k.span<XsTransaction::Delta>({{1, 1, 120}, {0, -1, -40}})});
    ConnectionData sock;
    sock.conn_id = 3;
    sock.fd = 12;
    sock.out = "\0\0\0\0\x2a\0\0\0\0\0\0\0\x03\0\0\0OK\0"sv;  // the CONTROL reply "OK"
    out.push_back(sock);
}

void add_nodes(std::vector<Record>& out, Keep& k) {
    auto dom0 = k.span<PermEntry>({{0, kAccessNone, false}});
    auto guest1 = k.span<PermEntry>({{0, kAccessNone, false}, {1, kAccessRead, false}});
    auto owned1 = k.span<PermEntry>({{1, kAccessNone, false}, {4, kAccessWrite, true}});
    out.push_back(node("/", "", dom0));
    out.push_back(node("/local", "", dom0));
    out.push_back(node("/local/domain", "", dom0));
    out.push_back(node("/local/domain/1", "", guest1));
    out.push_back(node("/local/domain/1/domid", "1", guest1));
    out.push_back(node("/local/domain/1/data", "", owned1));
    out.push_back(node("/bin", "a\0b\xff"sv, dom0));
    NodeData pending = node("/local/domain/1/data/x", "y", owned1);
    pending.conn_id = 2;
    pending.tx_id = 3;
    pending.access = NodeData::kAccessWritten;
    out.push_back(pending);
    NodeData deleted = node("/local/domain/1/old", "", {});
    deleted.conn_id = 2;
    deleted.tx_id = 3;
    out.push_back(deleted);
    out.push_back(node("@releaseDomain", "", dom0));
    out.push_back(node("@introduceDomain", "", dom0));
}

}  // namespace

std::vector<Record> sample_records(Keep& k) {
    std::vector<Record> out;
    out.push_back(GlobalData{4, 8});
    out.push_back(GlobalQuotaData{k.span<NamedValue>({{"nodes", 1000}, {"watches", 128}, {"soft-memory", 2097152}}),
                                  k.span<NamedValue>({{"x-global-only", 7}})});
    out.push_back(XsGlobal{k.span<NamedValue64>({{"generation", 1234567890123}, {"live-updates", 1}})});
    add_connections(out, k);
    add_nodes(out, k);
    out.push_back(DomainData{1, 1, k.span<NamedValue>({{"nodes", 100}, {"memory", 0}})});
    out.push_back(XsDomain{1, k.span<NamedValue64>({{"flags", 0}, {"unique-id", 0x2222}})});
    out.push_back(UnknownRecord{0x7873ffff, "future!!"});
    return out;
}

std::vector<Record> as_read_back(std::span<const Record> records, WriterOptions opts, Keep& keep) {
    bool v1 = opts.version == kVersion1;
    std::vector<Record> out;
    for (Record r : records) {
        if (v1 && (std::holds_alternative<TransactionData>(r) || std::holds_alternative<XsTransaction>(r))) continue;
        if (auto* n = std::get_if<NodeData>(&r); v1 && n && n->conn_id != 0) continue;
        if (auto* w = std::get_if<WatchData>(&r); v1 && w) w->depth.reset();
        if (auto* d = std::get_if<DomainData>(&r); v1 && d) d->features = 0;
        if (auto* u = std::get_if<UnknownRecord>(&r); u && opts.layout == Layout::kLengthWithPadding) {
            std::string body(u->body);
            body.resize((body.size() + 7) / 8 * 8, '\0');
            u->body = keep.str(std::move(body));
        }
        out.push_back(r);
    }
    return out;
}

void check_records(std::string_view stream, std::span<const Record> expected) {
    std::size_t i = 0;
    auto e = for_each_record(stream, [&](const Record& got, const Reader& r) {
        INFO("record ", i, " (", type_name(r.type()), ") at offset ", r.offset());
        REQUIRE(i < expected.size());
        CHECK(got == expected[i]);
        ++i;
    });
    if (e) FAIL_CHECK(e->describe());
    CHECK(i == expected.size());
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

void write_file(const std::string& path, std::string_view bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace xs::migration::test
