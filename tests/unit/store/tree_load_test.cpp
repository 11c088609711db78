// The loader (a tree built node by node, as a migration stream gives it)
// and the diff of two trees (a transaction's pending nodes).
#include <doctest/doctest.h>

#include <cerrno>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "store/path.hpp"
#include "store/tally.hpp"
#include "store/tree_diff.hpp"
#include "store/tree_load.hpp"
#include "tree_support.hpp"

using namespace test;

namespace {

// Every node as "path" -> "value|perms", specials included.
std::map<std::string, std::string> contents(const Tree& t) {
    std::map<std::string, std::string> out;
    t.for_each_node([&](std::string_view path, const Node& n) {
        std::string v(n.value());
        v += '|';
        for (const PermEntry& e : n.perms->entries()) {
            append_perm(v, e);
            if (e.ignore) v += '!';
            v += ',';
        }
        out.emplace(std::string(path), std::move(v));
    });
    return out;
}

std::vector<PermEntry> owner(DomId d) { return {PermEntry{d, kAccessNone, false}}; }

struct Loaded {
    std::uint64_t gen = 0;
    Tree tree = Tree::bare(0, gen);
    TreeLoader loader{tree, gen};
};

// Owner -> (nodes, bytes), without the owners whose sums are zero.
std::map<DomId, std::pair<std::int64_t, std::int64_t>> by_owner(const Deltas& d) {
    std::map<DomId, std::pair<std::int64_t, std::int64_t>> m;
    for (const OwnerDelta& o : d.items()) {
        auto& [nodes, bytes] = m[o.domid];
        nodes += o.nodes;
        bytes += o.bytes;
        if (nodes == 0 && bytes == 0) m.erase(o.domid);
    }
    return m;
}

// Apply what diff(from, to) reports to a copy of `from`; what the loader
// counted as it went must be the difference of the two trees' tallies.
Tree patched(const Tree& from, const Tree& to) {
    Tree t = from;
    std::uint64_t gen = 0;
    TreeLoader l(t, gen);
    diff(from, to, [&](std::string_view path, const Node* n) {
        if (n) REQUIRE(l.put(path, n->value(), n->perms->entries()));
        else REQUIRE(l.remove(path));
    });
    Tally counted;
    counted.merge(from.tally());
    counted.merge(l.changes().deltas());
    CHECK(by_owner(counted.deltas()) == by_owner(t.tally()));
    return t;
}

}  // namespace

TEST_CASE("the loader builds a tree from nodes given parents first") {
    Loaded l;
    REQUIRE(l.loader.put("/", "", owner(0)));
    REQUIRE(l.loader.put("/local", "", owner(0)));
    REQUIRE(l.loader.put("/local/domain", "", owner(0)));
    REQUIRE(l.loader.put("/local/domain/1", "", {{PermEntry{1, kAccessNone, false}, {0, kAccessRead, true}}}));
    REQUIRE(l.loader.put("/local/domain/1/name", std::string_view("a\0b", 3), owner(1)));
    REQUIRE(l.loader.put("/local/domain/2", "two", owner(2)));
    REQUIRE(l.loader.put("/tool", "", owner(0)));
    REQUIRE(l.loader.put("@releaseDomain", "", {{PermEntry{0, kAccessNone, false}, {5, kAccessRead, false}}}));
    auto c = contents(l.tree);
    CHECK(c.at("/local/domain/1") == "|n1,r0!,");
    CHECK(c.at("/local/domain/1/name") == std::string("a\0b|n1,", 7));
    CHECK(c.at("/local/domain/2") == "two|n2,");
    CHECK(c.at("@releaseDomain") == "|n0,r5,");
    CHECK(c.at("@introduceDomain") == "|n0,");
    CHECK(c.size() == 9);
    std::string problems;
    CHECK(l.tree.check(problems));
    CHECK(problems.empty());
}

TEST_CASE("the loader refuses what the daemon could not have made") {
    Loaded l;
    CHECK(l.loader.put("/a/b", "", owner(0)).error().code == ENOENT);  // no parent
    for (const char* bad : {"", "a", "/a/", "//a", "/a b", "@other", "@releaseDomain/5"})
        CHECK_MESSAGE(l.loader.put(bad, "", owner(0)).error().code == EINVAL, bad);
    CHECK(l.loader.put("/a", "", {}).error().code == EINVAL);  // no owner
    CHECK(l.loader.put(std::string(1, '/') + std::string(0x8000, 'x'), "", owner(0)).error().code == EINVAL);
    CHECK(l.loader.remove("/").error().code == EINVAL);
    CHECK(l.loader.remove("@releaseDomain").error().code == EINVAL);
    CHECK(l.loader.remove("/nothing").error().code == ENOENT);
    CHECK(contents(l.tree).size() == 3);
}

TEST_CASE("put replaces a node's value and permissions and keeps its children") {
    Loaded l;
    REQUIRE(l.loader.put("/a", "1", owner(0)));
    REQUIRE(l.loader.put("/a/b", "2", owner(0)));
    REQUIRE(l.loader.put("/a", "longer value", owner(3)));
    auto c = contents(l.tree);
    CHECK(c.at("/a") == "longer value|n3,");
    CHECK(c.at("/a/b") == "2|n0,");
    // What the loader counted: the bare tree's nodes plus its changes.
    Tally counted;
    counted.merge(Tree::bare(0, l.gen).tally());
    counted.merge(l.loader.changes().deltas());
    CHECK(by_owner(counted.deltas()) == by_owner(l.tree.tally()));
    REQUIRE(l.loader.remove("/a"));
    CHECK(!l.tree.lookup("/a/b"));
    CHECK(!l.tree.lookup("/a"));
    Tally after;
    after.merge(Tree::bare(0, l.gen).tally());
    after.merge(l.loader.changes().deltas());
    CHECK(by_owner(after.deltas()) == by_owner(l.tree.tally()));
}

