// DIRECTORY and DIRECTORY_PART over the socket: children sorted by name
// (our decision), E2BIG over 4096 bytes, chunked listing with a generation
// (cxenstored.md §1.7, spec README).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

namespace {

// Pipelined WRITEs (empty values); returns how many replied OK.
std::size_t bulk_create(Client& c, const std::string& parent, const std::vector<std::string>& names) {
    std::vector<std::uint32_t> ids;
    for (const auto& n : names) ids.push_back(c.send(wire::kWrite, parent + "/" + n + '\0'));
    std::size_t ok = 0;
    for (auto id : ids) {
        auto r = c.wait_reply(id);
        if (r && !r->is_error()) ++ok;
    }
    return ok;
}

// n names of exactly `len` characters, in sorted order.
std::vector<std::string> fixed_names(std::size_t n, std::size_t len) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "n%0*zu", static_cast<int>(len - 1), i);
        out.emplace_back(buf);
    }
    return out;
}

struct Listing {
    bool ok = false;
    std::vector<std::string> names;
    std::string gen;
    std::size_t chunks = 0;
    std::string problem;
};

// Reassemble a listing the way a client does: offsets advance by the bytes
// of each chunk until a chunk ends with the empty string.
Listing list_by_parts(Client& c, const std::string& path, std::uint32_t tx = 0) {
    Listing l;
    auto fail = [&l](std::string why) {
        l.problem = std::move(why);
        return l;
    };
    std::size_t offset = 0;
    for (int guard = 0; guard < 1000; ++guard) {
        auto r = c.call(wire::kDirectoryPart, path + '\0' + std::to_string(offset) + '\0', tx);
        if (!r) return fail("no reply");
        if (r->is_error()) return fail("error " + r->error());
        if (r->header.type != wire::kDirectoryPart) return fail("wrong reply type");
        if (r->payload.size() > wire::kPayloadMax) return fail("reply over 4096 bytes");
        auto part = parse_dir_part(*r);
        if (!part) return fail("malformed chunk");
        if (part->gen.empty() || part->gen.find_first_not_of("0123456789") != std::string::npos) {
            return fail("generation is not decimal: " + part->gen);
        }
        if (l.chunks > 0 && part->gen != l.gen) return fail("generation changed");
        l.gen = part->gen;
        ++l.chunks;
        l.names.insert(l.names.end(), part->names.begin(), part->names.end());
        if (part->last) {
            l.ok = true;
            return l;
        }
        if (part->chunk_bytes == 0) return fail("empty chunk that is not the last");
        offset += part->chunk_bytes;
    }
    return fail("too many chunks");
}

}  // namespace

TEST_CASE("DIRECTORY of the initial tree") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kDirectory, "/\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kDirectory);
    CHECK(r->payload == "tool\0"s);  // no /local, as the C daemon
    CHECK(joined(c.directory("/tool")) == "xenstored");
    // Never /tool/xenstored/domid (xenstore-control would switch to the stub-domain protocol).
    CHECK(joined(c.directory("/tool/xenstored")) == "");
    CHECK(outcome(c.read("/tool/xenstored/domid")) == "ENOENT");
}

TEST_CASE("DIRECTORY of a node without children is an empty payload") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/leaf", "v")) == "OK");
    auto r = c.call(wire::kDirectory, "/leaf\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kDirectory);
    CHECK(r->payload.empty());
}

TEST_CASE("DIRECTORY lists children sorted by name in byte order, not insertion order") {
    Harness h;
    auto& c = h.client();
    std::vector<std::string> created = {"b", "a", "Z", "_x", "-y", "9", "aa", "A", "@at"};
    REQUIRE(bulk_create(c, "/sort", created) == created.size());
    auto sorted = created;
    std::sort(sorted.begin(), sorted.end());  // byte order: - 9 @ A Z _ a aa b
    CHECK(joined(c.directory("/sort")) == joined(sorted));
    // A removal keeps the order of the rest; a re-creation goes to its sorted place.
    REQUIRE(outcome(c.rm("/sort/A")) == "OK");
    REQUIRE(outcome(c.write("/sort/0", "")) == "OK");
    CHECK(joined(c.directory("/sort")) == "-y,0,9,@at,Z,_x,a,aa,b");
}

TEST_CASE("DIRECTORY errors: missing node, special names, malformed arguments") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.directory("/missing")) == "ENOENT");
    CHECK(outcome(c.directory("@releaseDomain")) == "EINVAL");
    CHECK(outcome(c.directory("/tool/")) == "EINVAL");
    CHECK(summary(c.call(wire::kDirectory, "/tool"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kDirectory, "/tool\0\0"s)) == "EINVAL");
}

TEST_CASE("DIRECTORY: a list of exactly 4096 bytes fits, one more name is E2BIG") {
    Harness h;
    auto& c = h.client();
    auto names = fixed_names(257, 15);  // 16 bytes each with the NUL
    std::vector<std::string> first(names.begin(), names.end() - 1);
    REQUIRE(bulk_create(c, "/big", first) == 256);
    auto r = c.call(wire::kDirectory, "/big\0"s);
    REQUIRE(r);
    CHECK(summary(r) != "E2BIG");
    CHECK(r->payload.size() == 4096);
    REQUIRE(outcome(c.write("/big/" + names.back(), "")) == "OK");
    CHECK(outcome(c.directory("/big")) == "E2BIG");
    // The connection still works after the error.
    CHECK(outcome(c.read("/big/" + names.front())) == "OK");
}

