// READ, WRITE and MKDIR over the socket (cxenstored.md §1.7, §2.1).
#include <doctest/doctest.h>

#include <string>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

TEST_CASE("READ returns the raw value bytes, with no NUL added") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/rw/v", "hello")) == "OK");
    auto r = c.call(wire::kRead, "/rw/v\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kRead);
    CHECK(r->payload == "hello");
    CHECK(r->header.len == 5);
}

TEST_CASE("READ of the initial nodes gives empty values") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.read("/local")) == "ENOENT");  // as the C daemon: a toolstack makes it
    for (const char* p : {"/", "/tool", "/tool/xenstored"}) {
        CAPTURE(p);
        auto v = c.read(p);
        REQUIRE(outcome(v) == "OK");
        CHECK(v->empty());
    }
}

TEST_CASE("READ errors: missing nodes, special names, malformed arguments") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.read("/nonexistent")) == "ENOENT");
    CHECK(outcome(c.read("/no/such/deep/node")) == "ENOENT");
    CHECK(outcome(c.read("@releaseDomain")) == "EINVAL");
    CHECK(outcome(c.read("@introduceDomain")) == "EINVAL");
    // Exactly one NUL, as the payload's last byte ("onearg").
    CHECK(summary(c.call(wire::kRead, "/tool"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kRead, "/tool\0\0"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kRead, "/tool\0/local\0"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kRead, "\0"s)) == "EINVAL");
}

TEST_CASE("WRITE keeps embedded NULs and every byte value") {
    Harness h;
    auto& c = h.client();
    std::string value = "a\0b\0\0c\xff\x01\n"s;
    REQUIRE(outcome(c.write("/rw/bin", value)) == "OK");
    auto v = c.read("/rw/bin");
    REQUIRE(outcome(v) == "OK");
    CHECK(*v == value);
    CHECK(v->size() == 9);
}

TEST_CASE("WRITE of an empty value creates an empty node; a rewrite replaces the value") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kWrite, "/rw/empty\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kWrite);
    CHECK(r->payload == "OK\0"s);
    auto v = c.read("/rw/empty");
    REQUIRE(outcome(v) == "OK");
    CHECK(v->empty());
    REQUIRE(outcome(c.write("/rw/empty", "x")) == "OK");
    CHECK(value(c.read("/rw/empty")) == "x");
    REQUIRE(outcome(c.write("/rw/empty", "")) == "OK");
    CHECK(value(c.read("/rw/empty")) == "");
}

TEST_CASE("WRITE creates missing parents with empty values") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/p1/p2/p3/leaf", "v")) == "OK");
    for (const char* p : {"/p1", "/p1/p2", "/p1/p2/p3"}) {
        CAPTURE(p);
        auto v = c.read(p);
        REQUIRE(outcome(v) == "OK");
        CHECK(v->empty());
    }
    CHECK(joined(c.directory("/p1")) == "p2");
    CHECK(joined(c.directory("/p1/p2/p3")) == "leaf");
    CHECK(value(c.read("/p1/p2/p3/leaf")) == "v");
}

TEST_CASE("new nodes inherit their parent's permissions") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/inh", "")) == "OK");
    REQUIRE(outcome(c.set_perms("/inh", {"n0", "r7", "w8"})) == "OK");
    REQUIRE(outcome(c.write("/inh/a/b", "v")) == "OK");
    CHECK(joined(c.get_perms("/inh/a")) == "n0,r7,w8");
    CHECK(joined(c.get_perms("/inh/a/b")) == "n0,r7,w8");
}

TEST_CASE("WRITE errors: no NUL, special names, bad paths") {
    Harness h;
    auto& c = h.client();
    CHECK(summary(c.call(wire::kWrite, "/rw/nonul"s)) == "EINVAL");
    CHECK(outcome(c.read("/rw/nonul")) == "ENOENT");
    CHECK(outcome(c.write("@releaseDomain", "x")) == "EINVAL");
    CHECK(outcome(c.write("@newspecial", "x")) == "EINVAL");
    CHECK(outcome(c.write("/rw/bad/", "x")) == "EINVAL");
    CHECK(outcome(c.read("/rw")) == "ENOENT");
}

TEST_CASE("relative paths of a socket resolve under /local/domain/0") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("relnode/x", "rel")) == "OK");
    CHECK(value(c.read("/local/domain/0/relnode/x")) == "rel");
    CHECK(value(c.read("relnode/x")) == "rel");
    REQUIRE(outcome(c.write("/local/domain/0/relnode/y", "abs")) == "OK");
    CHECK(value(c.read("relnode/y")) == "abs");
}

TEST_CASE("the largest WRITE that fits the 4096-byte payload works, and READ returns it") {
    Harness h;
    auto& c = h.client();
    std::string path = "/big";
    std::string value(4096 - path.size() - 1, 'v');  // the socket is exempt from node-size
    auto r = c.call(wire::kWrite, path + '\0' + value);
    REQUIRE(r);
    CHECK(summary(r) == "OK");
    auto v = c.read(path);
    REQUIRE(outcome(v) == "OK");
    CHECK(v->size() == value.size());
    CHECK(*v == value);
}

TEST_CASE("long paths: no path-max for the privileged socket, only the payload limit") {
    Harness h;
    auto& c = h.client();
    // A 4000-character path is far over path-max (2048) and XENSTORE_ABS_PATH_MAX (3072).
    std::string path = "/" + std::string(3999, 'p');
    REQUIRE(outcome(c.write(path, "long")) == "OK");
    CHECK(value(c.read(path)) == "long");
    // A READ whose payload is exactly 4096 bytes.
    std::string longest = "/" + std::string(4094, 'q');
    CHECK(summary(c.call(wire::kRead, longest + '\0')) == "ENOENT");
    REQUIRE(outcome(c.rm(path)) == "OK");
    CHECK(outcome(c.read(path)) == "ENOENT");
}

TEST_CASE("MKDIR creates a node and its parents with empty values") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kMkdir, "/md/a/b\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kMkdir);
    CHECK(r->payload == "OK\0"s);
    CHECK(outcome(c.read("/md/a/b")) == "OK");
    CHECK(value(c.read("/md/a/b")) == "");
    CHECK(joined(c.directory("/md")) == "a");
}

TEST_CASE("MKDIR of an existing node succeeds and changes nothing") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/md/keep", "value")) == "OK");
    REQUIRE(outcome(c.write("/md/keep/child", "c")) == "OK");
    REQUIRE(outcome(c.mkdir("/md/keep")) == "OK");
    CHECK(value(c.read("/md/keep")) == "value");
    CHECK(joined(c.directory("/md/keep")) == "child");
    REQUIRE(outcome(c.mkdir("/")) == "OK");
    CHECK(joined(c.directory("/")) == "md,tool");
}

TEST_CASE("MKDIR errors: special names, bad paths, malformed arguments") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.mkdir("@introduceDomain")) == "EINVAL");
    CHECK(outcome(c.mkdir("/md//x")) == "EINVAL");
    CHECK(summary(c.call(wire::kMkdir, "/md/x"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kMkdir, "/md/x\0/md/y\0"s)) == "EINVAL");
    CHECK(outcome(c.read("/md")) == "ENOENT");
}
