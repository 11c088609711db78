// GET_PERMS and SET_PERMS over the socket: the initial tree's permissions,
// the special nodes, entry parsing (cxenstored.md §1.7, §2.5, spec README).
#include <doctest/doctest.h>

#include <string>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

TEST_CASE("GET_PERMS of the initial tree and the special nodes") {
    Harness h;
    auto& c = h.client();
    for (const char* p : {"/", "/tool", "/tool/xenstored"}) {
        CAPTURE(p);
        CHECK(joined(c.get_perms(p)) == "n0");
    }
    CHECK(joined(c.get_perms("@introduceDomain")) == "n0");
    // DOMID_ANY (32757) may read @releaseDomain: every domain can watch it.
    auto r = c.call(wire::kGetPerms, "@releaseDomain\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kGetPerms);
    CHECK(r->payload == "n0\0r32757\0"s);
}

TEST_CASE("GET_PERMS errors: missing node, bad paths, malformed arguments") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.get_perms("/missing")) == "ENOENT");
    CHECK(outcome(c.get_perms("/tool/")) == "EINVAL");
    CHECK(outcome(c.get_perms("/a//b")) == "EINVAL");
    CHECK(summary(c.call(wire::kGetPerms, "/tool"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kGetPerms, "/tool\0\0"s)) == "EINVAL");
    CHECK(outcome(c.get_perms("@nosuchspecial")) != "OK");
}

TEST_CASE("SET_PERMS stores the list; GET_PERMS prints it back") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/sp", "v")) == "OK");
    auto r = c.call(wire::kSetPerms, "/sp\0n0\0r5\0w6\0b7\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kSetPerms);
    CHECK(r->payload == "OK\0"s);
    auto g = c.call(wire::kGetPerms, "/sp\0"s);
    REQUIRE(g);
    CHECK(g->payload == "n0\0r5\0w6\0b7\0"s);
    // The value is untouched.
    CHECK(value(c.read("/sp")) == "v");
    // A later SET_PERMS replaces the whole list.
    REQUIRE(outcome(c.set_perms("/sp", {"b0"})) == "OK");
    CHECK(joined(c.get_perms("/sp")) == "b0");
}

TEST_CASE("SET_PERMS accepts hexadecimal domids and prints them in decimal") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/hex", "")) == "OK");
    REQUIRE(outcome(c.set_perms("/hex", {"n0", "r0x10", "w0x1f"})) == "OK");
    CHECK(joined(c.get_perms("/hex")) == "n0,r16,w31");
}

TEST_CASE("SET_PERMS: the privileged socket is exempt from the node-permissions quota") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/many", "")) == "OK");
    std::vector<std::string> perms = {"n0"};
    for (int d = 1; d <= 12; ++d) perms.push_back("r" + std::to_string(d));
    REQUIRE(outcome(c.set_perms("/many", perms)) == "OK");
    CHECK(joined(c.get_perms("/many")) == joined(perms));
}

TEST_CASE("SET_PERMS with a DOMID_ANY entry from a socket (upstream crashes here)") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/any", "")) == "OK");
    REQUIRE(outcome(c.set_perms("/any", {"n0", "r32757"})) == "OK");
    CHECK(joined(c.get_perms("/any")) == "n0,r32757");
}

TEST_CASE("SET_PERMS parsing errors are EINVAL and change nothing") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/bad", "")) == "OK");
    REQUIRE(outcome(c.set_perms("/bad", {"n0", "r3"})) == "OK");
    const std::vector<std::string> payloads = {
        "/bad"s,                   // no NUL at all
        "/bad\0"s,                 // a path and no permission
        "/bad\0n0"s,               // one NUL only
        "/bad\0\0"s,               // an empty entry
        "/bad\0x0\0"s,             // unknown access letter
        "/bad\0N0\0"s,             // letters are lower case
        "/bad\0r\0"s,              // no domid
        "/bad\0r5x\0"s,            // trailing garbage
        "/bad\0r70000\0"s,         // domid out of range
        "/bad\0r-1\0"s,            // negative
        "/bad\0n0\0w\0"s,          // a bad entry after a good one
    };
    for (const auto& p : payloads) {
        CAPTURE(p);
        CHECK(summary(c.call(wire::kSetPerms, p)) == "EINVAL");
    }
    CHECK(joined(c.get_perms("/bad")) == "n0,r3");
}