TEST_CASE("a loader patching a snapshot leaves the tree it shares nodes with alone") {
    std::uint64_t gen = 0;
    Tree base = Tree::initial(0, gen);
    OpContext ctx{priv(), Budget{}, &gen};
    REQUIRE(base.write(ctx, "/a/b/c", "x"));
    auto before = contents(base);
    Tree copy = base;
    TreeLoader l(copy, gen);
    REQUIRE(l.put("/a/b/c", "y", owner(0)));
    REQUIRE(l.put("/a/b/d", "", owner(0)));
    REQUIRE(l.remove("/tool"));
    REQUIRE(l.put("@introduceDomain", "", owner(7)));
    CHECK(contents(base) == before);
    CHECK(contents(copy).at("/a/b/c") == "y|n0,");
    CHECK(copy.lookup("/a/b/d"));
    CHECK(!copy.lookup("/tool"));
}

TEST_CASE("a diff applied to the first tree gives the second") {
    std::mt19937 rng(7);
    for (int round = 0; round < 200; ++round) {
        std::uint64_t gen = 0;
        Tree from = Tree::initial(0, gen);
        OpContext ctx{priv(), Budget{}, &gen};
        auto random_path = [&] {
            std::string p;
            int depth = 1 + static_cast<int>(rng() % 4);
            for (int i = 0; i < depth; ++i) p += "/" + std::string(1, static_cast<char>('a' + rng() % 4));
            return p;
        };
        for (int i = 0; i < 30; ++i) (void)from.write(ctx, random_path(), std::to_string(rng() % 3));
        Tree to = from;
        for (int i = 0; i < 10; ++i) {
            std::string p = random_path();
            switch (rng() % 4) {
                case 0: (void)to.write(ctx, p, std::to_string(rng() % 3)); break;
                case 1: (void)to.rm(ctx, p); break;
                case 2: (void)to.set_perms(ctx, p, make_perms({{static_cast<DomId>(rng() % 3), kAccessRead, false}})); break;
                default: (void)to.set_perms(ctx, "@releaseDomain", make_perms(owner(static_cast<DomId>(rng() % 2)))); break;
            }
        }
        CHECK(contents(patched(from, to)) == contents(to));
    }
}

TEST_CASE("a diff skips what both trees share") {
    std::uint64_t gen = 0;
    Tree from = Tree::initial(0, gen);
    OpContext ctx{priv(), Budget{}, &gen};
    for (int i = 0; i < 2000; ++i) REQUIRE(from.write(ctx, "/big/n" + std::to_string(i), "v"));
    Tree to = from;
    REQUIRE(to.write(ctx, "/small/x", "1"));
    REQUIRE(to.write(ctx, "/big/n5", "w"));
    std::vector<std::string> seen;
    diff(from, to, [&](std::string_view p, const Node*) { seen.emplace_back(p); });
    CHECK(seen == std::vector<std::string>{"/big/n5", "/small", "/small/x"});
    seen.clear();
    diff(to, from, [&](std::string_view p, const Node* n) { seen.push_back(std::string(p) + (n ? "" : " gone")); });
    CHECK(seen == std::vector<std::string>{"/big/n5", "/small gone"});
}

// Under the parent of the last put (or the node it made) only the last
// name is checked: it must be checked as strictly as a whole path.
TEST_CASE("the loader checks a name under a known parent as strictly as a whole path") {
    Loaded l;
    REQUIRE(l.loader.put("/a", "", owner(0)));
    REQUIRE(l.loader.put("/a/b", "", owner(0)));  // first child of the node just made
    for (std::string bad : {std::string("/a/b c"), std::string("/a/"), std::string("/a//b"), std::string("//a"),
                            std::string("/a/") + std::string(xs::store::kMaxName + 1, 'x'), std::string("/a/b/")})
        CHECK_MESSAGE(l.loader.put(bad, "", owner(0)).error().code == EINVAL, bad);
    CHECK(l.loader.put("/a/" + std::string(xs::store::kMaxName, 'x'), "", owner(0)));
    CHECK(l.loader.put("/a/c", "", owner(0)));    // a sibling
    CHECK(l.loader.put("/a/c/d", "", owner(0)));  // a child of the sibling
    CHECK(l.loader.put("/e", "", owner(0)));      // back up to the root
    CHECK(contents(l.tree).size() == 3 + 6);
}

// A node made out of name order is not its parent's last child: its first
// child must still find it where it is.
TEST_CASE("the loader gives children to nodes made in and out of name order") {
    Loaded l;
    for (const char* p : {"/d", "/d/m", "/d/m/x", "/d/b", "/d/b/y", "/d/z", "/d/z/w", "/d/a", "/d/a/v", "/d/a/v/u"})
        REQUIRE_MESSAGE(l.loader.put(p, p, owner(0)), p);
    auto c = contents(l.tree);
    for (const char* p : {"/d/m/x", "/d/b/y", "/d/z/w", "/d/a/v/u"}) {
        REQUIRE_MESSAGE(c.count(p), p);
        CHECK(c[p].starts_with(std::string(p) + "|"));  // its value, then its permissions
    }
    CHECK(c.size() == 3 + 10);
    std::string problems;
    CHECK(l.tree.check(problems));
    CHECK(problems.empty());
}
