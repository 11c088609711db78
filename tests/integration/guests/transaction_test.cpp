// Transactions from guests over their rings (cxenstored.md §3 with the
// project's decision 4, spec README): a private view, atomic commit with
// watch events only at commit, EAGAIN only when something the transaction
// observed changed, ids private to their connection, and accounting at
// commit.
#include <doctest/doctest.h>

#include <string>

#include "tests/support/guest_harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

TEST_CASE("a guest's transaction sees its own changes; others see them, and their events, at commit") {
    GuestHarness h;
    auto g = h.add_guest(5);
    REQUIRE(outcome(g->write("data/a", "1")) == "OK");
    auto watcher = h.connect();
    REQUIRE(outcome(watcher->watch("/local/domain/5/data", "w")) == "OK");
    (void)take_events(*watcher);
    auto t = g->transaction_start();
    REQUIRE(t.has_value());
    CHECK(outcome(g->write("data/a", "2", *t)) == "OK");
    CHECK(outcome(g->write("data/b/c", "3", *t)) == "OK");
    CHECK(value(g->read("data/a", *t)) == "2");
    CHECK(joined(g->directory("data", *t)) == "a,b");
    CHECK(value(g->read("data/a")) == "1");
    CHECK(outcome(h.dom0().read("/local/domain/5/data/b")) == "ENOENT");
    CHECK(take_events(*watcher).empty());
    auto before = h.accounted(5);
    REQUIRE(before);
    CHECK(outcome(g->transaction_end(*t, true)) == "OK");
    CHECK(value(h.dom0().read("/local/domain/5/data/a")) == "2");
    CHECK(value(h.dom0().read("/local/domain/5/data/b/c")) == "3");
    CHECK(joined(sorted(take_events(*watcher))) ==
          "/local/domain/5/data/a|w;/local/domain/5/data/b/c|w");
    CHECK(h.accounted(5) == *before + 2);
}

TEST_CASE("TRANSACTION_END F discards everything; the transaction is gone either way") {
    GuestHarness h;
    auto g = h.add_guest(5);
    auto before = h.accounted(5);
    auto t = g->transaction_start();
    REQUIRE(t.has_value());
    REQUIRE(outcome(g->write("data/gone", "x", *t)) == "OK");
    CHECK(outcome(g->transaction_end(*t, false)) == "OK");
    CHECK(outcome(g->read("data/gone")) == "ENOENT");
    CHECK(h.accounted(5) == before);
    CHECK(outcome(g->transaction_end(*t, true)) == "ENOENT");
    CHECK(h.accounted(5, "transactions") == 0u);
}

TEST_CASE("EAGAIN only when something the transaction observed changed") {
    GuestHarness h;
    auto g = h.add_guest(5);
    auto& d0 = h.dom0();
    REQUIRE(outcome(g->write("data/a", "1")) == "OK");
    SUBCASE("a value it read changed: EAGAIN, nothing lands") {
        auto t = g->transaction_start();
        REQUIRE(t.has_value());
        CHECK(value(g->read("data/a", *t)) == "1");
        REQUIRE(outcome(d0.write("/local/domain/5/data/a", "dom0")) == "OK");
        REQUIRE(outcome(g->write("data/c", "x", *t)) == "OK");
        CHECK(outcome(g->transaction_end(*t, true)) == "EAGAIN");
        CHECK(outcome(g->read("data/c")) == "ENOENT");
    }
    SUBCASE("a blind overwrite of a node someone else changed commits") {
        auto t = g->transaction_start();
        REQUIRE(t.has_value());
        REQUIRE(outcome(g->write("data/a", "mine", *t)) == "OK");
        REQUIRE(outcome(d0.write("/local/domain/5/data/a", "dom0")) == "OK");
        CHECK(outcome(g->transaction_end(*t, true)) == "OK");
        CHECK(value(g->read("data/a")) == "mine");
    }
    SUBCASE("a node it found missing appeared: EAGAIN") {
        auto t = g->transaction_start();
        REQUIRE(t.has_value());
        CHECK(outcome(g->read("data/x", *t)) == "ENOENT");
        REQUIRE(outcome(d0.write("/local/domain/5/data/x", "now")) == "OK");
        REQUIRE(outcome(g->write("data/y", "1", *t)) == "OK");
        CHECK(outcome(g->transaction_end(*t, true)) == "EAGAIN");
    }
    SUBCASE("a read-only transaction always commits") {
        auto t = g->transaction_start();
        REQUIRE(t.has_value());
        CHECK(value(g->read("data/a", *t)) == "1");
        REQUIRE(outcome(d0.write("/local/domain/5/data/a", "dom0")) == "OK");
        CHECK(outcome(g->transaction_end(*t, true)) == "OK");
    }
    SUBCASE("two guests creating different children of one directory both commit") {
        auto g6 = h.add_guest(6);
        REQUIRE(outcome(d0.write("/shared", "")) == "OK");
        REQUIRE(outcome(d0.set_perms("/shared", {"n0", "b5", "b6"})) == "OK");
        auto t5 = g->transaction_start();
        auto t6 = g6->transaction_start();
        REQUIRE(t5.has_value());
        REQUIRE(t6.has_value());
        REQUIRE(outcome(g->write("/shared/five", "5", *t5)) == "OK");
        REQUIRE(outcome(g6->write("/shared/six", "6", *t6)) == "OK");
        CHECK(outcome(g->transaction_end(*t5, true)) == "OK");
        CHECK(outcome(g6->transaction_end(*t6, true)) == "OK");
        CHECK(joined(d0.directory("/shared")) == "five,six");
    }
}

