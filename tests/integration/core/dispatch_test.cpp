// Message dispatch over the socket: unknown and reply-only types, the reply
// header (type, req_id and tx_id echoed), empty payloads for every type,
// unknown transaction ids (cxenstored.md §1.1-§1.4).
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

TEST_CASE("unknown and reply-only message types get ENOSYS, and the connection stays usable") {
    Harness h;
    auto& c = h.client();
    for (std::uint32_t type : {15u, 16u, 20u, 27u, 28u, 100u, 0xfffeu, 0xffffu, 0x10000u, 0xffffffffu}) {
        CAPTURE(type);
        std::uint32_t req = 0xabc00000u + (type & 0xffff);
        c.send_raw(raw_message(type, "/tool\0"s, req, 0));
        auto r = c.wait_reply(req);
        REQUIRE(r);
        CHECK(r->header.type == wire::kError);
        CHECK(r->header.req_id == req);
        CHECK(r->payload == "ENOSYS\0"s);
    }
    CHECK(outcome(c.read("/tool")) == "OK");
}

TEST_CASE("ENOSYS comes before the transaction lookup") {
    Harness h;
    auto& c = h.client();
    CHECK(summary(c.call(27, "x\0"s, 0xdeadbeef)) == "ENOSYS");
    CHECK(summary(c.call(wire::kWatchEvent, "x\0y\0"s, 0xdeadbeef)) == "ENOSYS");
}

TEST_CASE("replies echo req_id and tx_id; success replies carry the request's type") {
    Harness h;
    auto& c = h.client();
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    const std::uint32_t req = 0xdeadbeef;
    c.send_raw(raw_message(wire::kRead, "/tool\0"s, req, *t));
    auto ok = c.wait_reply(req);
    REQUIRE(ok);
    CHECK(ok->header.type == wire::kRead);
    CHECK(ok->header.req_id == req);
    CHECK(ok->header.tx_id == *t);
    // An error reply too.
    c.send_raw(raw_message(wire::kRead, "/missing\0"s, 0x12345678, *t));
    auto err = c.wait_reply(0x12345678);
    REQUIRE(err);
    CHECK(err->header.type == wire::kError);
    CHECK(err->header.tx_id == *t);
    CHECK(err->payload == "ENOENT\0"s);
    // req_id 0 is a valid id too.
    c.send_raw(raw_message(wire::kGetDomainPath, "3\0"s, 0, 0));
    auto zero = c.receive(c.timeout);
    REQUIRE(zero);
    CHECK(zero->header.type == wire::kGetDomainPath);
    CHECK(zero->header.req_id == 0);
}

TEST_CASE("every message type gets a reply of its own type (or ERROR)") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/types/n", "v")) == "OK");
    const std::map<std::uint32_t, std::string> requests = {
        {wire::kControl, "check\0"s},
        {wire::kDirectory, "/types\0"s},
        {wire::kRead, "/types/n\0"s},
        {wire::kGetPerms, "/types/n\0"s},
        {wire::kWatch, "/types\0t\0"s},
        {wire::kUnwatch, "/types\0t\0"s},
        {wire::kTransactionStart, "\0"s},
        {wire::kGetDomainPath, "1\0"s},
        {wire::kWrite, "/types/m\0x"s},
        {wire::kMkdir, "/types/d\0"s},
        {wire::kRm, "/types/d\0"s},
        {wire::kSetPerms, "/types/n\0n0\0"s},
        {wire::kIsDomainIntroduced, "0\0"s},
        {wire::kResetWatches, ""s},
        {wire::kDirectoryPart, "/types\0" "0\0"s},
        {wire::kGetFeature, ""s},
        {wire::kGetQuota, "nodes\0"s},
        {wire::kSetQuota, "nodes\0" "1000\0"s},
    };
    for (const auto& [type, payload] : requests) {
        CAPTURE(type);
        auto r = c.call(type, payload);
        REQUIRE(r);
        CHECK(r->header.type == type);
        if (type == wire::kTransactionStart) {
            auto id = static_cast<std::uint32_t>(std::stoul("0" + text(*r)));
            CHECK(outcome(c.transaction_end(id, false)) == "OK");
        }
    }
}