TEST_CASE("SET_PERMS errors: missing node, bad paths") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.set_perms("/missing", {"n0"})) == "ENOENT");
    CHECK(outcome(c.read("/missing")) == "ENOENT");
    CHECK(outcome(c.set_perms("/tool/", {"n0"})) == "EINVAL");
    CHECK(outcome(c.set_perms("/a//b", {"n0"})) == "EINVAL");
    CHECK(outcome(c.set_perms("@nosuchspecial", {"n0"})) != "OK");
    CHECK(outcome(c.get_perms("@nosuchspecial")) != "OK");
}

TEST_CASE("SET_PERMS on the special nodes") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.set_perms("@releaseDomain", {"n0", "r5"})) == "OK");
    CHECK(joined(c.get_perms("@releaseDomain")) == "n0,r5");
    REQUIRE(outcome(c.set_perms("@introduceDomain", {"n0", "b7"})) == "OK");
    CHECK(joined(c.get_perms("@introduceDomain")) == "n0,b7");
    // Still not reachable as ordinary nodes.
    CHECK(outcome(c.read("@releaseDomain")) == "EINVAL");
    CHECK(joined(c.directory("/")) == "tool");
}

TEST_CASE("SET_PERMS fires subtree watches on the node; on a special node, its watchers") {
    Harness h;
    auto& c = h.client();
    auto watcher = h.connect();
    REQUIRE(outcome(c.write("/spw/n", "")) == "OK");
    REQUIRE(outcome(watcher->watch("/spw", "sub")) == "OK");
    REQUIRE(outcome(watcher->watch("@releaseDomain", "rel")) == "OK");
    REQUIRE(outcome(watcher->watch("/", "root")) == "OK");
    REQUIRE(take_events(*watcher).size() == 3);
    REQUIRE(outcome(c.set_perms("/spw/n", {"n0", "r1"})) == "OK");
    CHECK(joined(sorted(take_events(*watcher))) == "/spw/n|root;/spw/n|sub");
    REQUIRE(outcome(c.set_perms("@releaseDomain", {"n0", "r32757", "r1"})) == "OK");
    // A watch on "/" never sees "@..." names.
    CHECK(joined(take_events(*watcher)) == "@releaseDomain|rel");
}

TEST_CASE("SET_PERMS on / is allowed for the privileged socket") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.set_perms("/", {"n0", "r9"})) == "OK");
    CHECK(joined(c.get_perms("/")) == "n0,r9");
    REQUIRE(outcome(c.set_perms("/", {"n0"})) == "OK");
    CHECK(joined(c.get_perms("/")) == "n0");
}

TEST_CASE("GET_PERMS and SET_PERMS take relative paths") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("relp", "")) == "OK");
    REQUIRE(outcome(c.set_perms("relp", {"n0", "r2"})) == "OK");
    CHECK(joined(c.get_perms("/local/domain/0/relp")) == "n0,r2");
    CHECK(joined(c.get_perms("relp")) == "n0,r2");
}

TEST_CASE("SET_PERMS inside a transaction: visible in it, applied and announced at commit") {
    Harness h;
    auto& c = h.client();
    auto w = h.connect();
    REQUIRE(outcome(c.write("/tp", "")) == "OK");
    REQUIRE(outcome(w->watch("/tp", "t")) == "OK");
    REQUIRE(take_events(*w).size() == 1);
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(c.set_perms("/tp", {"n0", "w3"}, *t)) == "OK");
    CHECK(joined(c.get_perms("/tp", *t)) == "n0,w3");
    CHECK(joined(c.get_perms("/tp")) == "n0");
    CHECK(joined(take_events(*w)) == "");
    REQUIRE(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(joined(c.get_perms("/tp")) == "n0,w3");
    CHECK(joined(take_events(*w)) == "/tp|t");
}
