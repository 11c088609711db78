#include <doctest/doctest.h>

#include <cerrno>
#include <string>

#include "quota/quota.hpp"

using namespace xs::quota;

TEST_CASE("defaults are upstream's numbers") {
    Limits l = Limits::defaults();
    CHECK(l[Item::Nodes] == 1000);
    CHECK(l[Item::Watches] == 128);
    CHECK(l[Item::Outstanding] == 20);
    CHECK(l[Item::Memory] == 2621440);
    CHECK(l[Item::Transactions] == 10);
    CHECK(l[Item::TransactionNodes] == 1024);
    CHECK(l[Item::NodePermissions] == 5);
    CHECK(l[Item::PathMax] == 2048);
    CHECK(l[Item::NodeSize] == 2048);
    CHECK(l.soft_memory == 2097152);
}

TEST_CASE("names round-trip, the permissions alias, unknown names") {
    for (Item item : kItems) {
        auto parsed = parse_name(name(item));
        REQUIRE(parsed);
        CHECK(*parsed == item);
        CHECK(!description(item).empty());
    }
    CHECK(name(Item::TransactionNodes) == "transaction-nodes");
    CHECK(name(Item::NodePermissions) == "node-permissions");
    CHECK(description(Item::Transactions) == "Active transactions per domain");
    CHECK(parse_name("permissions") == Item::NodePermissions);
    CHECK(!parse_name("soft-memory"));
    CHECK(!parse_name("path-length"));
    CHECK(!parse_name(""));
    CHECK(!parse_name("Nodes"));
    CHECK(names_list() ==
          "nodes watches outstanding memory soft-memory transactions transaction-nodes node-permissions "
          "path-max node-size");
}

TEST_CASE("a quota of N allows exactly N; 0 is unlimited") {
    CHECK(within(128, 127));
    CHECK(within(128, 128));
    CHECK(!within(128, 129));
    CHECK(within(1, 1));
    CHECK(!within(1, 2));
    CHECK(within(0, 0));
    CHECK(within(0, 1u << 31));
    CHECK(within(0, UINT64_MAX));
    CHECK(!within(UINT32_MAX - 1, std::uint64_t{UINT32_MAX} + 5));
    static_assert(within(5, 5) && !within(5, 6));
}

TEST_CASE("per-domain overrides take precedence; global changes reach the others at once") {
    Table t;
    CHECK(t.get(std::nullopt, Item::Nodes) == 1000);
    CHECK(t.get(7, Item::Nodes) == 1000);
    REQUIRE(t.set(7, "nodes", 50));
    CHECK(t.get(7, Item::Nodes) == 50);
    CHECK(t.get(8, Item::Nodes) == 1000);
    CHECK(t.get(7, Item::Watches) == 128);  // other items still follow the global values
    REQUIRE(t.set(std::nullopt, "nodes", 2000));
    REQUIRE(t.set(std::nullopt, "watches", 64));
    CHECK(t.get(8, Item::Nodes) == 2000);  // no override: new global applies at once
    CHECK(t.get(7, Item::Nodes) == 50);    // override stays
    CHECK(t.get(7, Item::Watches) == 64);
    CHECK(t.global()[Item::Nodes] == 2000);
    CHECK(t.effective(7)[Item::Nodes] == 50);
    CHECK(t.effective(7)[Item::Watches] == 64);
}

TEST_CASE("forget drops a dead domain's overrides") {
    Table t;
    REQUIRE(t.set(3, "memory", 4096));
    REQUIRE(t.set(3, "soft-memory", 1024));
    CHECK(t.has_overrides(3));
    CHECK(t.get(3, Item::Memory) == 4096);
    t.forget(3);
    CHECK(!t.has_overrides(3));
    CHECK(t.get(3, Item::Memory) == 2621440);
    CHECK(t.soft_memory(3) == 2097152);
    t.forget(99);  // unknown domain: nothing happens
    CHECK(t.get(99, Item::Nodes) == 1000);
}

TEST_CASE("get and set by name, soft-memory, unknown names and the reserved value") {
    Table t;
    auto v = t.get(std::nullopt, "soft-memory");
    REQUIRE(v);
    CHECK(*v == 2097152);
    REQUIRE(t.set(std::nullopt, "soft-memory", 100));
    CHECK(t.soft_memory(std::nullopt) == 100);
    CHECK(t.global().soft_memory == 100);
    CHECK(t.global()[Item::Memory] == 2621440);  // the hard value is separate
    REQUIRE(t.set(4, "soft-memory", 7));
    CHECK(t.soft_memory(4) == 7);
    CHECK(t.soft_memory(5) == 100);

    REQUIRE(t.set(4, "permissions", 9));  // alias
    CHECK(*t.get(4, "node-permissions") == 9);
    REQUIRE(t.set(4, "path-max", 0));  // 0 = unlimited is a legal value
    CHECK(t.get(4, Item::PathMax) == 0);

    for (const char* bad : {"soft-nodes", "nodess", "", "path-length", "SOFT-MEMORY"}) {
        CAPTURE(bad);
        auto g = t.get(std::nullopt, bad);
        REQUIRE(!g);
        CHECK(g.error().code == EINVAL);
        auto s = t.set(4, bad, 1);
        REQUIRE(!s);
        CHECK(s.error().code == EINVAL);
    }
    auto r = t.set(std::nullopt, "nodes", UINT32_MAX);
    REQUIRE(!r);
    CHECK(r.error().code == EINVAL);
    CHECK(t.global()[Item::Nodes] == 1000);
    CHECK(!t.has_overrides(6));
    CHECK(!t.set(6, "bogus", 1));
    CHECK(!t.has_overrides(6));  // a refused set creates nothing
}

