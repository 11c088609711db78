#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "bench/echo_server.hpp"
#include "transport/wire.hpp"

using namespace xs::bench::echo;
using namespace xs::wire;

namespace {

std::string request(std::uint32_t type, std::uint32_t req, std::uint32_t tx, std::string_view payload) {
    std::string s;
    append_message(s, Header{type, req, tx, 0}, payload);
    return s;
}

struct Parsed {
    Header h;
    std::string payload;
};

Parsed take(std::string& out) {
    Parsed p;
    REQUIRE(out.size() >= kHeaderSize);
    std::memcpy(&p.h, out.data(), kHeaderSize);
    REQUIRE(out.size() >= kHeaderSize + p.h.len);
    p.payload = out.substr(kHeaderSize, p.h.len);
    out.erase(0, kHeaderSize + p.h.len);
    return p;
}

}  // namespace

TEST_CASE("every complete request gets a reply echoing type, req_id and tx_id") {
    std::string in = request(kRead, 7, 0, std::string("/a\0", 3)) + request(kWrite, 8, 3, std::string("/b\0v", 4)) +
                     request(kTransactionStart, 9, 0, std::string("\0", 1)) +
                     request(kDirectoryPart, 10, 0, std::string("/d\0" "0\0", 5));
    std::string out;
    CHECK(answer_requests(in, out) == static_cast<long>(in.size()));
    auto r1 = take(out);
    CHECK(r1.h.type == kRead);
    CHECK(r1.h.req_id == 7);
    CHECK(r1.payload == std::string("OK\0", 3));
    auto r2 = take(out);
    CHECK(r2.h.type == kWrite);
    CHECK(r2.h.req_id == 8);
    CHECK(r2.h.tx_id == 3);
    auto r3 = take(out);
    CHECK(r3.payload == std::string("1\0", 2));  // a transaction id a client can use
    auto r4 = take(out);
    CHECK(r4.payload == std::string("0\0\0", 3));  // generation 0, end of the list
    CHECK(out.empty());
}

TEST_CASE("a partial request is left for the next read") {
    std::string full = request(kRead, 1, 0, std::string("/abc\0", 5));
    std::string out;
    CHECK(answer_requests(full.substr(0, 10), out) == 0);
    CHECK(answer_requests(full.substr(0, full.size() - 1), out) == 0);
    CHECK(out.empty());
    std::string two = full + full.substr(0, 20);
    CHECK(answer_requests(two, out) == static_cast<long>(full.size()));
    CHECK(out.size() == kHeaderSize + 3);
}

TEST_CASE("a header announcing more than the payload maximum drops the connection") {
    Header h{kWrite, 1, 0, kPayloadMax + 1};
    std::string in(reinterpret_cast<const char*>(&h), sizeof h);
    std::string out;
    CHECK(answer_requests(in, out) == -1);
    std::string max = request(kWrite, 2, 0, std::string(kPayloadMax, 'x'));
    CHECK(answer_requests(max, out) == static_cast<long>(max.size()));
}
