#include <doctest/doctest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "store/perms.hpp"

using namespace xs;
using namespace xs::store;

static Caller dom(DomId d, std::optional<DomId> target = std::nullopt) { return Caller{d, false, target}; }

TEST_CASE("parse and format permission entries") {
    CHECK(parse_perm("r5").value() == PermEntry{5, kAccessRead, false});
    CHECK(parse_perm("w0").value() == PermEntry{0, kAccessWrite, false});
    CHECK(parse_perm("b65535").value() == PermEntry{65535, kAccessBoth, false});
    CHECK(parse_perm("n0x10").value().domid == 16);
    // Octal, as strtol(..., 0) reads it upstream (found by the differential run).
    CHECK(parse_perm("r010").value().domid == 8);
    CHECK(parse_perm("w032757").value().domid == 13807);
    CHECK(parse_perm("r00").value().domid == 0);
    CHECK(parse_perm("r0x0000007").value().domid == 7);
    CHECK(parse_perm("b0177777").value().domid == 65535);
    for (std::string_view bad : {"", "r", "x5", "r-1", "r+1", "r 1", "r65536", "r5a", "r0x", "r08", "r0200000",
                                 "r99999999999"}) {
        CAPTURE(std::string(bad));
        CHECK_FALSE(parse_perm(bad).has_value());
    }
    std::string s;
    append_perm(s, PermEntry{32757, kAccessRead, false});
    CHECK(s == "r32757");
}

TEST_CASE("owner has every right, ACL entries decide for others, entry 0 is the default") {
    PermRef p = make_perms({{1, kAccessNone, false}, {2, kAccessRead, false}, {3, kAccessBoth, false}});
    CHECK(access_for(dom(1), *p) == kAccessAll);
    CHECK(access_for(dom(2), *p) == kAccessRead);
    CHECK(access_for(dom(3), *p) == kAccessBoth);
    CHECK(access_for(dom(4), *p) == kAccessNone);
    CHECK(access_for(Caller{9, true, {}}, *p) == kAccessAll);
    PermRef def = make_perms({{1, kAccessRead, false}});
    CHECK(access_for(dom(4), *def) == kAccessRead);
}

TEST_CASE("first matching entry wins; ignored entries are skipped") {
    PermRef p = make_perms({{1, kAccessNone, false}, {2, kAccessRead, true}, {2, kAccessWrite, false}});
    CHECK(access_for(dom(2), *p) == kAccessWrite);
    PermRef q = make_perms({{1, kAccessNone, false}, {2, kAccessRead, false}, {2, kAccessWrite, false}});
    CHECK(access_for(dom(2), *q) == kAccessRead);
}

TEST_CASE("SET_TARGET: a domain acts with its target's rights, owner entry included") {
    PermRef p = make_perms({{7, kAccessNone, false}});
    CHECK(access_for(dom(8, 7), *p) == kAccessAll);
    PermRef acl = make_perms({{0, kAccessNone, false}, {7, kAccessRead, false}});
    CHECK(access_for(dom(8, 7), *acl) == kAccessRead);
    CHECK(access_for(dom(8), *acl) == kAccessNone);
}

TEST_CASE("DOMID_ANY matches every domain") {
    PermRef p = make_perms({{0, kAccessNone, false}, {kDomidAny, kAccessRead, false}});
    CHECK(access_for(dom(12), *p) == kAccessRead);
}

TEST_CASE("permission lists are shared by reference") {
    PermRef p = make_perms({{1, kAccessNone, false}});
    CHECK(p->refs == 1);
    {
        PermRef q = p;
        CHECK(p->refs == 2);
    }
    CHECK(p->refs == 1);
    CHECK(p->same_as(std::vector<PermEntry>{{1, kAccessNone, false}}));
}
