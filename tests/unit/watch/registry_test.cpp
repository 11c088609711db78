#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "daemon/watch/components.hpp"
#include "daemon/watch/registry.hpp"

using namespace xs::watch;

namespace {

Watch w(ConnId conn, std::string path, std::string token, int depth = -1, std::uint16_t strip = 0) {
    return Watch{conn, std::move(path), std::move(token), depth, strip};
}

// "conn:path:token" for every match, sorted, so tests do not depend on order
// unless they mean to.
std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

std::string label(const Watch& x) { return std::to_string(x.conn) + ":" + x.path + ":" + x.token; }

std::vector<std::string> subtree(const Registry& r, std::string_view path) {
    std::vector<std::string> out;
    r.match_subtree(path, [&](const Watch& x) { out.push_back(label(x)); });
    return sorted(out);
}
std::vector<std::string> exact(const Registry& r, std::string_view path) {
    std::vector<std::string> out;
    r.match_exact(path, [&](const Watch& x) { out.push_back(label(x)); });
    return sorted(out);
}
std::vector<std::string> below(const Registry& r, std::string_view path) {
    std::vector<std::string> out;
    r.for_each_below(path, [&](const Watch& x) { out.push_back(label(x)); });
    return sorted(out);
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("components: '/' is the root of absolute paths, a special name is one component") {
    auto split = [](std::string_view p) {
        std::vector<std::string> out;
        Components c(p);
        std::string_view part;
        while (c.next(part)) out.emplace_back(part);
        return out;
    };
    CHECK(split("/") == V{"/"});
    CHECK(split("/a/bc") == V{"/", "a", "bc"});
    CHECK(split("@releaseDomain") == V{"@releaseDomain"});
    CHECK(split("@releaseDomain/5") == V{"@releaseDomain", "5"});
    CHECK(split("").empty());
    CHECK(levels_below_top("/") == 0);
    CHECK(levels_below_top("/a/b") == 2);
    CHECK(levels_below_top("@releaseDomain/5") == 1);
}

TEST_CASE("subtree, exact and below matching") {
    Registry r;
    REQUIRE(r.add(w(1, "/a", "ta")));
    REQUIRE(r.add(w(1, "/a/b", "tab")));
    REQUIRE(r.add(w(1, "/a/b/c", "tabc")));
    REQUIRE(r.add(w(2, "/ab", "tab2")));  // a sibling whose name only starts like "a"
    REQUIRE(r.add(w(2, "/x", "tx")));

    CHECK(subtree(r, "/a/b") == V{"1:/a/b:tab", "1:/a:ta"});
    CHECK(subtree(r, "/a/b/c/d") == V{"1:/a/b/c:tabc", "1:/a/b:tab", "1:/a:ta"});
    CHECK(subtree(r, "/ab") == V{"2:/ab:tab2"});
    CHECK(subtree(r, "/abc").empty());
    CHECK(subtree(r, "/").empty());

    CHECK(exact(r, "/a/b") == V{"1:/a/b:tab"});
    CHECK(exact(r, "/a/b/c/d").empty());
    CHECK(exact(r, "/").empty());

    CHECK(below(r, "/a") == V{"1:/a/b/c:tabc", "1:/a/b:tab"});
    CHECK(below(r, "/a/b/c").empty());
    CHECK(below(r, "/nothing").empty());
    CHECK(below(r, "/") == V{"1:/a/b/c:tabc", "1:/a/b:tab", "1:/a:ta", "2:/ab:tab2", "2:/x:tx"});
}

TEST_CASE("below walks parents before children across a wide, deep subtree") {
    Registry r;
    std::string deep = "/d";
    for (int i = 0; i < 3000; ++i) {
        deep += "/a";
        if (i % 1000 == 999) REQUIRE(r.add(w(1, deep, "t")));
    }
    for (int i = 0; i < 50; ++i) REQUIRE(r.add(w(2, "/d/k" + std::to_string(i), "t")));
    std::vector<std::string> seen;
    r.for_each_below("/d", [&](const Watch& x) { seen.push_back(x.path); });
    CHECK(seen.size() == 53);
    std::vector<std::size_t> deep_lengths;
    for (auto& p : seen)
        if (p.size() > 1000) deep_lengths.push_back(p.size());
    CHECK(deep_lengths == std::vector<std::size_t>{2002, 4002, 6002});
}

TEST_CASE("depth 0, 1 and unlimited") {
    Registry r;
    REQUIRE(r.add(w(1, "/a", "d0", 0)));
    REQUIRE(r.add(w(2, "/a", "d1", 1)));
    REQUIRE(r.add(w(3, "/a", "all", -1)));
    CHECK(subtree(r, "/a") == V{"1:/a:d0", "2:/a:d1", "3:/a:all"});
    CHECK(subtree(r, "/a/b") == V{"2:/a:d1", "3:/a:all"});
    CHECK(subtree(r, "/a/b/c") == V{"3:/a:all"});
    // Exact matching (removed descendants) ignores depth.
    CHECK(exact(r, "/a") == V{"1:/a:d0", "2:/a:d1", "3:/a:all"});
}

TEST_CASE("a watch on '/' with depth 1 sees '/x' but not '/x/y'; '/' never matches '@' names") {
    Registry r;
    REQUIRE(r.add(w(1, "/", "root1", 1)));
    REQUIRE(r.add(w(2, "/", "root", -1)));
    CHECK(subtree(r, "/") == V{"1:/:root1", "2:/:root"});
    CHECK(subtree(r, "/x") == V{"1:/:root1", "2:/:root"});
    CHECK(subtree(r, "/x/y") == V{"2:/:root"});
    CHECK(subtree(r, "@releaseDomain").empty());
    CHECK(subtree(r, "@introduceDomain/3").empty());
    CHECK(below(r, "/").empty());
}

TEST_CASE("special names: '@releaseDomain/5' lies under '@releaseDomain'") {
    Registry r;
    REQUIRE(r.add(w(1, "@releaseDomain", "plain", 0)));
    REQUIRE(r.add(w(2, "@releaseDomain", "deep", 1)));
    REQUIRE(r.add(w(3, "@releaseDomain/5", "five", 0)));
    REQUIRE(r.add(w(4, "@introduceDomain", "intro", -1)));
    CHECK(subtree(r, "@releaseDomain") == V{"1:@releaseDomain:plain", "2:@releaseDomain:deep"});
    CHECK(subtree(r, "@releaseDomain/5") == V{"2:@releaseDomain:deep", "3:@releaseDomain/5:five"});
    CHECK(subtree(r, "@releaseDomain/6") == V{"2:@releaseDomain:deep"});
    CHECK(subtree(r, "@releaseDomainX").empty());
    CHECK(exact(r, "@releaseDomain") == V{"1:@releaseDomain:plain", "2:@releaseDomain:deep"});
    CHECK(below(r, "@releaseDomain") == V{"3:@releaseDomain/5:five"});
}

TEST_CASE("EEXIST for the same conn, path and token; ENOENT on removing what is absent") {
    Registry r;
    REQUIRE(r.add(w(1, "/a", "t", 0)));
    auto dup = r.add(w(1, "/a", "t", 5));  // depth is not compared
    REQUIRE(!dup);
    CHECK(dup.error().code == EEXIST);
    CHECK(r.add(w(1, "/a", "u")));   // other token
    CHECK(r.add(w(2, "/a", "t")));   // other connection
    CHECK(r.add(w(1, "/a/b", "t")));  // other path
    CHECK(r.total() == 4);

    auto gone = r.remove(1, "/a", "nope");
    REQUIRE(!gone);
    CHECK(gone.error().code == ENOENT);
    CHECK(r.remove(3, "/a", "t").error().code == ENOENT);
    CHECK(r.remove(1, "/zzz", "t").error().code == ENOENT);
    REQUIRE(r.remove(1, "/a", "t"));
    CHECK(r.remove(1, "/a", "t").error().code == ENOENT);
    CHECK(r.add(w(1, "/a", "t")));  // may be registered again
    CHECK(r.total() == 4);
}

TEST_CASE("malformed watch paths and arguments are refused") {
    Registry r;
    for (const char* bad : {"", "a/b", "/a/", "/a//b", "@x/", "@/"}) {
        CAPTURE(bad);
        auto res = r.add(w(1, bad, "t"));
        REQUIRE(!res);
        CHECK(res.error().code == EINVAL);
    }
    CHECK(r.add(w(1, "/a", "t", -2)).error().code == EINVAL);
    CHECK(r.add(w(1, "/a", "t", -1, 3)).error().code == EINVAL);  // strip longer than the path
    CHECK(r.total() == 0);
    CHECK(r.node_count() == 0);
}

// Upstream (4.17 and 4.22) accepts a watch on "@" alone; it matches no
// event, not even the special ones (found by the differential run).
TEST_CASE("a watch on \"@\" is accepted and matches nothing") {
    Registry r;
    REQUIRE(r.add(w(1, "@", "t")));
    CHECK(r.total() == 1);
    CHECK(r.add(w(1, "@", "t")).error().code == EEXIST);
    std::vector<std::string> got;
    for (const char* ev : {"@releaseDomain", "@introduceDomain", "@releaseDomain/5", "/"}) {
        r.match_subtree(ev, [&](const Watch& m) { got.push_back(m.path); });
        r.match_exact(ev, [&](const Watch& m) { got.push_back(m.path); });
    }
    CHECK(got.empty());
    CHECK(r.remove(1, "@", "t"));
    CHECK(r.total() == 0);
}

TEST_CASE("remove and remove_all prune the trie and leave other connections alone") {
    Registry r;
    REQUIRE(r.add(w(1, "/local/domain/1/a/b", "t1")));
    REQUIRE(r.add(w(1, "/local/domain/1/a", "t2")));
    REQUIRE(r.add(w(1, "@releaseDomain", "t3")));
    REQUIRE(r.add(w(2, "/local/domain/2", "u")));
    CHECK(r.node_count() == 8);  // "/", local, domain, 1, a, b, 2, @releaseDomain
    CHECK(r.count(1) == 3);
    CHECK(r.count(2) == 1);
    CHECK(r.count(9) == 0);

    REQUIRE(r.remove(1, "/local/domain/1/a/b", "t1"));
    CHECK(r.node_count() == 7);  // "b" pruned, "a" still holds t2

    CHECK(r.remove_all(1) == 2);
    CHECK(r.count(1) == 0);
    CHECK(r.total() == 1);
    CHECK(r.node_count() == 4);  // "/", local, domain, 2
    CHECK(subtree(r, "/local/domain/2/x") == V{"2:/local/domain/2:u"});
    CHECK(subtree(r, "/local/domain/1/a/b").empty());
    CHECK(r.remove_all(1) == 0);

    CHECK(r.remove_all(2) == 1);
    CHECK(r.total() == 0);
    CHECK(r.node_count() == 0);
}

TEST_CASE("for_each_of lists a connection's watches in registration order") {
    Registry r;
    REQUIRE(r.add(w(7, "/c", "1")));
    REQUIRE(r.add(w(8, "/c", "x")));
    REQUIRE(r.add(w(7, "/a", "2")));
    REQUIRE(r.add(w(7, "@releaseDomain", "3")));
    REQUIRE(r.remove(7, "/a", "2"));
    REQUIRE(r.add(w(7, "/b", "4")));
    std::vector<std::string> tokens;
    r.for_each_of(7, [&](const Watch& x) { tokens.push_back(x.token); });
    CHECK(tokens == V{"1", "3", "4"});
}

TEST_CASE("relative watches report paths without the domain prefix") {
    Registry r;
    const std::string prefix = "/local/domain/5/";
    REQUIRE(r.add(w(5, prefix + "device", "rel", -1, static_cast<std::uint16_t>(prefix.size()))));
    REQUIRE(r.add(w(6, prefix + "device", "abs")));
    std::vector<std::string> reported;
    r.match_subtree("/local/domain/5/device/vif/0",
                    [&](const Watch& x) { reported.emplace_back(reported_path(x, "/local/domain/5/device/vif/0")); });
    CHECK(sorted(reported) == V{"/local/domain/5/device/vif/0", "device/vif/0"});
    Watch rel = w(5, prefix + "device", "rel", -1, 16);
    CHECK(reported_path(rel, rel.path) == "device");
    CHECK(reported_path(w(1, "@releaseDomain", "t"), "@releaseDomain/3") == "@releaseDomain/3");
}

TEST_CASE("many connections on one path; many watches overall") {
    Registry r;
    for (ConnId c = 1; c <= 1000; ++c) REQUIRE(r.add(w(c, "@releaseDomain", "tok")));
    std::size_t n = 0;
    r.match_subtree("@releaseDomain", [&](const Watch&) { ++n; });
    CHECK(n == 1000);
    CHECK(r.remove(500, "@releaseDomain", "tok"));
    CHECK(r.add(w(500, "@releaseDomain", "tok")));
    CHECK(r.add(w(500, "@releaseDomain", "tok")).error().code == EEXIST);

    for (ConnId c = 1; c <= 100; ++c)
        for (int i = 0; i < 1000; ++i)
            REQUIRE(r.add(w(c, "/local/domain/" + std::to_string(c) + "/d" + std::to_string(i), "t")));
    CHECK(r.total() == 101000);
    n = 0;
    r.match_subtree("/local/domain/42/d7/x", [&](const Watch& x) {
        ++n;
        CHECK(x.conn == 42);
    });
    CHECK(n == 1);
    for (ConnId c = 1; c <= 1000; ++c) CHECK(r.remove_all(c) == (c <= 100 ? 1001u : 1u));
    CHECK(r.total() == 0);
    CHECK(r.node_count() == 0);
}

TEST_CASE("a moved registry keeps its watches") {
    Registry a;
    REQUIRE(a.add(w(1, "/a", "t")));
    Registry b(std::move(a));
    CHECK(b.total() == 1);
    CHECK(b.add(w(1, "/a", "t")).error().code == EEXIST);
    CHECK(subtree(b, "/a/b") == V{"1:/a:t"});
}
