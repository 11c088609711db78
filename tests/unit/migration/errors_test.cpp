// Malformed streams: every error path of the reader, with its message and
// offset; the leniencies (unknown types, padding, the C daemon's
// WATCH_DATA_EXTENDED); what the writer refuses.
#include <doctest/doctest.h>

#include "support.hpp"

using namespace xs::migration;
using namespace xs::migration::test;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

constexpr std::uint32_t kNode = 5;

// header + one record (length exactly its body: nothing hidden in padding) + END.
std::string one(std::uint32_t type, const Bytes& body, std::uint32_t version = kVersion2) {
    bool big = false;
    return stream_header(version, big) + record(type, body.bytes(), big, false) + end_record(big);
}

std::string err(std::uint32_t type, const Bytes& body, std::uint32_t version = kVersion2) {
    return stream_error(one(type, body, version));
}

std::string at16(std::string_view name, std::string_view msg) {
    return "record " + std::string(name) + " at offset 16: " + std::string(msg);
}

// NODE_DATA's fixed part: committed, the given lengths and count.
Bytes node_head(std::uint16_t path_len, std::uint16_t value_len, std::uint16_t perms) {
    Bytes b;
    b.u32(0).u32(0).u16(path_len).u16(value_len).u16(0).u16(perms);
    return b;
}

}  // namespace

TEST_CASE("stream header errors") {
    auto open_error = [](std::string_view s) {
        auto r = Reader::open(s);
        REQUIRE(!r);
        CHECK(r.error().type == ParseError::kNoRecord);
        CHECK(r.error().offset == 0);
        return r.error().describe();
    };
    CHECK(open_error("") == "stream header: truncated (0 of 16 bytes)");
    CHECK(open_error(stream_header(1, false).substr(0, 12)) == "stream header: truncated (12 of 16 bytes)");
    CHECK(open_error("xenstorf" + stream_header(1, false).substr(8)) ==
          "stream header: not a xenstore stream (no \"xenstore\" ident)");
    CHECK(open_error(stream_header(0, false)) == "stream header: unsupported version 0 (1 and 2 are known)");
    CHECK(open_error(stream_header(3, true)) == "stream header: unsupported version 3 (1 and 2 are known)");
    // The header is big-endian whatever the body's order: version 1 written little-endian is 16777216.
    CHECK(open_error("xenstore" + Bytes(false).u32(1).u32(0).bytes()) ==
          "stream header: unsupported version 16777216 (1 and 2 are known)");
    CHECK(open_error(stream_header(2, false, 0x2)) == "stream header: unknown flags 0x00000002");
    CHECK(open_error(stream_header(1, true, 0x80000000)) == "stream header: unknown flags 0x80000001");
    CHECK(Reader::open(stream_header(1, true) + end_record(true)));
}

TEST_CASE("truncation, lengths past the end, END and what follows it") {
    std::string h = stream_header(2, false);
    CHECK(stream_error(h) == "record at offset 16: truncated: the stream ends without an END record");
    std::string global = record(1, Bytes().u32(1).u32(2).bytes(), false);
    CHECK(stream_error(h + global) == "record at offset 32: truncated: the stream ends without an END record");
    CHECK(stream_error(h + global + "\x05\0\0\0\x20"s) == "record at offset 32: truncated record header (5 of 8 bytes)");
    CHECK(stream_error(h + Bytes().u32(kNode).u32(64).zeros(10).bytes()) ==
          at16("NODE_DATA", "length 64 past the end of the stream (10 bytes left)"));
    CHECK(stream_error(h + Bytes().u32(0x12345678).u32(9).zeros(8).bytes()) ==
          "record 0x12345678 at offset 16: length 9 past the end of the stream (8 bytes left)");
    CHECK(stream_error(h + record(0, "12345678", false) + end_record(false)) ==
          at16("END", "END with a body of 8 bytes"));
    CHECK(stream_error(h + end_record(false) + end_record(false)) == at16("END", "8 bytes after END"));
    CHECK(stream_error(h + end_record(false) + "\0"s) == at16("END", "1 bytes after END"));
    CHECK(stream_error(h + global + end_record(false)).empty());
}