TEST_CASE("named values for the migration stream") {
    Table t;
    auto g = t.named_values(std::nullopt);
    REQUIRE(g.size() == 10);
    std::string joined;
    for (auto& [n, v] : g) joined += n + "=" + std::to_string(v) + " ";
    CHECK(joined ==
          "nodes=1000 watches=128 outstanding=20 memory=2621440 soft-memory=2097152 transactions=10 "
          "transaction-nodes=1024 node-permissions=5 path-max=2048 node-size=2048 ");
    REQUIRE(t.set(2, "watches", 3));
    REQUIRE(t.set(2, "soft-memory", 4));
    auto d = t.named_values(2);
    REQUIRE(d.size() == 10);
    CHECK(d[1] == std::pair<std::string, std::uint32_t>{"watches", 3});
    CHECK(d[4] == std::pair<std::string, std::uint32_t>{"soft-memory", 4});
    CHECK(d[0] == std::pair<std::string, std::uint32_t>{"nodes", 1000});
    auto o = t.overrides(2);
    REQUIRE(o.size() == 2);
    CHECK(o[0].first == "watches");
    CHECK(o[1].first == "soft-memory");
    CHECK(t.overrides(9).empty());
}

TEST_CASE("usage keeps maxima") {
    Usage u;
    u.add(Item::Nodes, 5);
    u.add(Item::Nodes, -3);
    CHECK(u[Item::Nodes] == 2);
    CHECK(u.max_seen[index(Item::Nodes)] == 5);
    u.observe(Item::PathMax, 40);
    u.observe(Item::PathMax, 10);
    CHECK(u[Item::PathMax] == 0);
    CHECK(u.max_seen[index(Item::PathMax)] == 40);
    u.reset_max();
    CHECK(u.max_seen[index(Item::Nodes)] == 2);
    CHECK(u.max_seen[index(Item::PathMax)] == 0);
}

TEST_CASE("CONTROL quota outputs are byte-exact") {
    Limits l = Limits::defaults();
    CHECK(format_settings(l) ==
          "Quota settings:\n"
          "nodes            :     1000 Nodes per domain\n"
          "watches          :      128 Watches per domain\n"
          "outstanding      :       20 Outstanding requests per domain\n"
          "memory           :  2621440 Total Xenstore memory per domain\n"
          "transactions     :       10 Active transactions per domain\n"
          "transaction-nodes:     1024 Max. number of accessed nodes per transaction\n"
          "node-permissions :        5 Max. number of permissions per node\n"
          "path-max         :     2048 Max. length of a node path\n"
          "node-size        :     2048 Max. size of a node\n");
    CHECK(format_soft_settings(l) ==
          "Quota settings:\n"
          "memory           :  2097152 Total Xenstore memory per domain\n");
    l[Item::Memory] = 123456789;
    l[Item::Nodes] = 4000000000u;  // wider than the column: printed in full, like %8u
    std::string s = format_settings(l);
    CHECK(s.find("memory           : 123456789 Total") != std::string::npos);
    CHECK(s.find("nodes            : 4000000000 Nodes") != std::string::npos);

    Usage u;
    u.add(Item::Nodes, 12);
    u.add(Item::Watches, 3);
    u.add(Item::Watches, -1);
    u.add(Item::Memory, 4711);
    u.observe(Item::NodeSize, 77);
    CHECK(format_domain(5, u) ==
          "Domain 5:\n"
          "nodes            :       12 (max       12)\n"
          "watches          :        2 (max        3)\n"
          "outstanding      :        0 (max        0)\n"
          "memory           :     4711 (max     4711)\n"
          "transactions     :        0 (max        0)\n"
          "transaction-nodes:        0 (max        0)\n"
          "node-permissions :        0 (max        0)\n"
          "path-max         :        0 (max        0)\n"
          "node-size        :        0 (max       77)\n");
    CHECK(format_max(u) ==
          "Max. seen accounting values:\n"
          "nodes            :       12\n"
          "watches          :        3\n"
          "outstanding      :        0\n"
          "memory           :     4711\n"
          "transactions     :        0\n"
          "transaction-nodes:        0\n"
          "node-permissions :        0\n"
          "path-max         :        0\n"
          "node-size        :       77\n");
}