TEST_CASE("an empty payload gets exactly one prompt reply for every type") {
    Harness h;
    auto& c = h.client();
    // Expected replies per type (others, unknown types: ENOSYS).
    const std::map<std::uint32_t, std::string> expected = {
        {wire::kControl, "EINVAL"},          {wire::kDirectory, "EINVAL"},
        {wire::kRead, "EINVAL"},             {wire::kGetPerms, "EINVAL"},
        {wire::kWatch, "EINVAL"},            {wire::kUnwatch, "EINVAL"},
        {wire::kTransactionStart, "<id>"},   {wire::kTransactionEnd, "EINVAL"},
        {wire::kIntroduce, "EINVAL"},        {wire::kRelease, "EINVAL"},
        {wire::kGetDomainPath, "EINVAL"},    {wire::kWrite, "EINVAL"},
        {wire::kMkdir, "EINVAL"},            {wire::kRm, "EINVAL"},
        {wire::kSetPerms, "EINVAL"},         {wire::kWatchEvent, "ENOSYS"},
        {wire::kError, "ENOSYS"},            {wire::kIsDomainIntroduced, "EINVAL"},
        {wire::kResume, "EINVAL"},           {wire::kSetTarget, "EINVAL"},
        {20, "ENOSYS"},                      {wire::kResetWatches, "OK"},
        {wire::kDirectoryPart, "EINVAL"},    {wire::kGetFeature, "15"},
        {wire::kSetFeature, "EINVAL"},       {wire::kSetQuota, "EINVAL"},
        {27, "ENOSYS"},                      {0xffff, "ENOSYS"},
    };
    // All sent at once; each must be answered, in order, exactly once.
    std::string batch;
    std::uint32_t req = 1000;
    for (const auto& [type, want] : expected) batch += raw_message(type, ""s, req++, 0);
    REQUIRE(c.send_raw(batch));
    req = 1000;
    for (const auto& [type, want] : expected) {
        CAPTURE(type);
        auto r = c.receive(c.timeout);
        REQUIRE(r);
        CHECK(r->header.req_id == req++);
        if (want == "<id>") {
            CHECK(r->header.type == wire::kTransactionStart);
            CHECK(text(*r) != "0");
        } else {
            CHECK(summary(r) == want);
        }
    }
    // GET_QUOTA with no strings is the name list.
    auto q = c.call(wire::kGetQuota, ""s);
    REQUIRE(q);
    CHECK(text(*q).rfind("nodes watches", 0) == 0);
    // Nothing else arrives: exactly one reply each.
    REQUIRE(sync(c));
    CHECK(c.queued_events() == 0);
}

TEST_CASE("a transaction id that does not exist is ENOENT for every type that looks it up") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/txid/n", "v")) == "OK");
    const std::uint32_t bogus = 0x7777;
    const std::map<std::uint32_t, std::string> requests = {
        {wire::kControl, "check\0"s},
        {wire::kDirectory, "/txid\0"s},
        {wire::kRead, "/txid/n\0"s},
        {wire::kGetPerms, "/txid/n\0"s},
        {wire::kTransactionStart, "\0"s},
        {wire::kTransactionEnd, "T\0"s},
        {wire::kIntroduce, "5\0" "1\0" "7\0"s},
        {wire::kRelease, "5\0"s},
        {wire::kGetDomainPath, "1\0"s},
        {wire::kWrite, "/txid/new\0x"s},
        {wire::kMkdir, "/txid/dir\0"s},
        {wire::kRm, "/txid/n\0"s},
        {wire::kSetPerms, "/txid/n\0n0\0r1\0"s},
        {wire::kIsDomainIntroduced, "0\0"s},
        {wire::kResume, "5\0"s},
        {wire::kSetTarget, "5\0" "6\0"s},
        {wire::kResetWatches, ""s},
        {wire::kDirectoryPart, "/txid\0" "0\0"s},
        {wire::kGetFeature, ""s},
        {wire::kSetFeature, "5\0" "14\0"s},
        {wire::kGetQuota, "nodes\0"s},
        {wire::kSetQuota, "nodes\0" "5\0"s},
    };
    for (const auto& [type, payload] : requests) {
        CAPTURE(type);
        CHECK(summary(c.call(type, payload, bogus)) == "ENOENT");
    }
    // None of them did anything.
    CHECK(outcome(c.read("/txid/new")) == "ENOENT");
    CHECK(outcome(c.read("/txid/dir")) == "ENOENT");
    CHECK(value(c.read("/txid/n")) == "v");
    CHECK(joined(c.get_perms("/txid/n")) == "n0");
    CHECK(value(c.request_string(wire::kGetQuota, {"nodes"})) == "1000");
}

TEST_CASE("RESET_WATCHES carrying a transaction id (XSA-484)") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/x484", "v")) == "OK");
    auto t = c.transaction_start();
    REQUIRE(outcome(t) == "OK");
    REQUIRE(outcome(c.watch("/x484", "tok")) == "OK");
    REQUIRE(take_events(c).size() == 1);
    // With the open transaction's id: one reply, and the transaction is gone.
    CHECK(summary(c.call(wire::kResetWatches, ""s, *t)) == "OK");
    CHECK(outcome(c.transaction_end(*t, true)) == "ENOENT");
    CHECK(outcome(c.read("/x484", *t)) == "ENOENT");
    // With an id that does not exist: one reply.
    CHECK(summary(c.call(wire::kResetWatches, ""s, 0xdeadbeef)) == "ENOENT");
    // The watch is gone; new transactions work.
    REQUIRE(outcome(c.write("/x484", "w")) == "OK");
    CHECK(joined(take_events(c)) == "");
    for (int i = 0; i < 12; ++i) {
        auto n = c.transaction_start();
        REQUIRE(outcome(n) == "OK");
        CHECK(outcome(c.transaction_end(*n, false)) == "OK");
    }
    // Twice in a row, with a fresh transaction each time.
    auto t2 = c.transaction_start();
    REQUIRE(outcome(t2) == "OK");
    CHECK(summary(c.call(wire::kResetWatches, ""s, *t2)) == "OK");
    CHECK(summary(c.call(wire::kResetWatches, ""s, *t2)) == "ENOENT");
}
