// Records against bytes computed by hand from the format description
// (docs/migration-stream.md): the writer must produce them and the reader
// must read them back to the same record. Hex is grouped by field.
#include <doctest/doctest.h>

#include "support.hpp"

using namespace xs::migration;
using namespace xs::migration::test;
using xs::store::PermEntry;

namespace {

const std::string kLeV2 = "78656e73746f7265 00000002 00000000";
const std::string kBeV2 = "78656e73746f7265 00000002 00000001";
const std::string kLeV1 = "78656e73746f7265 00000001 00000000";
const std::string kBeV1 = "78656e73746f7265 00000001 00000001";
const std::string kEnd = "00000000 00000000";

// Writes `r` alone and compares the stream with header + record + END;
// then reads the hand-made stream back and compares the record.
void check(WriterOptions opts, const Record& r, const std::string& header, const std::string& body_hex,
           const Record& read_back) {
    Writer w(opts);
    CHECK(w.add(r));
    CHECK(w.error().empty());
    std::string expected = unhex(header + body_hex + kEnd);
    CHECK(hex(w.finish()) == hex(expected));
    int n = 0;
    auto e = for_each_record(expected, [&](const Record& got, const Reader&) {
        CHECK(got == read_back);
        ++n;
    });
    CHECK(!e);
    CHECK(n == 1);
}

void check(WriterOptions opts, const Record& r, const std::string& header, const std::string& body_hex) {
    check(opts, r, header, body_hex, r);
}

constexpr WriterOptions le2{kVersion2, ByteOrder::kLittle, Layout::kLengthWithPadding};
constexpr WriterOptions be2{kVersion2, ByteOrder::kBig, Layout::kLengthWithPadding};
constexpr WriterOptions le2d{kVersion2, ByteOrder::kLittle, Layout::kDesign};
constexpr WriterOptions le1{kVersion1, ByteOrder::kLittle, Layout::kLengthWithPadding};
constexpr WriterOptions be1{kVersion1, ByteOrder::kBig, Layout::kLengthWithPadding};

}  // namespace

TEST_CASE("an empty stream: header and END") {
    CHECK(hex(Writer(le2).finish()) == hex(unhex(kLeV2 + kEnd)));
    CHECK(hex(Writer(be1).finish()) == hex(unhex(kBeV1 + kEnd)));
    CHECK(hex(Writer(be2).finish()) == hex(unhex(kBeV2 + kEnd)));
}

TEST_CASE("exact bytes: GLOBAL_DATA and TRANSACTION_DATA") {
    check(le2, GlobalData{4, -1}, kLeV2, "01000000 08000000 04000000 ffffffff");
    check(be2, TransactionData{1, 2}, kBeV2, "00000004 00000008 00000001 00000002");
}

TEST_CASE("exact bytes: NODE_DATA, committed and pending, both orders, both layouts") {
    PermEntry perms[] = {{0, xs::store::kAccessNone, false}, {5, xs::store::kAccessRead, true}};
    NodeData n{.path = "/a", .value = "xy", .perms = perms};
    const std::string body = "00000000 00000000 0300 0200 0000 0200 6e000000 72010500 2f6100 7879 000000";
    check(le2, n, kLeV2, "05000000 20000000" + body);
    check(le1, n, kLeV1, "05000000 20000000" + body);
    check(le2d, n, kLeV2, "05000000 1d000000" + body);

    NodeData pending{.conn_id = 3, .tx_id = 7, .path = "/a", .value = "xy",
                     .access = NodeData::kAccessRead | NodeData::kAccessWritten, .perms = perms};
    check(be2, pending, kBeV2,
          "00000005 00000020 00000003 00000007 0003 0002 0003 0002 6e000000 72010005 2f6100 7879 000000");
}

TEST_CASE("exact bytes: CONNECTION_DATA, ring with unique id and socket") {
    ConnectionData ring{.conn_id = 1, .kind = ConnectionData::Kind::Ring, .domid = 1, .target = 0x7ff4,
                        .evtchn = 9, .in = "ab", .out = "xyz", .out_partial = 1,
                        .unique_id = 0x0102030405060708};
    // data ends at 29: padding to 32, then the unique id
    check(le2, ring, kLeV2,
          "02000000 28000000 01000000 0000 0100 0100 f47f 09000000 0200 0100 03000000 6162 78797a 000000"
          "0807060504030201");
    check(le2d, ring, kLeV2,
          "02000000 28000000 01000000 0000 0100 0100 f47f 09000000 0200 0100 03000000 6162 78797a 000000"
          "0807060504030201");

    ConnectionData sock;
    sock.conn_id = 6;
    sock.kind = ConnectionData::Kind::Socket;
    sock.fd = 12;
    sock.out = "OK";
    check(le2, sock, kLeV2,
          "02000000 20000000 06000000 0100 0000 0c000000 00000000 0000 0000 02000000 4f4b 000000000000");
    check(le2d, sock, kLeV2,
          "02000000 1a000000 06000000 0100 0000 0c000000 00000000 0000 0000 02000000 4f4b 000000000000");
}