TEST_CASE("a ParseError names the record and its offset; the reader's error() does the same") {
    std::string s = stream_header(2, true) + record(1, Bytes(true).u32(1).u32(2).bytes(), true) +
                    record(kNode, node_head(0, 0, 0).bytes(), true) + end_record(true);
    auto r = Reader::open(s);
    REQUIRE(r);
    REQUIRE(r->next());
    CHECK(r->offset() == 16);
    CHECK(r->type() == 1);
    CHECK(r->length() == 8);
    CHECK(r->error("bad fd").describe() == "record GLOBAL_DATA at offset 16: bad fd");
    auto e = r->next();
    REQUIRE(!e);
    CHECK(e.error().type == kNode);
    CHECK(e.error().offset == 32);
    CHECK(e.error().message == "path not NUL-terminated");
    CHECK(e.error().describe() == "record NODE_DATA at offset 32: path not NUL-terminated");
}

TEST_CASE("fixed parts too short") {
    struct Case {
        std::uint32_t type;
        std::string_view name;
        int size;
    };
    for (auto c : {Case{1, "GLOBAL_DATA", 8}, Case{2, "CONNECTION_DATA", 24}, Case{3, "WATCH_DATA", 8},
                   Case{4, "TRANSACTION_DATA", 8}, Case{5, "NODE_DATA", 16}, Case{6, "GLOBAL_QUOTA_DATA", 4},
                   Case{7, "DOMAIN_DATA", 8}, Case{8, "WATCH_DATA_EXTENDED", 8}, Case{0x78730001, "XS_GLOBAL", 8},
                   Case{0x78730002, "XS_DOMAIN", 8}, Case{0x78730003, "XS_CONNECTION", 16},
                   Case{0x78730004, "XS_TRANSACTION", 32}}) {
        CAPTURE(c.name);
        CHECK(err(c.type, Bytes().zeros(3)) ==
              at16(c.name, "too short for its fixed fields (3 of " + std::to_string(c.size) + " bytes)"));
    }
}

TEST_CASE("NODE_DATA: counts, strings and permissions") {
    CHECK(err(kNode, node_head(3, 0, 100).str("/a")) ==
          at16("NODE_DATA", "permissions, path and value past the end of the record (needs 419 bytes, length 19)"));
    CHECK(err(kNode, node_head(3, 5, 0).str("/a").raw("xy")) ==
          at16("NODE_DATA", "permissions, path and value past the end of the record (needs 24 bytes, length 21)"));
    CHECK(err(kNode, node_head(3, 0, 0).raw("/ab")) == at16("NODE_DATA", "path not NUL-terminated"));
    CHECK(err(kNode, node_head(0, 0, 0)) == at16("NODE_DATA", "path not NUL-terminated"));
    CHECK(err(kNode, node_head(4, 0, 0).raw("/\0a\0"s)) == at16("NODE_DATA", "path contains a NUL before its end"));
    CHECK(err(kNode, node_head(2, 0, 2).raw("n\0\0\0x\0\x01\0"s).str("/")) ==
          at16("NODE_DATA", "permission 1: unknown access 0x78"));
    CHECK(err(kNode, node_head(2, 0, 1).raw("r\x02\0\0"s).str("/")) ==
          at16("NODE_DATA", "permission 0: unknown flags 0x02"));
    CHECK(err(kNode, node_head(2, 0, 1).raw("R\0\0\0"s).str("/")) ==
          at16("NODE_DATA", "permission 0: unknown access 0x52"));
    // Values are binary; trailing bytes inside the length are padding.
    CHECK(err(kNode, node_head(2, 3, 1).raw("b\x01\x07\0"s).str("/").raw("\0\0\0"s).zeros(5)).empty());
}

