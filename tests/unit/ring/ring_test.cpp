// Ring transfer: wraparound of the 32-bit indices, copies across the buffer
// end, full and empty rings, bad indices, partial transfers.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "transport/ring.hpp"

using namespace xs::ring;

namespace {

std::unique_ptr<Interface> fresh_page() {
    auto p = std::make_unique<Interface>();
    std::memset(p.get(), 0, sizeof *p);
    return p;
}

void set_indices(Interface& page, Direction dir, std::uint32_t cons, std::uint32_t prod) {
    if (dir == Direction::kRequest) {
        page.req_cons = cons;
        page.req_prod = prod;
    } else {
        page.rsp_cons = cons;
        page.rsp_prod = prod;
    }
}

std::string pattern(std::size_t n, char seed = 'a') {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i % 23);
    return s;
}

std::string read_all(Interface& page, Direction dir, std::size_t cap = 4096) {
    std::string out(cap, '\0');
    auto n = read(page, dir, out.data(), cap);
    REQUIRE(n.has_value());
    out.resize(*n);
    return out;
}

}  // namespace

TEST_CASE("an empty ring has nothing to read and all space to write") {
    auto page = fresh_page();
    for (Direction dir : {Direction::kRequest, Direction::kResponse}) {
        CHECK(readable(*page, dir).value() == 0);
        CHECK(writable(*page, dir).value() == kRingSize);
        char buf[8];
        CHECK(read(*page, dir, buf, sizeof buf).value() == 0);
    }
}

TEST_CASE("bytes written in one direction are read back in order from that direction only") {
    auto page = fresh_page();
    std::string msg = pattern(100);
    CHECK(write(*page, Direction::kRequest, msg.data(), msg.size()).value() == 100);
    CHECK(page->req_prod == 100);
    CHECK(readable(*page, Direction::kResponse).value() == 0);
    CHECK(readable(*page, Direction::kRequest).value() == 100);
    CHECK(read_all(*page, Direction::kRequest) == msg);
    CHECK(page->req_cons == 100);
    CHECK(readable(*page, Direction::kRequest).value() == 0);
}

TEST_CASE("the response direction uses rsp[] and the rsp indices") {
    auto page = fresh_page();
    std::string msg = pattern(10, 'A');
    CHECK(write(*page, Direction::kResponse, msg.data(), msg.size()).value() == 10);
    CHECK(std::string(page->rsp, 10) == msg);
    CHECK(page->rsp_prod == 10);
    CHECK(page->req_prod == 0);
    CHECK(read_all(*page, Direction::kResponse) == msg);
    CHECK(page->rsp_cons == 10);
}

TEST_CASE("indices wrap at 2^32") {
    for (Direction dir : {Direction::kRequest, Direction::kResponse}) {
        auto page = fresh_page();
        set_indices(*page, dir, 0xFFFFFFF0u, 0xFFFFFFF0u);
        std::string msg = pattern(40);
        CHECK(write(*page, dir, msg.data(), msg.size()).value() == 40);
        std::uint32_t prod = dir == Direction::kRequest ? page->req_prod : page->rsp_prod;
        CHECK(prod == 0x18u);  // 0xFFFFFFF0 + 40, modulo 2^32
        CHECK(readable(*page, dir).value() == 40);
        CHECK(writable(*page, dir).value() == kRingSize - 40);
        CHECK(read_all(*page, dir) == msg);
        std::uint32_t cons = dir == Direction::kRequest ? page->req_cons : page->rsp_cons;
        CHECK(cons == 0x18u);
    }
}

TEST_CASE("a message straddling offset 1023 -> 0 is copied in two pieces") {
    auto page = fresh_page();
    // 1000 = offset 1000 of the buffer; 60 bytes end at offset 36 after wrapping.
    set_indices(*page, Direction::kRequest, 1000, 1000);
    std::string msg = pattern(60);
    CHECK(write(*page, Direction::kRequest, msg.data(), msg.size()).value() == 60);
    CHECK(std::string(page->req + 1000, 24) == msg.substr(0, 24));
    CHECK(std::string(page->req, 36) == msg.substr(24));
    CHECK(read_all(*page, Direction::kRequest) == msg);
}

TEST_CASE("straddling and 2^32 wraparound together") {
    auto page = fresh_page();
    // 0xFFFFFFFA masks to offset 1018: the copy wraps in the buffer and the
    // index wraps in the same write.
    set_indices(*page, Direction::kResponse, 0xFFFFFFFAu, 0xFFFFFFFAu);
    std::string msg = pattern(16);
    CHECK(write(*page, Direction::kResponse, msg.data(), msg.size()).value() == 16);
    CHECK(page->rsp_prod == 10u);
    CHECK(std::string(page->rsp + 1018, 6) == msg.substr(0, 6));
    CHECK(read_all(*page, Direction::kResponse) == msg);
}

TEST_CASE("a completely full ring is legal in both directions") {
    for (Direction dir : {Direction::kRequest, Direction::kResponse}) {
        auto page = fresh_page();
        set_indices(*page, dir, 0xFFFFFF00u, 0xFFFFFF00u);
        std::string msg = pattern(kRingSize + 100);
        CHECK(write(*page, dir, msg.data(), msg.size()).value() == kRingSize);
        CHECK(readable(*page, dir).value() == kRingSize);
        CHECK(writable(*page, dir).value() == 0);
        CHECK(write(*page, dir, "x", 1).value() == 0);  // full: nothing more fits
        CHECK(read_all(*page, dir) == msg.substr(0, kRingSize));
        CHECK(writable(*page, dir).value() == kRingSize);
    }
}