TEST_CASE("transaction ids belong to their connection") {
    GuestHarness h;
    auto g5 = h.add_guest(5);
    auto g6 = h.add_guest(6);
    auto t = g5->transaction_start();
    REQUIRE(t.has_value());
    CHECK(*t != 0);
    CHECK(outcome(g6->read("data", *t)) == "ENOENT");
    CHECK(outcome(g6->write("data/x", "1", *t)) == "ENOENT");
    CHECK(outcome(g6->transaction_end(*t, true)) == "ENOENT");
    CHECK(outcome(h.dom0().read("/local/domain/6/data", *t)) == "ENOENT");
    CHECK(outcome(g5->write("data/x", "1", *t)) == "OK");
    CHECK(outcome(g5->transaction_end(*t, true)) == "OK");
}

TEST_CASE("TRANSACTION_START inside a transaction is EBUSY; a bad END argument is EINVAL") {
    GuestHarness h;
    auto g = h.add_guest(5);
    auto t = g->transaction_start();
    REQUIRE(t.has_value());
    CHECK(summary(g->call(wire::kTransactionStart, ""s, *t)) == "EBUSY");
    CHECK(summary(g->call(wire::kTransactionStart, ""s, 0xdeadbeef)) == "ENOENT");
    CHECK(summary(g->call(wire::kTransactionEnd, "X\0"s, *t)) == "EINVAL");
    CHECK(summary(g->call(wire::kTransactionEnd, "T\0"s, 0)) == "ENOENT");
    CHECK(summary(g->call(wire::kTransactionEnd, "T\0"s, 0xdeadbeef)) == "ENOENT");
    CHECK(outcome(g->transaction_end(*t, true)) == "OK");  // still open after the errors above
}

TEST_CASE("SET_PERMS and RM inside a transaction, with their events at commit") {
    GuestHarness h;
    auto g = h.add_guest(5);
    auto g6 = h.add_guest(6);
    REQUIRE(outcome(g->write("data/tree/leaf", "1")) == "OK");
    REQUIRE(outcome(g->write("data/open", "o")) == "OK");
    auto watcher = h.connect();
    REQUIRE(outcome(watcher->watch("/local/domain/5/data", "w")) == "OK");
    (void)take_events(*watcher);
    auto before = h.accounted(5);
    REQUIRE(before);
    auto t = g->transaction_start();
    REQUIRE(t.has_value());
    REQUIRE(outcome(g->set_perms("data/open", {"n5", "r6"}, *t)) == "OK");
    REQUIRE(outcome(g->rm("data/tree", *t)) == "OK");
    CHECK(outcome(g6->read("/local/domain/5/data/open")) == "EACCES");
    CHECK(take_events(*watcher).empty());
    REQUIRE(outcome(g->transaction_end(*t, true)) == "OK");
    CHECK(value(g6->read("/local/domain/5/data/open")) == "o");
    CHECK(outcome(g->read("data/tree")) == "ENOENT");
    CHECK(joined(sorted(take_events(*watcher))) ==
          "/local/domain/5/data/open|w;/local/domain/5/data/tree|w");
    CHECK(h.accounted(5) == *before - 2);
}

TEST_CASE("three guests incrementing one counter in transactions: every increment lands once") {
    GuestHarness h;
    auto& d0 = h.dom0();
    REQUIRE(outcome(d0.write("/shared/counter", "0")) == "OK");
    std::vector<GuestConn> gs;
    for (xs::DomId d = 1; d <= 3; ++d) gs.push_back(h.add_guest(d));
    REQUIRE(outcome(d0.set_perms("/shared/counter", {"n0", "b1", "b2", "b3"})) == "OK");
    constexpr int kRounds = 10;
    int retries = 0;
    for (int round = 0; round < kRounds; ++round) {
        // Interleaved: all start and read, then all write and commit.
        std::vector<std::uint32_t> pending = {0, 1, 2};
        while (!pending.empty()) {
            std::vector<std::uint32_t> txs;
            for (auto i : pending) {
                auto t = gs[i]->transaction_start();
                REQUIRE(t.has_value());
                txs.push_back(*t);
            }
            std::vector<std::uint32_t> again;
            for (std::size_t k = 0; k < pending.size(); ++k) {
                auto& g = gs[pending[k]];
                auto v = g->read("/shared/counter", txs[k]);
                INFO("round " << round << ", guest " << pending[k] + 1 << ": " << outcome(v));
                REQUIRE(v.has_value());
                REQUIRE(outcome(g->write("/shared/counter", std::to_string(std::stoi(*v) + 1), txs[k])) == "OK");
            }
            for (std::size_t k = 0; k < pending.size(); ++k) {
                auto r = gs[pending[k]]->transaction_end(txs[k], true);
                if (outcome(r) == "EAGAIN") {
                    again.push_back(pending[k]);
                    ++retries;
                } else {
                    REQUIRE(outcome(r) == "OK");
                }
            }
            REQUIRE(again.size() < pending.size());  // someone always wins
            pending = again;
        }
    }
    CHECK(value(d0.read("/shared/counter")) == std::to_string(3 * kRounds));
    CHECK(retries > 0);
}