TEST_CASE("DIRECTORY_PART reassembles a long list that DIRECTORY refuses") {
    Harness h;
    auto& c = h.client();
    auto names = fixed_names(300, 15);
    REQUIRE(bulk_create(c, "/parts", names) == names.size());
    CHECK(outcome(c.directory("/parts")) == "E2BIG");
    auto l = list_by_parts(c, "/parts");
    INFO(l.problem);
    REQUIRE(l.ok);
    CHECK(l.chunks >= 2);
    CHECK(l.names == names);
}

TEST_CASE("DIRECTORY_PART chunks follow the sorted order") {
    Harness h;
    auto& c = h.client();
    std::vector<std::string> names;
    for (int i = 299; i >= 0; --i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%c%03d_padding_x", 'a' + i % 26, i);
        names.emplace_back(buf);
    }
    REQUIRE(bulk_create(c, "/unsorted", names) == names.size());
    std::sort(names.begin(), names.end());
    auto l = list_by_parts(c, "/unsorted");
    INFO(l.problem);
    REQUIRE(l.ok);
    CHECK(l.names == names);
}

TEST_CASE("DIRECTORY_PART of a short list is one chunk ending with the empty string") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kDirectoryPart, "/tool\0000\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kDirectoryPart);
    auto part = parse_dir_part(*r);
    REQUIRE(part);
    CHECK(part->last);
    CHECK(joined(part->names) == "xenstored");
    CHECK(r->payload == part->gen + "\0xenstored\0\0"s);

    REQUIRE(outcome(c.write("/nochild", "")) == "OK");
    auto e = c.call(wire::kDirectoryPart, "/nochild\0000\0"s);
    REQUIRE(e);
    auto ep = parse_dir_part(*e);
    REQUIRE(ep);
    CHECK(e->payload == ep->gen + "\0\0"s);
}

TEST_CASE("DIRECTORY_PART with an offset at or beyond the end gives <gen>\\0\\0") {
    Harness h;
    auto& c = h.client();
    // /tool's list is "xenstored\0": 10 bytes.
    for (const char* off : {"10", "11", "5000"}) {
        CAPTURE(off);
        auto r = c.call(wire::kDirectoryPart, "/tool\0"s + off + '\0');
        REQUIRE(r);
        REQUIRE(!r->is_error());
        auto part = parse_dir_part(*r);
        REQUIRE(part);
        CHECK(r->payload == part->gen + "\0\0"s);
    }
    // An offset that does not fit 32 bits still gets exactly one reply.
    auto huge = c.call(wire::kDirectoryPart, "/tool\0"s + "99999999999999999999" + '\0');
    CHECK(huge);
}

TEST_CASE("DIRECTORY_PART generation: stable while unchanged, new after a child is added") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/gen/a", "")) == "OK");
    auto gen_of = [&]() {
        auto r = c.call(wire::kDirectoryPart, "/gen\0000\0"s);
        REQUIRE(r);
        auto p = parse_dir_part(*r);
        REQUIRE(p);
        return p->gen;
    };
    std::string g1 = gen_of();
    CHECK(gen_of() == g1);
    REQUIRE(outcome(c.read("/gen/a")) == "OK");
    CHECK(gen_of() == g1);
    REQUIRE(outcome(c.write("/gen/b", "")) == "OK");
    std::string g2 = gen_of();
    CHECK(g2 != g1);
    REQUIRE(outcome(c.rm("/gen/a")) == "OK");
    CHECK(gen_of() != g2);
}

TEST_CASE("DIRECTORY_PART argument errors") {
    Harness h;
    auto& c = h.client();
    CHECK(summary(c.call(wire::kDirectoryPart, "/tool\0"s)) == "EINVAL");           // one NUL
    CHECK(summary(c.call(wire::kDirectoryPart, "/tool\0000"s)) == "EINVAL");        // offset without NUL
    CHECK(summary(c.call(wire::kDirectoryPart, "/tool\0000\0x\0"s)) == "EINVAL");   // three NULs
    CHECK(summary(c.call(wire::kDirectoryPart, "@releaseDomain\0000\0"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kDirectoryPart, "/tool/\0000\0"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kDirectoryPart, "/missing\0000\0"s)) == "ENOENT");
}

TEST_CASE("DIRECTORY and DIRECTORY_PART inside a transaction see its own changes") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/txd/a", "")) == "OK");
    auto tx = c.transaction_start();
    REQUIRE(outcome(tx) == "OK");
    REQUIRE(outcome(c.write("/txd/b", "", *tx)) == "OK");
    REQUIRE(outcome(c.rm("/txd/a", *tx)) == "OK");
    CHECK(joined(c.directory("/txd", *tx)) == "b");
    auto l = list_by_parts(c, "/txd", *tx);
    INFO(l.problem);
    REQUIRE(l.ok);
    CHECK(joined(l.names) == "b");
    // Outside, nothing changed yet.
    CHECK(joined(c.directory("/txd")) == "a");
    REQUIRE(outcome(c.transaction_end(*tx, true)) == "OK");
    CHECK(joined(c.directory("/txd")) == "b");
}
