// Every record type written and read back in both byte orders, both
// length layouts and both versions; what version 1 leaves out.
#include <doctest/doctest.h>

#include <set>

#include "support.hpp"

using namespace xs::migration;
using namespace xs::migration::test;

namespace {

std::vector<WriterOptions> all_options() {
    std::vector<WriterOptions> out;
    for (auto version : {kVersion1, kVersion2})
        for (auto order : {ByteOrder::kLittle, ByteOrder::kBig})
            for (auto layout : {Layout::kLengthWithPadding, Layout::kDesign}) out.push_back({version, order, layout});
    return out;
}

// The type and length field of every record of a stream (END included).
std::vector<std::pair<std::uint32_t, std::uint32_t>> frames(std::string_view s, bool big) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
    auto u32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            auto b = static_cast<std::uint8_t>(s[at + (big ? i : 3 - i)]);
            v = (v << 8) | b;
        }
        return v;
    };
    for (std::size_t at = 16; at + 8 <= s.size();) {
        out.emplace_back(u32(at), u32(at + 4));
        at += 8 + (u32(at + 4) + 7) / 8 * 8;
    }
    return out;
}

}  // namespace

TEST_CASE("every record type round-trips in every byte order, layout and version") {
    Keep keep;
    auto records = sample_records(keep);
    for (auto opts : all_options()) {
        CAPTURE(opts.version);
        CAPTURE(static_cast<int>(opts.order));
        CAPTURE(static_cast<int>(opts.layout));
        Writer w(opts);
        for (const auto& r : records) CHECK(w.add(r));
        CHECK(w.error().empty());
        std::string s = w.finish();
        CHECK(s.size() % 8 == 0);
        auto reader = Reader::open(s);
        REQUIRE(reader);
        CHECK(reader->version() == opts.version);
        CHECK(reader->big_endian() == (opts.order == ByteOrder::kBig));
        check_records(s, as_read_back(records, opts, keep));
    }
}

TEST_CASE("the length counts the padding, or not with Layout::kDesign; records start 8-aligned either way") {
    Keep keep;
    auto records = sample_records(keep);
    auto padded = write_stream({kVersion2, ByteOrder::kLittle, Layout::kLengthWithPadding}, records);
    auto design = write_stream({kVersion2, ByteOrder::kLittle, Layout::kDesign}, records);
    CHECK(padded.size() == design.size());
    auto fp = frames(padded, false), fd = frames(design, false);
    REQUIRE(fp.size() == records.size() + 1);
    REQUIRE(fd.size() == fp.size());
    bool some_differ = false;
    for (std::size_t i = 0; i < fp.size(); ++i) {
        CHECK(fp[i].first == fd[i].first);
        CHECK(fp[i].second % 8 == 0);
        CHECK(fp[i].second == (fd[i].second + 7) / 8 * 8);
        some_differ |= fp[i].second != fd[i].second;
    }
    CHECK(some_differ);
    CHECK(fp.back() == std::pair<std::uint32_t, std::uint32_t>{0, 0});
}

TEST_CASE("version 1 leaves out transactions, pending nodes, watch depths and domain features") {
    Keep keep;
    auto records = sample_records(keep);
    auto v1 = write_stream({kVersion1, ByteOrder::kBig, Layout::kLengthWithPadding}, records);
    auto v2 = write_stream({kVersion2, ByteOrder::kBig, Layout::kLengthWithPadding}, records);
    std::multiset<std::uint32_t> t1, t2;
    for (auto [type, len] : frames(v1, true)) t1.insert(type);
    for (auto [type, len] : frames(v2, true)) t2.insert(type);
    auto count = [](const auto& set, RecordType t) { return set.count(static_cast<std::uint32_t>(t)); };
    CHECK(count(t1, RecordType::TransactionData) == 0);
    CHECK(count(t1, RecordType::XsTransaction) == 0);
    CHECK(count(t1, RecordType::WatchDataExtended) == 0);
    CHECK(count(t2, RecordType::TransactionData) == 1);
    CHECK(count(t2, RecordType::XsTransaction) == 1);
    CHECK(count(t2, RecordType::WatchDataExtended) == 2);
    CHECK(count(t2, RecordType::WatchData) == 1);
    CHECK(count(t1, RecordType::WatchData) == 3);
    CHECK(count(t2, RecordType::NodeData) - count(t1, RecordType::NodeData) == 2);  // the pending ones
    // xstored's other records stay: the C daemon skips them.
    for (auto t : {RecordType::XsGlobal, RecordType::XsDomain, RecordType::XsConnection, RecordType::GlobalQuotaData,
                   RecordType::DomainData})
        CHECK(count(t1, t) == 1);

    Writer w({kVersion1, ByteOrder::kLittle, Layout::kLengthWithPadding});
    std::size_t before = w.size();
    NodeData pending;
    pending.conn_id = 1;
    pending.path = "/x";
    CHECK(w.add(pending));  // left out deliberately: not an error
    CHECK(w.add(TransactionData{1, 1}));
    CHECK(w.add(XsTransaction{}));
    CHECK(w.size() == before);
    CHECK(w.error().empty());
}

TEST_CASE("native order is the host's; the header says which order the body has") {
    auto s = Writer({kVersion2, ByteOrder::kNative, Layout::kLengthWithPadding}).finish();
    auto r = Reader::open(s);
    REQUIRE(r);
    CHECK(r->big_endian() == (std::endian::native == std::endian::big));
    CHECK(Writer({kVersion2, ByteOrder::kBig, Layout::kDesign}).big_endian());
}

TEST_CASE("after END, next() keeps answering nullopt") {
    auto s = Writer({kVersion2, ByteOrder::kLittle, Layout::kDesign}).finish();
    auto r = Reader::open(s);
    REQUIRE(r);
    for (int i = 0; i < 3; ++i) {
        auto rec = r->next();
        REQUIRE(rec);
        CHECK(!rec->has_value());
    }
    CHECK(r->type() == 0);
    CHECK(r->offset() == 16);
}

TEST_CASE("finish() hands the stream over and leaves the writer empty") {
    Writer w({kVersion2, ByteOrder::kLittle, Layout::kDesign});
    w.add(GlobalData{1, 2});
    auto s = w.finish();
    CHECK(s.size() == 16 + 16 + 8);
    CHECK(w.size() == 0);
}
