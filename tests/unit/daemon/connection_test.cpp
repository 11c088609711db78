// A connection's transaction ids (xsa.md table 2, d763fcc163, 88bea76202,
// 0897514b4b, 496673a2ad): ids are never 0 ("no transaction") and never one
// still open, through the 2^31 boundary (where 31-bit builds truncated) and
// the 2^32 wrap.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <set>

#include "daemon/connection.hpp"
#include "store/transaction.hpp"
#include "store/tree.hpp"

using namespace xs;
using namespace xs::daemon;

namespace {

struct Fixture {
    std::uint64_t generation = 0;
    store::Tree tree = store::Tree::initial(0, generation);
    Connection conn{1, Connection::Kind::Ring, 5, false};

    std::uint32_t open() { return conn.add_transaction(std::make_unique<store::Transaction>(tree, 0), Clock::time_point{}); }
};

}  // namespace

TEST_CASE("transaction ids count up from 1") {
    Fixture f;
    CHECK(f.open() == 1u);
    CHECK(f.open() == 2u);
    CHECK(f.conn.transactions() == 2);
}

TEST_CASE("transaction ids cross 2^31 without going negative or to 0") {
    Fixture f;
    f.conn.set_last_transaction_id(0x7FFFFFFEu);
    CHECK(f.open() == 0x7FFFFFFFu);
    CHECK(f.open() == 0x80000000u);
    CHECK(f.open() == 0x80000001u);
}

TEST_CASE("transaction ids wrap at 2^32 to 1, never 0") {
    Fixture f;
    f.conn.set_last_transaction_id(0xFFFFFFFEu);
    CHECK(f.open() == 0xFFFFFFFFu);
    CHECK(f.open() == 1u);
    CHECK(f.conn.transaction(0) == nullptr);
}

TEST_CASE("after the wrap, ids still open are skipped") {
    Fixture f;
    std::uint32_t one = f.open();    // 1
    std::uint32_t two = f.open();    // 2
    std::uint32_t three = f.open();  // 3
    REQUIRE(f.conn.take_transaction(two) != nullptr);
    f.conn.set_last_transaction_id(0xFFFFFFFFu);  // the counter went all the way round
    CHECK(f.open() == two);                       // 1 is open: skipped; 2 is free again
    CHECK(f.open() == 4u);                        // 3 is open: skipped
    std::set<std::uint32_t> ids;
    f.conn.for_each_transaction([&](std::uint32_t id, const store::Transaction&) { ids.insert(id); });
    CHECK(ids == std::set<std::uint32_t>{one, two, three, 4u});
}