TEST_CASE("CONNECTION_DATA: type, lengths, unique id") {
    auto head = [](std::uint16_t type, std::uint16_t fields, std::uint16_t in, std::uint16_t resp, std::uint32_t out) {
        Bytes b;
        b.u32(1).u16(type).u16(fields).zeros(8).u16(in).u16(resp).u32(out);
        return b;
    };
    CHECK(err(2, head(2, 0, 0, 0, 0)) == at16("CONNECTION_DATA", "unknown connection type 2"));
    CHECK(err(2, head(1, 0, 0, 5, 3).raw("abc")) == at16("CONNECTION_DATA", "out_resp_len 5 exceeds out_len 3"));
    CHECK(err(2, head(0, 0, 4, 0, 3).raw("abcdef")) ==
          at16("CONNECTION_DATA", "data past the end of the record (needs 31 bytes, length 30)"));
    CHECK(err(2, head(0, 1, 1, 0, 0).raw("a").zeros(7).zeros(7)) ==
          at16("CONNECTION_DATA", "unique_id past the end of the record (needs 40 bytes, length 39)"));
    // Field bits we do not know name fields after ours: skipped.
    CHECK(err(2, head(0, 0x8001, 1, 0, 0).raw("a").zeros(7).u64(5).zeros(8)).empty());
}

TEST_CASE("WATCH_DATA and WATCH_DATA_EXTENDED: strings") {
    auto head = [](std::uint16_t p, std::uint16_t t) {
        Bytes b;
        b.u32(1).u16(p).u16(t);
        return b;
    };
    CHECK(err(3, head(3, 4).str("/a").raw("tok")) ==
          at16("WATCH_DATA", "path and token past the end of the record (needs 15 bytes, length 14)"));
    CHECK(err(3, head(3, 3).str("/a").raw("tok")) == at16("WATCH_DATA", "token not NUL-terminated"));
    CHECK(err(3, head(3, 1).str("/a").str("")).empty());
    CHECK(err(3, head(3, 4).str("/a").raw("t\0k\0"s)) == at16("WATCH_DATA", "token contains a NUL before its end"));
    // Neither the documented layout nor the C daemon's: the documented layout's complaint.
    CHECK(err(8, head(3, 4).u16(1).u16(0).raw("/ab").str("tok")) ==
          at16("WATCH_DATA_EXTENDED", "path not NUL-terminated"));
}

TEST_CASE("quota records: values and names must fit") {
    CHECK(err(6, Bytes().u16(2).u16(1).u32(1).u32(2)) ==
          at16("GLOBAL_QUOTA_DATA", "values past the end of the record (needs 16 bytes, length 12)"));
    CHECK(err(6, Bytes().u16(1).u16(1).u32(1).u32(2).str("a").raw("b")) ==
          at16("GLOBAL_QUOTA_DATA", "names: only 1 of 2 are NUL-terminated"));
    CHECK(err(7, Bytes().u16(1).u16(3).u32(0).u32(1).u32(2)) ==
          at16("DOMAIN_DATA", "values past the end of the record (needs 20 bytes, length 16)"));
    CHECK(err(7, Bytes().u16(1).u16(1).u32(0).u32(1)) == at16("DOMAIN_DATA", "names: only 0 of 1 are NUL-terminated"));
}

TEST_CASE("DOMAIN_DATA's features are read in version 2 only") {
    auto body = Bytes().u16(3).u16(0).u32(0xabc);
    for (auto [version, features] : {std::pair{kVersion1, 0u}, std::pair{kVersion2, 0xabcu}}) {
        int n = 0;
        auto e = for_each_record(one(7, body, version), [&](const Record& r, const Reader&) {
            CHECK(std::get<DomainData>(r).features == features);
            ++n;
        });
        CHECK(!e);
        CHECK(n == 1);
    }
}

