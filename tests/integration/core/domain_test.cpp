// The domain messages over the (privileged) socket: GET_DOMAIN_PATH,
// IS_DOMAIN_INTRODUCED, and the argument validation of INTRODUCE, RELEASE,
// RESUME, SET_TARGET, GET_FEATURE and SET_FEATURE (cxenstored.md §5;
// domids are strict decimal 0..65535, anything else EINVAL).
#include <doctest/doctest.h>

#include <string>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

namespace {

const std::vector<std::string> kBadDomids = {"abc", "70000", "65536", "-1", "5x", "x5", "0x5", "99999999999"};

}  // namespace

TEST_CASE("GET_DOMAIN_PATH: /local/domain/<domid>, whether or not the domain exists") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kGetDomainPath, "5\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kGetDomainPath);
    CHECK(r->payload == "/local/domain/5\0"s);
    CHECK(value(c.request_string(wire::kGetDomainPath, {"0"})) == "/local/domain/0");
    CHECK(value(c.request_string(wire::kGetDomainPath, {"65535"})) == "/local/domain/65535");
    CHECK(value(c.request_string(wire::kGetDomainPath, {"32752"})) == "/local/domain/32752");
}

TEST_CASE("GET_DOMAIN_PATH: malformed domids and arguments are EINVAL") {
    Harness h;
    auto& c = h.client();
    for (const auto& d : kBadDomids) {
        CAPTURE(d);
        CHECK(outcome(c.request_string(wire::kGetDomainPath, {d})) == "EINVAL");
    }
    CHECK(summary(c.call(wire::kGetDomainPath, "5"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kGetDomainPath, "5\0" "6\0"s)) == "EINVAL");
}

TEST_CASE("GET_DOMAIN_PATH: strict decimal (no sign, blank or empty string)") {
    Harness h;
    auto& c = h.client();
    for (const auto& d : {""s, "+5"s, " 5"s, "5 "s}) {
        CAPTURE(d);
        CHECK(outcome(c.request_string(wire::kGetDomainPath, {d})) == "EINVAL");
    }
}

TEST_CASE("IS_DOMAIN_INTRODUCED: dom0 and DOMID_SELF are T, an unknown domain F") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kIsDomainIntroduced, "0\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kIsDomainIntroduced);
    CHECK(r->payload == "T\0"s);
    CHECK(value(c.request_string(wire::kIsDomainIntroduced, {"32752"})) == "T");
    CHECK(value(c.request_string(wire::kIsDomainIntroduced, {"5"})) == "F");
    CHECK(value(c.request_string(wire::kIsDomainIntroduced, {"1234"})) == "F");
}

TEST_CASE("IS_DOMAIN_INTRODUCED: malformed arguments are EINVAL") {
    Harness h;
    auto& c = h.client();
    for (const auto& d : kBadDomids) {
        CAPTURE(d);
        CHECK(outcome(c.request_string(wire::kIsDomainIntroduced, {d})) == "EINVAL");
    }
    CHECK(summary(c.call(wire::kIsDomainIntroduced, "0"s)) == "EINVAL");
}

TEST_CASE("INTRODUCE: argument validation") {
    Harness h;
    auto& c = h.client();
    CHECK(summary(c.call(wire::kIntroduce, "5\0" "1234\0"s)) == "EINVAL");   // two strings
    CHECK(summary(c.call(wire::kIntroduce, "5\0"s)) == "EINVAL");
    for (const auto& d : kBadDomids) {
        CAPTURE(d);
        CHECK(outcome(c.request_string(wire::kIntroduce, {d, "1234", "7"})) == "EINVAL");
    }
    // The privileged domain and reserved ids cannot be introduced.
    CHECK(outcome(c.request_string(wire::kIntroduce, {"0", "1234", "7"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kIntroduce, {"32752", "1234", "7"})) == "EINVAL");
    // Event channel port 0 is invalid.
    CHECK(outcome(c.request_string(wire::kIntroduce, {"5", "1234", "0"})) == "EINVAL");
    CHECK(value(c.request_string(wire::kIsDomainIntroduced, {"5"})) == "F");
}

TEST_CASE("INTRODUCE of a well-formed domain gets exactly one reply (no hypervisor here)") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kIntroduce, "5\0" "1234\0" "7\0"s);
    REQUIRE(r);
    CHECK((r->header.type == wire::kIntroduce || r->header.type == wire::kError));
    if (r->is_error()) CHECK(r->error() != "EINVAL");
    REQUIRE(sync(c));
    CHECK(c.queued_events() == 0);
}

TEST_CASE("RELEASE and RESUME: argument validation, unknown domains, dom0 is never released") {
    Harness h;
    auto& c = h.client();
    for (auto type : {wire::kRelease, wire::kResume}) {
        CAPTURE(type);
        for (const auto& d : kBadDomids) {
            CAPTURE(d);
            CHECK(outcome(c.request_string(type, {d})) == "EINVAL");
        }
        CHECK(summary(c.call(type, "5"s)) == "EINVAL");
        CHECK(summary(c.call(type, "5\0" "6\0"s)) == "EINVAL");
        CHECK(outcome(c.request_string(type, {"0"})) == "EINVAL");  // the privileged domain
        CHECK(outcome(c.request_string(type, {"5"})) == "ENOENT");  // not introduced
    }
    CHECK(value(c.request_string(wire::kIsDomainIntroduced, {"0"})) == "T");
}

TEST_CASE("SET_TARGET: argument validation and unknown domains") {
    Harness h;
    auto& c = h.client();
    CHECK(summary(c.call(wire::kSetTarget, "5\0"s)) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kSetTarget, {"abc", "6"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kSetTarget, {"5", "70000"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kSetTarget, {"5", "6"})) == "ENOENT");
}

// Upstream offers ERROR|WATCHDEPTH|DOMID_ANY (14); we also offer RECONNECTION
// (spec README, decision 1), so the full set is 15.
TEST_CASE("GET_FEATURE: a socket gets the full feature set (15)") {
    Harness h;
    auto& c = h.client();
    auto r = c.call(wire::kGetFeature, ""s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kGetFeature);
    CHECK(r->payload == "15\0"s);
    CHECK(summary(c.call(wire::kGetFeature, "0\0" "1\0"s)) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kGetFeature, {"abc"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kGetFeature, {"70000"})) == "EINVAL");
    auto dom0 = c.request_string(wire::kGetFeature, {"0"});
    CHECK(outcome(dom0) == "OK");
}

TEST_CASE("SET_FEATURE: argument validation; an introduced domain is EBUSY") {
    Harness h;
    auto& c = h.client();
    CHECK(summary(c.call(wire::kSetFeature, "0\0"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kSetFeature, "0\0" "14\0" "x\0"s)) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kSetFeature, {"abc", "14"})) == "EINVAL");
    CHECK(outcome(c.request_string(wire::kSetFeature, {"0", "14"})) == "EBUSY");
}
