#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "store/path.hpp"

using namespace xs;
using namespace xs::store;

static Result<std::string> canon(std::string_view raw, PathRules rules = {}) {
    std::string out;
    Result<> r = canonicalize(out, raw, rules);
    if (!r) return fail(r.error());
    return out;
}

TEST_CASE("absolute paths pass through, relative ones resolve to the caller's home") {
    CHECK(canon("/").value() == "/");
    CHECK(canon("/local/domain/0/x").value() == "/local/domain/0/x");
    CHECK(canon("x/y", {.home = 7}).value() == "/local/domain/7/x/y");
    CHECK(canon("a", {.home = 0}).value() == "/local/domain/0/a");
}

TEST_CASE("invalid paths are EINVAL") {
    for (std::string_view bad : {"", "/a/", "//", "/a//b", "/a b", "/a.b", "/a\x01", "a/", "/local/domain/",
                                 "/local/domain//", "/local/domain/x/"}) {
        CAPTURE(std::string(bad));
        REQUIRE_FALSE(canon(bad).has_value());
        CHECK(canon(bad).error().code == EINVAL);
    }
}

TEST_CASE("special names only where allowed") {
    CHECK_FALSE(canon("@releaseDomain").has_value());
    CHECK(canon("@releaseDomain", {.allow_special = true}).value() == "@releaseDomain");
    CHECK(canon("@releaseDomain/5", {.allow_special = true}).value() == "@releaseDomain/5");
    CHECK_FALSE(canon("@releaseDomain/", {.allow_special = true}).has_value());
    CHECK(is_special("@x"));
    CHECK_FALSE(is_special("/@x"));
}

TEST_CASE("path-max allows exactly N characters after the domain prefix") {
    PathRules r{.home = 5, .path_max = 10};
    CHECK(canon(std::string(10, 'a'), r).has_value());
    CHECK_FALSE(canon(std::string(11, 'a'), r).has_value());
    // The same node through its absolute path measures the same.
    CHECK(canon("/local/domain/5/" + std::string(10, 'a'), r).has_value());
    CHECK_FALSE(canon("/local/domain/5/" + std::string(11, 'a'), r).has_value());
    // Outside a domain's home the whole path counts.
    CHECK(canon("/" + std::string(9, 'a'), r).has_value());
    CHECK_FALSE(canon("/" + std::string(10, 'a'), r).has_value());
    // A large domid measures the same as a small one.
    PathRules big{.home = 32000, .path_max = 10};
    CHECK(canon(std::string(10, 'b'), big).has_value());
    CHECK_FALSE(canon(std::string(11, 'b'), big).has_value());
}

TEST_CASE("local prefix detection") {
    CHECK(local_prefix_len("/local/domain/5/x") == 16);
    CHECK(local_prefix_len("/local/domain/12345/x") == 20);
    CHECK(local_prefix_len("/local/domain/123456/x") == 0);
    CHECK(local_prefix_len("/local/domain/5") == 0);
    CHECK(local_prefix_len("/local/domain/x/y") == 0);
}

TEST_CASE("parent, basename and components") {
    CHECK(parent_of("/a/b") == "/a");
    CHECK(parent_of("/a") == "/");
    CHECK(basename_of("/a/bc") == "bc");
    Components c("/a/bc/d");
    std::string_view s;
    std::string joined;
    while (c.next(s)) joined += std::string(s) + ",";
    CHECK(joined == "a,bc,d,");
    Components root("/");
    CHECK_FALSE(root.next(s));
}

TEST_CASE("walk order: a node, then its subtree, then its next sibling; special names last") {
    std::vector<std::string> paths{"@introduceDomain", "/a-b", "/ab", "/a/b", "/", "@releaseDomain", "/a", "/a/b/c", "/b"};
    std::sort(paths.begin(), paths.end(), walk_order);
    CHECK(paths == std::vector<std::string>{"/", "/a", "/a/b", "/a/b/c", "/a-b", "/ab", "/b", "@releaseDomain",
                                            "@introduceDomain"});
    CHECK(within("/a/b", "/a"));
    CHECK(within("/a", "/a"));
    CHECK_FALSE(within("/ab", "/a"));
    CHECK(within("/x", "/"));
    CHECK_FALSE(within("@releaseDomain", "/"));
}