TEST_CASE("xstored's records: counts, flags, names, ops") {
    CHECK(err(0x78730001, Bytes().u32(0x20000000).u32(0).u64(1)) ==
          at16("XS_GLOBAL", "values past the end of the record (needs 4294967304 bytes, length 16)"));
    CHECK(err(0x78730002, Bytes().u16(1).u16(0).u32(1).u64(1).raw("flags")) ==
          at16("XS_DOMAIN", "names: only 0 of 1 are NUL-terminated"));
    auto conn = [](std::uint32_t nv, std::uint32_t more, std::uint32_t nout) {
        Bytes b;
        b.u32(1).u32(nv).u32(more).u32(nout);
        return b;
    };
    CHECK(err(0x78730003, conn(1, 0, 2).u64(1).u32(0)) ==
          at16("XS_CONNECTION", "values and output entries past the end of the record (needs 32 bytes, length 28)"));
    CHECK(err(0x78730003, conn(0, 0, 2).u8(1).u8(0).u16(0).u8(3).u8(0).u16(0)) ==
          at16("XS_CONNECTION", "output entry 1: unknown flags 0x03"));
    CHECK(err(0x78730003, conn(1, 5, 0).u64(1).str("x").raw("abcd")) ==
          at16("XS_CONNECTION", "more_in past the end of the record (needs 31 bytes, length 30)"));
    CHECK(err(0x78730003, conn(1, 4, 0).u64(1).str("x").raw("abcd")).empty());
}

TEST_CASE("XS_TRANSACTION: counts, entries, ops") {
    auto head = [](std::uint32_t entries, std::uint32_t deltas) {
        Bytes b;
        b.u32(1).u32(2).u32(0).u32(0).u32(1).u32(entries).u32(deltas).u32(0);
        return b;
    };
    auto entry = [](Bytes& b, std::uint8_t op, std::uint16_t p, std::uint16_t v, std::uint16_t perms) -> Bytes& {
        return b.u8(op).u8(0).u8(0).u8(0).u32(0).u64(0).u16(p).u16(v).u16(perms).u16(0);
    };
    CHECK(err(0x78730004, head(1, 1)) ==
          at16("XS_TRANSACTION", "deltas and entries past the end of the record (needs 80 bytes, length 32)"));
    CHECK(err(0x78730004, head(0xffffffff, 0)) ==
          at16("XS_TRANSACTION", "deltas and entries past the end of the record (needs 103079215112 bytes, length 32)"));
    Bytes b = head(1, 0);
    CHECK(err(0x78730004, entry(b, 5, 2, 0, 0).str("/")) == at16("XS_TRANSACTION", "entry 0: unknown op 5"));
    b = head(2, 0);
    entry(b, 0, 2, 0, 0).str("/").pad8();
    Bytes b2 = b;
    CHECK(err(0x78730004, entry(b, 1, 3, 2, 0).raw("/xyab")) == at16("XS_TRANSACTION", "entry 1: path not NUL-terminated"));
    CHECK(err(0x78730004, entry(b2, 4, 2, 0, 1).raw("q\0\0\0/\0"s)) ==
          at16("XS_TRANSACTION", "entry 1: permission 0: unknown access 0x71"));
    b = head(2, 0);
    entry(b, 0, 2, 0, 0).str("/").pad8();
    CHECK(err(0x78730004, entry(b, 1, 2, 30, 0).str("/").zeros(8)) ==
          at16("XS_TRANSACTION",
               "entry 1: permissions, path and value past the end of the record (needs 120 bytes, length 98)"));
    b = head(2, 0);
    entry(b, 0, 2, 0, 0).str("/");  // no padding after entry 0: entry 1 starts at the next 8-byte boundary
    CHECK(err(0x78730004, b.zeros(24)) ==
          at16("XS_TRANSACTION", "entry 1: fixed fields past the end of the record (needs 88 bytes, length 82)"));
}

