#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "transport/wire.hpp"

using namespace xs::wire;

static std::string msg(std::uint32_t type, std::uint32_t req, std::string_view payload) {
    std::string s;
    append_message(s, Header{type, req, 0, 0}, payload);
    return s;
}

TEST_CASE("error names follow the protocol table, unknown codes become EINVAL") {
    CHECK(error_name(ENOENT) == "ENOENT");
    CHECK(error_name(EPERM) == "EPERM");
    CHECK(error_name(E2BIG) == "E2BIG");
    CHECK(error_name(EBADF) == "EINVAL");
    CHECK(error_code("EAGAIN") == EAGAIN);
    CHECK(error_code("EWHATEVER") == EINVAL);
}

TEST_CASE("type names") {
    CHECK(type_name(kRead) == "READ");
    CHECK(type_name(kDirectoryPart) == "DIRECTORY_PART");
    CHECK(type_name(kSetQuota) == "SET_QUOTA");
    CHECK(type_name(999) == "UNKNOWN");
}

TEST_CASE("framer yields messages split at any byte boundary") {
    std::string stream = msg(kRead, 1, std::string("/a\0", 3)) + msg(kWrite, 2, std::string("/b\0xy", 5)) +
                         msg(kTransactionStart, 3, "");
    for (std::size_t step = 1; step <= stream.size(); ++step) {
        Framer f;
        std::vector<std::pair<std::uint32_t, std::string>> got;
        for (std::size_t i = 0; i < stream.size(); i += step) {
            f.feed(std::string_view(stream).substr(i, step));
            Framer::Message m;
            while (f.next(m)) got.emplace_back(m.header.req_id, std::string(m.payload));
        }
        REQUIRE(got.size() == 3);
        CHECK(got[0].second == std::string("/a\0", 3));
        CHECK(got[1].second == std::string("/b\0xy", 5));
        CHECK(got[2].first == 3);
        CHECK(got[2].second.empty());
        CHECK(f.pending_bytes() == 0);
    }
}

TEST_CASE("framer refuses a header announcing more than the payload limit") {
    for (std::uint32_t len : {4097u, 0x40000001u, 0x80000000u, 0xFFFFFFFFu}) {
        Framer f;
        Header h{kRead, 1, 0, len};
        f.feed(std::string_view(reinterpret_cast<const char*>(&h), sizeof h));
        CHECK(f.failed());
        Framer::Message m;
        CHECK_FALSE(f.next(m));
        CHECK(f.feed("more") == 0);
    }
    Framer ok;
    Header h{kRead, 1, 0, 4096};
    ok.feed(std::string_view(reinterpret_cast<const char*>(&h), sizeof h));
    CHECK_FALSE(ok.failed());
}

TEST_CASE("messages before an oversized header are still delivered") {
    Framer f;
    std::string s = msg(kRead, 7, std::string("/a\0", 3));
    Header bad{kRead, 8, 0, 5000};
    s.append(reinterpret_cast<const char*>(&bad), sizeof bad);
    f.feed(s);
    Framer::Message m;
    REQUIRE(f.next(m));
    CHECK(m.header.req_id == 7);
    CHECK_FALSE(f.next(m));
    CHECK(f.failed());
}

TEST_CASE("append_error builds an ERROR reply echoing ids") {
    std::string out;
    append_error(out, Header{kRead, 42, 9, 3}, ENOENT);
    REQUIRE(out.size() == 16 + 7);
    Header h;
    std::memcpy(&h, out.data(), 16);
    CHECK(h.type == kError);
    CHECK(h.req_id == 42);
    CHECK(h.tx_id == 9);
    CHECK(h.len == 7);
    CHECK(out.substr(16) == std::string("ENOENT\0", 7));
}
