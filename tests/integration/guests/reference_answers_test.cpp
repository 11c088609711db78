// Answers that must be the C daemon's (Xen 4.17, or upstream 4.22 where
// the spec README says we follow it) when a hypervisor is present: each
// case is a difference the differential run (tests/differential,
// docs/conformance.md "Differential testing") found and xstored fixed. The
// run's reproducers replay them against both daemons; these cases keep
// them checked where the C daemon cannot run.
#include <doctest/doctest.h>

#include <string>

#include "tests/support/guest_harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

namespace {

std::string ask(xs::client::Client& c, std::uint32_t type, const std::string& payload, std::uint32_t tx = 0) {
    return summary(c.call(type, payload, tx));
}

}  // namespace

TEST_CASE("RM /: a guest is refused for want of permission (EACCES), dom0 with EINVAL") {
    GuestHarness h;
    auto g5 = h.add_guest(5);
    CHECK(ask(*g5, wire::kRm, "/\0"s) == "EACCES");
    CHECK(ask(h.dom0(), wire::kRm, "/\0"s) == "EINVAL");
    CHECK(joined(h.dom0().directory("/")) == "local,tool");
}

TEST_CASE("SET_PERMS with an owner that does not exist: ENOENT, before the path is looked at") {
    GuestHarness h;
    auto& d0 = h.dom0();
    auto g5 = h.add_guest(5);
    CHECK(ask(d0, wire::kSetPerms, "/tool\0n9\0"s) == "ENOENT");     // no domain 9
    CHECK(ask(d0, wire::kSetPerms, "//\0n9\0r0\0"s) == "ENOENT");    // a bad path too
    CHECK(ask(d0, wire::kSetPerms, "//\0n0\0"s) == "EINVAL");         // a good owner: the path counts
    CHECK(ask(*g5, wire::kSetPerms, "//\0b32752\0w5\0"s) == "ENOENT");  // DOMID_SELF is no domain
    CHECK(ask(*g5, wire::kSetPerms, "data\0n9\0"s) == "ENOENT");
    CHECK(joined(d0.get_perms("/tool")) == "n0");
}

TEST_CASE("a watch on \"@\" alone is accepted, fires its initial event and nothing else") {
    GuestHarness h;
    auto g5 = h.add_guest(5);
    REQUIRE(outcome(g5->watch("@", "at")) == "OK");
    auto first = wait_event(*g5);
    REQUIRE(first);
    CHECK(*first == Event{"@", "at"});
    h.create(6);
    REQUIRE(outcome(h.introduce(6)) == "OK");
    h.destroy(6);
    CHECK(take_events(*g5).empty());
    CHECK(outcome(g5->unwatch("@", "at")) == "OK");
}

TEST_CASE("a domain never introduced keeps the nodes it owns while it is dying; they go when it is gone") {
    GuestHarness h;
    auto& d0 = h.dom0();
    auto g8 = h.add_guest(8);
    h.create(7);
    REQUIRE(outcome(d0.write("/owned", "x")) == "OK");
    REQUIRE(outcome(d0.set_perms("/owned", {"n7"})) == "OK");
    auto watcher = h.connect();
    REQUIRE(outcome(watcher->watch("@releaseDomain", "rel")) == "OK");
    REQUIRE(wait_event(*watcher));
    h.destroy(7, true);
    // Domain 8's shutdown is seen in a pass over every domain after 7 began dying.
    h.shutdown(8, 0);
    REQUIRE(wait_event(*watcher));
    CHECK(value(d0.read("/owned")) == "x");
    h.destroy(7);
    CHECK(eventually([&] { return outcome(d0.read("/owned")) == "ENOENT"; }));
}

TEST_CASE("INTRODUCE of a domain the hypervisor does not have: EINVAL, and no record of it is left") {
    GuestHarness h;
    auto& d0 = h.dom0();
    auto g2 = h.add_guest(2);
    CHECK(ask(d0, wire::kIntroduce, "3\0"s "7\0"s "1\0"s) == "EINVAL");
    CHECK(ask(d0, wire::kIsDomainIntroduced, "3\0"s) == "F");
    // Entries naming it are inactive, an owner so named refused.
    CHECK(ask(*g2, wire::kSetPerms, "data\0n3\0"s) == "ENOENT");
    CHECK(ask(d0, wire::kGetQuota, "3\0nodes\0"s) == "ENOENT");
}