TEST_CASE("unknown record types come back as UnknownRecord and reading goes on") {
    std::string s = stream_header(2, true) + record(0x99, "abc", true, false) + record(0x7873abcd, "", true) +
                    record(1, Bytes(true).u32(7).u32(8).bytes(), true) + end_record(true);
    std::vector<std::string> seen;
    auto e = for_each_record(s, [&](const Record& r, const Reader& rd) {
        if (auto* u = std::get_if<UnknownRecord>(&r)) {
            seen.push_back(std::to_string(u->type) + ":" + std::string(u->body) + "@" + std::to_string(rd.offset()));
        } else {
            CHECK(std::get<GlobalData>(r) == GlobalData{7, 8});
            seen.push_back("global@" + std::to_string(rd.offset()));
        }
    });
    CHECK(!e);
    CHECK(seen == std::vector<std::string>{"153:abc@16", "2020846541:@32", "global@40"});
}

TEST_CASE("WATCH_DATA_EXTENDED is unknown in version 1") {
    auto body = Bytes().u32(1).u16(2).u16(2).u16(4).u16(0).str("/").str("t");
    int n = 0;
    auto e = for_each_record(one(8, body, kVersion1), [&](const Record& r, const Reader&) {
        CHECK(std::get<UnknownRecord>(r).type == 8);
        ++n;
    });
    CHECK(!e);
    CHECK(n == 1);
}

TEST_CASE("padding is skipped whatever it holds, whether or not the length counts it") {
    Bytes g;
    g.u32(3).u32(4);
    std::string h = stream_header(2, false);
    std::string design = record(3, Bytes().u32(1).u16(2).u16(2).str("/").str("t").bytes(), false, false);
    design.replace(design.size() - 4, 4, "\xff\xee\xdd\xcc");  // garbage in the padding
    int n = 0;
    auto e = for_each_record(h + design + record(1, g.bytes(), false) + end_record(false),
                             [&](const Record& r, const Reader&) {
                                 if (n++ == 0) CHECK(std::get<WatchData>(r).token == "t");
                                 else CHECK(std::get<GlobalData>(r) == GlobalData{3, 4});
                             });
    CHECK(!e);
    CHECK(n == 2);
}

// Xen's C daemon (upstream, not 4.17) writes type 8 as WATCH_DATA with a
// length computed for the documented layout: strings at 8, depth lost, and
// a length 8 bytes too long when (path_len + token_len) % 8 is 0, 5, 6 or 7.
TEST_CASE("the C daemon's WATCH_DATA_EXTENDED: strings at offset 8, depth unlimited, the next record found") {
    for (std::string_view path : {"/ab", "/local/domain/1/data", "/x", "/abcd"}) {
        CAPTURE(path);
        std::string_view token = "tok";
        std::uint64_t p = path.size() + 1, t = token.size() + 1;
        Bytes body;
        body.u32(7).u16(static_cast<std::uint16_t>(p)).u16(static_cast<std::uint16_t>(t)).str(path).str(token).pad8();
        std::uint32_t declared = static_cast<std::uint32_t>((12 + p + t + 7) / 8 * 8);
        std::string s = stream_header(2, false) + Bytes().u32(8).u32(declared).bytes() + body.bytes() +
                        record(1, Bytes().u32(5).u32(6).bytes(), false) + end_record(false);
        std::vector<Record> expected = {WatchData{7, path, token, kDepthUnlimited}, GlobalData{5, 6}};
        check_records(s, expected);
    }
}

