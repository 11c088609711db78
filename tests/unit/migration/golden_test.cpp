// The golden streams of tests/migration/golden (README.md there): a stream
// Debian's C xenstored 4.17 wrote, read record by record and rewritten
// byte for byte; and streams of our own writer, which must not change by
// accident.
//
// XS_GOLDEN_REGENERATE=1 makes the "our own streams" case write its files
// instead of comparing them (after a deliberate format change).
#include <doctest/doctest.h>

#include <cstdlib>

#include "support.hpp"

using namespace xs::migration;
using namespace xs::migration::test;
using namespace std::string_view_literals;
using xs::store::PermEntry;

namespace {

const std::string kDir = XS_GOLDEN_DIR;

ConnectionData ring(std::uint32_t id, xs::DomId domid, std::uint32_t evtchn) {
    ConnectionData c;
    c.conn_id = id;
    c.kind = ConnectionData::Kind::Ring;
    c.domid = domid;
    c.evtchn = evtchn;
    return c;
}

ConnectionData socket(std::uint32_t id, std::int32_t fd, std::string_view out = {}) {
    ConnectionData c;
    c.conn_id = id;
    c.fd = fd;
    c.out = out;
    return c;
}

NodeData node(std::string_view path, std::span<const PermEntry> perms, std::string_view value = {}) {
    NodeData n;
    n.path = path;
    n.perms = perms;
    n.value = value;
    return n;
}

// Every record's length field, END's included, in a little-endian stream.
std::vector<std::uint32_t> lengths(std::string_view s) {
    std::vector<std::uint32_t> out;
    auto u32 = [&](std::size_t at) {
        return static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at]) | static_cast<std::uint8_t>(s[at + 1]) << 8 |
                                          static_cast<std::uint8_t>(s[at + 2]) << 16 |
                                          static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + 3])) << 24);
    };
    for (std::size_t at = 16; at + 8 <= s.size(); at += 8 + u32(at + 4)) out.push_back(u32(at + 4));
    return out;
}

}  // namespace

TEST_CASE("golden: the stream Debian's C xenstored 4.17 wrote in a live update") {
    std::string s = read_file(kDir + "/cxenstored-4.17.bin");
    auto r = Reader::open(s);
    REQUIRE(r);
    CHECK(r->version() == kVersion1);
    CHECK(!r->big_endian());
    for (auto len : lengths(s)) CHECK(len % 8 == 0);  // lengths count the padding

    PermEntry n0[] = {{0, xs::store::kAccessNone, false}};
    PermEntry foo[] = {{0, xs::store::kAccessNone, false}, {1, xs::store::kAccessRead, false},
                       {2, xs::store::kAccessWrite, false}};
    PermEntry home1[] = {{0, xs::store::kAccessNone, false}, {1, xs::store::kAccessRead, false}};
    PermEntry home2[] = {{0, xs::store::kAccessNone, false}, {2, xs::store::kAccessRead, false}};
    PermEntry home3[] = {{0, xs::store::kAccessNone, false}, {3, xs::store::kAccessRead, false}};
    PermEntry data1[] = {{1, xs::store::kAccessNone, false}};
    PermEntry data2[] = {{2, xs::store::kAccessNone, false}};
    PermEntry data3[] = {{3, xs::store::kAccessNone, false}};
    // The reply to the held `live-update -s`: CONTROL, its req_id and
    // tx_id (0), len 3, "OK\0", in the owner connection's output.
    auto ok_reply = "\0\0\0\0" "\0\0\0\0" "\0\0\0\0" "\x03\0\0\0" "OK\0"sv;
    std::vector<Record> expected = {
        GlobalData{4, 8},
        ring(1, 0, 6),  // dom0's ring (xsd_kva), introduced at start-up
        ring(2, 1, 7),
        WatchData{2, "/local/domain/1/data", "fx1:/local/domain/1/data", std::nullopt},  // through the proxy
        ring(3, 2, 8),
        ring(4, 3, 9),
        socket(5, 11),
        WatchData{5, "/foo", "/foo", std::nullopt},
        socket(6, 12, ok_reply),  // xenstore-control
        node("@releaseDomain", n0),
        node("@introduceDomain", n0),
        node("/", n0),
        node("/tool", n0),
        node("/tool/xenstored", n0),
        node("/local", n0),
        node("/local/domain", n0),
        node("/local/domain/1", home1),
        node("/local/domain/1/domid", home1, "1"),
        node("/local/domain/1/data", data1),
        node("/local/domain/2", home2),
        node("/local/domain/2/domid", home2, "2"),
        node("/local/domain/2/data", data2),
        node("/local/domain/3", home3),
        node("/local/domain/3/domid", home3, "3"),
        node("/local/domain/3/data", data3),
        node("/foo", foo, "bar"),
    };
    check_records(s, expected);
}

TEST_CASE("golden: our writer writes the C daemon's stream byte for byte from its records") {
    std::string s = read_file(kDir + "/cxenstored-4.17.bin");
    Writer w({kVersion1, ByteOrder::kLittle, Layout::kLengthWithPadding});
    auto e = for_each_record(s, [&](const Record& r, const Reader&) { CHECK(w.add(r)); });
    CHECK(!e);
    CHECK(hex(w.finish()) == hex(s));
}

TEST_CASE("golden: our own streams (v2 little-endian, v1 big-endian) do not change by accident") {
    struct Golden {
        const char* file;
        WriterOptions opts;
    };
    bool regenerate = std::getenv("XS_GOLDEN_REGENERATE") != nullptr;
    for (auto g : {Golden{"xstored-v2-le.bin", {kVersion2, ByteOrder::kLittle, Layout::kLengthWithPadding}},
                   Golden{"xstored-v1-be.bin", {kVersion1, ByteOrder::kBig, Layout::kLengthWithPadding}}}) {
        std::string name = g.file;
        CAPTURE(name);
        Keep keep;
        auto records = sample_records(keep);
        std::string made = write_stream(g.opts, records);
        std::string path = kDir + "/" + g.file;
        if (regenerate) {
            write_file(path, made);
            MESSAGE("wrote ", path);
        }
        std::string file = read_file(path);
        CHECK(hex(file) == hex(made));
        check_records(file, as_read_back(records, g.opts, keep));
    }
}
