// The invalid-path corpus (xsa.md: XSA-481 and the watch-path fixes) sent to
// every path-taking message over the socket: each gets exactly one EINVAL
// reply, nothing changes, and the daemon does not spin.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;
namespace wire = xs::wire;

namespace {

// Paths that are invalid everywhere.
const std::vector<std::string> kInvalidPaths = {
    "/local/domain/",   "/local/domain//",  "/local/domain/x/", "//",       "/a/",
    "",                 "a//b",             "a/",               "/a b",     "/a\x01",
    "/a.b",             "/a\xff",           "/a*",              "/a:b",     "/a~",
    "/a\\b",            "/\x7f",            "///",              "/tool//xenstored",
    "/a\tb",            "/..",              "/.",
};
// Special names, invalid where specials are not allowed.
const std::vector<std::string> kSpecialPaths = {"@releaseDomain", "@introduceDomain", "@other", "@"};

struct PathMessage {
    std::uint32_t type;
    bool allows_special;
    std::string (*payload)(const std::string& path);
};

const std::vector<PathMessage> kMessages = {
    {wire::kRead, false, [](const std::string& p) { return p + '\0'; }},
    {wire::kWrite, false, [](const std::string& p) { return p + '\0' + "value"; }},
    {wire::kMkdir, false, [](const std::string& p) { return p + '\0'; }},
    {wire::kRm, false, [](const std::string& p) { return p + '\0'; }},
    {wire::kDirectory, false, [](const std::string& p) { return p + '\0'; }},
    {wire::kDirectoryPart, false, [](const std::string& p) { return p + '\0' + "0" + '\0'; }},
    {wire::kGetPerms, true, [](const std::string& p) { return p + '\0'; }},
    {wire::kSetPerms, true, [](const std::string& p) { return p + '\0' + "n0" + '\0'; }},
    {wire::kWatch, true, [](const std::string& p) { return p + '\0' + "tok" + '\0'; }},
    {wire::kUnwatch, true, [](const std::string& p) { return p + '\0' + "tok" + '\0'; }},
};

// What the tree looks like, coarsely: top-level names and dom0's node count.
std::string fingerprint(Client& c) {
    auto quota = c.control({"quota", "0"});
    auto nodes = quota ? quota_row(*quota, "nodes") : std::nullopt;
    return joined(c.directory("/")) + "|" + joined(c.directory("/local/domain")) + "|" +
           std::to_string(nodes.value_or(0)) + "|" + joined(c.get_perms("/")) + "|" +
           joined(c.get_perms("@releaseDomain"));
}

}  // namespace

TEST_CASE("every path-taking message answers EINVAL for the invalid-path corpus") {
    Harness h;
    auto& c = h.client();
    std::string before = fingerprint(c);
    for (const auto& m : kMessages) {
        for (const auto& path : kInvalidPaths) {
            CAPTURE(m.type);
            CAPTURE(path);
            CHECK(summary(c.call(m.type, m.payload(path))) == "EINVAL");
        }
    }
    CHECK(fingerprint(c) == before);
    // No watch was registered: nothing but replies arrived.
    CHECK(c.queued_events() == 0);
    REQUIRE(sync(c));
    CHECK(c.queued_events() == 0);
}

TEST_CASE("special names are EINVAL where they are not allowed") {
    Harness h;
    auto& c = h.client();
    std::string before = fingerprint(c);
    for (const auto& m : kMessages) {
        if (m.allows_special) continue;
        for (const auto& path : kSpecialPaths) {
            CAPTURE(m.type);
            CAPTURE(path);
            CHECK(summary(c.call(m.type, m.payload(path))) == "EINVAL");
        }
    }
    CHECK(fingerprint(c) == before);
}

TEST_CASE("the corpus inside a transaction: EINVAL, and the transaction still commits cleanly") {
    Harness h;
    auto& c = h.client();
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    for (const auto& m : kMessages) {
        if (m.type == wire::kWatch || m.type == wire::kUnwatch) continue;
        for (const auto& path : {"/local/domain/"s, "//"s, "/a b"s}) {
            CAPTURE(m.type);
            CAPTURE(path);
            CHECK(summary(c.call(m.type, m.payload(path), *t)) == "EINVAL");
        }
    }
    REQUIRE(outcome(c.write("/after-corpus", "v", *t)) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "OK");
    CHECK(value(c.read("/after-corpus")) == "v");
}

TEST_CASE("odd but valid domain paths get exactly one reply each (XSA-481)") {
    Harness h;
    auto& c = h.client();
    std::string batch;
    std::uint32_t req = 100;
    std::vector<std::uint32_t> ids;
    for (const auto& m : kMessages) {
        for (const auto& path : {"/local/domain/99999/a"s, "/local/domain/-1/a"s, "/local/domain/123456/a"s,
                                 "/local/domain/0"s}) {
            batch += raw_message(m.type, m.payload(path), req);
            ids.push_back(req++);
        }
    }
    REQUIRE(c.send_raw(batch));
    for (auto id : ids) {
        CAPTURE(id);
        auto r = c.receive(c.timeout);
        REQUIRE(r);
        if (r->header.type == wire::kWatchEvent) {  // initial events of the WATCHes
            r = c.receive(c.timeout);
            REQUIRE(r);
        }
        CHECK(r->header.req_id == id);
    }
    REQUIRE(sync(c));
}

TEST_CASE("no busy loop after the corpus") {
    Harness h;
    auto& c = h.client();
    for (const auto& m : kMessages) {
        for (const auto& path : kInvalidPaths) c.call(m.type, m.payload(path));
    }
    REQUIRE(sync(c));
    auto before = h.daemon().cpu();
    std::this_thread::sleep_for(1s);
    auto after = h.daemon().cpu();
    REQUIRE(before);
    REQUIRE(after);
    CHECK(*after - *before < 500ms);
}