TEST_CASE("the writer refuses what the format cannot carry, writes nothing of it and says why") {
    constexpr WriterOptions le{kVersion2, ByteOrder::kLittle, Layout::kLengthWithPadding};
    auto refused = [&](const Record& r) {
        Writer w(le);
        std::size_t before = w.size();
        CHECK(!w.add(r));
        CHECK(w.size() == before);
        CHECK(stream_error(w.finish()).empty());  // still a well-formed stream
        return w.error();
    };
    std::string big_in(65536, 'i');
    ConnectionData c;
    c.in = big_in;
    CHECK(refused(c) == "CONNECTION_DATA: in is longer than 65535 bytes (the rest goes into more_in)");
    c.in = std::string_view(big_in).substr(1);
    CHECK(Writer(le).add(c));
    c.out = "ab";
    c.out_partial = 3;
    CHECK(refused(c) == "CONNECTION_DATA: out_partial is above 65535 or out's size");
    c.out_partial = 2;
    CHECK(Writer(le).add(c));
    c.kind = static_cast<ConnectionData::Kind>(7);
    CHECK(refused(c) == "CONNECTION_DATA: unknown connection kind");

    std::string long_path(65535, 'p');
    NodeData n;
    n.path = long_path;
    CHECK(refused(n) == "NODE_DATA: path is longer than 65534 bytes");
    n.path = std::string_view(long_path).substr(1);
    CHECK(Writer(le).add(n));
    n.path = "/a\0b"sv;
    CHECK(refused(n) == "NODE_DATA: path contains a NUL");
    n.path = "/a";
    std::string big_value(65536, 'v');
    n.value = big_value;
    CHECK(refused(n) == "NODE_DATA: value is longer than 65535 bytes");
    n.value = "";
    xs::store::PermEntry owner[] = {{0, xs::store::kAccessOwner, false}};
    n.perms = owner;
    CHECK(refused(n) == "NODE_DATA: permissions grant more than read and write");
    std::vector<xs::store::PermEntry> many(65536);
    n.perms = many;
    CHECK(refused(n) == "NODE_DATA: permissions are more than 65535");

    CHECK(refused(WatchData{1, "/a", "t\0k"sv, std::nullopt}) == "WATCH_DATA: token contains a NUL");
    CHECK(refused(WatchData{1, "/a\0"sv, "t", 3}) == "WATCH_DATA_EXTENDED: path contains a NUL");
    NamedValue bad[] = {{"a\0b"sv, 1}};
    CHECK(refused(DomainData{1, 0, bad}) == "DOMAIN_DATA: a name contains a NUL");
    CHECK(refused(GlobalQuotaData{{}, bad}) == "GLOBAL_QUOTA_DATA: a name contains a NUL");
    NamedValue64 bad64[] = {{"\0"sv, 1}};
    CHECK(refused(XsGlobal{bad64}) == "XS_GLOBAL: a name contains a NUL");
    CHECK(refused(XsDomain{1, bad64}) == "XS_DOMAIN: a name contains a NUL");
    CHECK(refused(XsConnection{1, bad64, "", {}}) == "XS_CONNECTION: a name contains a NUL");
    XsTransaction::Entry e[1];
    e[0].op = static_cast<XsTransaction::Op>(5);
    e[0].path = "/";
    CHECK(refused(XsTransaction{1, 1, 0, 0, 1, e, {}}) == "XS_TRANSACTION: an entry has an unknown op");
}

TEST_CASE("the writer keeps the first refusal; an unsupported version is one") {
    Writer w({kVersion2, ByteOrder::kLittle, Layout::kDesign});
    CHECK(!w.add(WatchData{1, "\0"sv, "", std::nullopt}));
    CHECK(!w.add(NodeData{.conn_id = 0, .tx_id = 0, .path = "\0"sv, .value = {}, .access = 0, .perms = {}}));
    CHECK(w.error() == "WATCH_DATA: path contains a NUL");
    CHECK(w.add(GlobalData{}));

    Writer v3({3, ByteOrder::kLittle, Layout::kDesign});
    CHECK(v3.error() == "stream header: version 3 is not supported");
    CHECK(stream_error(v3.finish()) == "stream header: unsupported version 3 (1 and 2 are known)");
}