TEST_CASE("a full ring set up by the other side reads all 1024 bytes") {
    auto page = fresh_page();
    std::string msg = pattern(kRingSize, '0');
    std::memcpy(page->req, msg.data(), kRingSize);
    set_indices(*page, Direction::kRequest, 5, 5 + kRingSize);
    // Starting at offset 5, the data is req[5..1023] then req[0..4].
    std::string expect = msg.substr(5) + msg.substr(0, 5);
    CHECK(read_all(*page, Direction::kRequest) == expect);
}

TEST_CASE("producer more than 1024 ahead is an index error and nothing moves") {
    for (Direction dir : {Direction::kRequest, Direction::kResponse}) {
        auto page = fresh_page();
        set_indices(*page, dir, 100, 100 + kRingSize + 1);
        char buf[16] = {};
        auto r = read(*page, dir, buf, sizeof buf);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == kRingIndexError);
        CHECK_FALSE(readable(*page, dir).has_value());
        CHECK_FALSE(writable(*page, dir).has_value());
        CHECK_FALSE(write(*page, dir, "abc", 3).has_value());
        std::uint32_t cons = dir == Direction::kRequest ? page->req_cons : page->rsp_cons;
        std::uint32_t prod = dir == Direction::kRequest ? page->req_prod : page->rsp_prod;
        CHECK(cons == 100);
        CHECK(prod == 100 + kRingSize + 1);
    }
}

TEST_CASE("consumer ahead of producer is an index error") {
    auto page = fresh_page();
    set_indices(*page, Direction::kRequest, 50, 49);
    char buf[16];
    CHECK_FALSE(read(*page, Direction::kRequest, buf, sizeof buf).has_value());
    set_indices(*page, Direction::kResponse, 7, 0);
    auto w = write(*page, Direction::kResponse, "abc", 3);
    REQUIRE_FALSE(w.has_value());
    CHECK(w.error().code == kRingIndexError);
    CHECK(page->rsp_prod == 0);
}

TEST_CASE("a hostile distance across the 2^32 boundary is still caught") {
    auto page = fresh_page();
    set_indices(*page, Direction::kRequest, 0xFFFFFF00u, 0x00000401u);  // 1281 ahead
    CHECK_FALSE(readable(*page, Direction::kRequest).has_value());
    set_indices(*page, Direction::kRequest, 0xFFFFFF00u, 0x00000300u);  // exactly 1024 ahead
    CHECK(readable(*page, Direction::kRequest).value() == kRingSize);
}

TEST_CASE("partial reads take what the caller has room for and leave the rest") {
    auto page = fresh_page();
    std::string msg = pattern(300);
    REQUIRE(write(*page, Direction::kRequest, msg.data(), msg.size()).value() == 300);
    std::string got = read_all(*page, Direction::kRequest, 120);
    CHECK(got == msg.substr(0, 120));
    CHECK(page->req_cons == 120);
    CHECK(readable(*page, Direction::kRequest).value() == 180);
    CHECK(read_all(*page, Direction::kRequest) == msg.substr(120));
}

TEST_CASE("partial writes fill the free space and report how much went in") {
    auto page = fresh_page();
    set_indices(*page, Direction::kResponse, 0, 1000);  // 24 bytes free
    std::string msg = pattern(50);
    CHECK(write(*page, Direction::kResponse, msg.data(), msg.size()).value() == 24);
    CHECK(page->rsp_prod == 1024);
    // The consumer frees 30 bytes; the rest of the message goes in, wrapping.
    page->rsp_cons = 30;
    CHECK(write(*page, Direction::kResponse, msg.data() + 24, 26).value() == 26);
    CHECK(page->rsp_prod == 1050);
    CHECK(std::string(page->rsp + 1000, 24) == msg.substr(0, 24));
    CHECK(std::string(page->rsp, 26) == msg.substr(24));
}

TEST_CASE("a zero-length transfer changes nothing") {
    auto page = fresh_page();
    set_indices(*page, Direction::kRequest, 3, 10);
    CHECK(read(*page, Direction::kRequest, nullptr, 0).value() == 0);
    CHECK(write(*page, Direction::kRequest, nullptr, 0).value() == 0);
    CHECK(page->req_cons == 3);
    CHECK(page->req_prod == 10);
}

TEST_CASE("many messages through a small window keep their bytes in order across wraps") {
    auto page = fresh_page();
    set_indices(*page, Direction::kRequest, 0xFFFFF000u, 0xFFFFF000u);
    std::string sent, received;
    std::string chunk(700, '\0');
    for (int round = 0; round < 40; ++round) {
        std::string msg = pattern(333 + round, static_cast<char>('a' + round % 5));
        std::size_t off = 0;
        while (off < msg.size()) {
            auto n = write(*page, Direction::kRequest, msg.data() + off, msg.size() - off);
            REQUIRE(n.has_value());
            off += *n;
            auto r = read(*page, Direction::kRequest, chunk.data(), chunk.size());
            REQUIRE(r.has_value());
            received.append(chunk.data(), *r);
        }
        sent += msg;
    }
    received += read_all(*page, Direction::kRequest);
    CHECK(received == sent);
}