TEST_CASE("exact bytes: WATCH_DATA_EXTENDED in version 2, WATCH_DATA in version 1") {
    WatchData w{.conn_id = 2, .path = "/w", .token = "t", .depth = 3};
    check(be2, w, kBeV2, "00000008 00000018 00000002 0003 0002 0003 0000 2f7700 7400 00000000000000");
    WatchData dropped = w;
    dropped.depth.reset();
    check(be1, w, kBeV1, "00000003 00000010 00000002 0003 0002 2f7700 7400 000000", dropped);
    check(be2, dropped, kBeV2, "00000003 00000010 00000002 0003 0002 2f7700 7400 000000");
}

TEST_CASE("exact bytes: GLOBAL_QUOTA_DATA and DOMAIN_DATA (features only in version 2)") {
    NamedValue quotas[] = {{"nodes", 1000}, {"watches", 128}};
    check(le2, GlobalQuotaData{quotas, {}}, kLeV2,
          "06000000 20000000 0200 0000 e8030000 80000000 6e6f64657300 7761746368657300 000000000000");

    NamedValue dq[] = {{"nodes", 10}};
    DomainData d{.domid = 5, .features = 1, .quotas = dq};
    check(le2, d, kLeV2, "07000000 18000000 0500 0100 01000000 0a000000 6e6f64657300 000000000000");
    DomainData d1 = d;
    d1.features = 0;
    check(le1, d, kLeV1, "07000000 18000000 0500 0100 00000000 0a000000 6e6f64657300 000000000000", d1);
}

TEST_CASE("exact bytes: XS_GLOBAL, XS_DOMAIN, XS_CONNECTION") {
    NamedValue64 g[] = {{"generation", 0x1122334455667788}};
    check(le2, XsGlobal{g}, kLeV2,
          "01007378 20000000 01000000 00000000 8877665544332211 67656e65726174696f6e00 0000000000");

    NamedValue64 d[] = {{"flags", 2}};
    check(be2, XsDomain{3, d}, kBeV2, "78730002 00000018 0003 0000 00000001 0000000000000002 666c61677300 0000");

    NamedValue64 c[] = {{"last-tx-id", 9}};
    XsConnection::OutInfo out[] = {{true, XsConnection::kNoDomain}, {false, 2}};
    check(le2, XsConnection{4, c, "MORE", out}, kLeV2,
          "03007378 30000000 04000000 01000000 04000000 02000000 0900000000000000 0100ffff 00000200"
          "6c6173742d74782d696400 4d4f5245 00");
}

TEST_CASE("exact bytes: XS_TRANSACTION entries start 8-aligned; the last one's padding is the record's") {
    PermEntry both7[] = {{7, xs::store::kAccessBoth, false}};
    XsTransaction::Entry entries[2];
    entries[0] = {.op = XsTransaction::Op::Fetch, .need = 1, .kind = 2, .code = 2, .digest = 0xaabb, .path = "/x",
                  .value = {}, .perms = {}};
    entries[1].op = XsTransaction::Op::SetPerms;
    entries[1].path = "/y";
    entries[1].perms = both7;
    XsTransaction::Delta deltas[] = {{7, -1, 100}};
    XsTransaction t{.conn_id = 1, .tx_id = 2, .flags = XsTransaction::kFlagChanged, .entries = entries,
                    .deltas = deltas};
    const std::string body =
        "01000000 02000000 00000000 01000000 01000000 02000000 01000000 00000000"  // fixed part
        "ffffffffffffffff 6400000000000000 0700 0000 00000000"                       // delta
        "00 01 02 00 02000000 bbaa000000000000 0300 0000 0000 0000 2f7800 0000000000"  // entry 0, padded
        "04 00 00 00 00000000 0000000000000000 0300 0000 0100 0000 62000700 2f7900"     // entry 1
        "00";                                                                          // record padding
    check(le2, t, kLeV2, "04007378 78000000" + body);
    check(le2d, t, kLeV2, "04007378 77000000" + body);
}
