// Unprivileged semantics (cxenstored.md §1.5-1.7, §2.1, §2.3, §4.2, §5.5):
// relative paths, ownership of created nodes, owner changes only by dom0,
// privileged-only messages, error masking, SET_TARGET, permissions naming
// domains that do not exist, DOMID_ANY, and watch events filtered by what
// the watcher may read.
#include <doctest/doctest.h>

#include <string>

#include "tests/support/guest_harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

namespace {

std::string perms_of(xs::client::Client& c, const std::string& path) { return joined(c.get_perms(path)); }

// A request's reply: the text, or the error name.
std::string ask(xs::client::Client& c, std::uint32_t type, const std::string& payload) {
    return summary(c.call(type, payload));
}

}  // namespace

TEST_CASE("relative paths are below /local/domain/<domid>, and relative watches report relative paths") {
    GuestHarness h;
    auto g = h.add_guest(5);
    CHECK(outcome(g->write("data/rel", "1")) == "OK");
    CHECK(value(h.dom0().read("/local/domain/5/data/rel")) == "1");
    CHECK(value(g->read("/local/domain/5/data/rel")) == "1");
    CHECK(outcome(g->mkdir("data/dir")) == "OK");
    CHECK(joined(g->directory("data")) == "dir,rel");  // sorted by name
    CHECK(perms_of(*g, "data/rel") == "n5");
    REQUIRE(outcome(g->watch("data/rel", "relative")) == "OK");
    REQUIRE(outcome(g->watch("/local/domain/5/data/rel", "absolute")) == "OK");
    REQUIRE(outcome(h.dom0().write("/local/domain/5/data/rel/sub", "2")) == "OK");
    CHECK(joined(sorted(take_events(*g))) ==
          "/local/domain/5/data/rel|absolute;/local/domain/5/data/rel/sub|absolute;"
          "data/rel|relative;data/rel/sub|relative");
    CHECK(outcome(g->rm("data/dir")) == "OK");
    CHECK(outcome(g->read("")) == "EINVAL");
    CHECK(outcome(g->read("data/")) == "EINVAL");
    CHECK(outcome(g->read("data//rel")) == "EINVAL");
}

TEST_CASE("a guest owns what it creates, with the rest of the parent's permissions; dom0 keeps the inherited owner") {
    GuestHarness h;
    auto g5 = h.add_guest(5);
    auto g6 = h.add_guest(6);
    auto& d0 = h.dom0();
    REQUIRE(outcome(d0.write("/shared", "")) == "OK");
    REQUIRE(outcome(d0.set_perms("/shared", {"n0", "b5", "r6"})) == "OK");
    auto before = h.accounted(5);
    REQUIRE(before);
    CHECK(outcome(g5->write("/shared/a/b/c", "v")) == "OK");
    for (const char* p : {"/shared/a", "/shared/a/b", "/shared/a/b/c"}) {
        CAPTURE(p);
        CHECK(perms_of(d0, p) == "n5,b5,r6");
    }
    CHECK(h.accounted(5) == *before + 3);
    CHECK(value(g6->read("/shared/a/b/c")) == "v");
    CHECK(outcome(g6->write("/shared/a/b/c", "no")) == "EACCES");
    // dom0 writing into the guest's area creates nodes the guest owns.
    CHECK(outcome(d0.write("/local/domain/5/data/from-dom0", "x")) == "OK");
    CHECK(perms_of(d0, "/local/domain/5/data/from-dom0") == "n5");
    CHECK(h.accounted(5) == *before + 4);
}

TEST_CASE("only a privileged connection changes a node's owner (EPERM); the node count moves with it") {
    GuestHarness h;
    auto g5 = h.add_guest(5);
    auto g6 = h.add_guest(6);
    REQUIRE(outcome(g5->write("data/x", "1")) == "OK");
    CHECK(outcome(g5->set_perms("data/x", {"n0"})) == "EPERM");
    CHECK(outcome(g5->set_perms("data/x", {"n6"})) == "EPERM");
    CHECK(outcome(g5->set_perms("data/x", {"b6"})) == "EPERM");
    CHECK(perms_of(h.dom0(), "/local/domain/5/data/x") == "n5");
    CHECK(outcome(g5->set_perms("data/x", {"n5", "r6"})) == "OK");
    CHECK(perms_of(h.dom0(), "/local/domain/5/data/x") == "n5,r6");
    CHECK(outcome(g6->set_perms("/local/domain/5/data/x", {"n5", "b6"})) == "EACCES");
    auto n5 = h.accounted(5);
    auto n6 = h.accounted(6);
    REQUIRE(n5);
    REQUIRE(n6);
    CHECK(outcome(h.dom0().set_perms("/local/domain/5/data/x", {"n6"})) == "OK");
    CHECK(h.accounted(5) == *n5 - 1);
    CHECK(h.accounted(6) == *n6 + 1);
    CHECK(outcome(g5->write("data/x", "2")) == "EACCES");
    CHECK(outcome(g6->write("/local/domain/5/data/x", "3")) == "OK");
}

TEST_CASE("guests may not send privileged messages: EACCES, and nothing changes") {
    GuestHarness h;
    auto g = h.add_guest(5);
    h.create(7);
    auto info = h.store_port(7);
    const std::pair<std::uint32_t, std::string> requests[] = {
        {wire::kIntroduce, "7\0" "1\0"s + std::to_string(info) + '\0'},
        {wire::kRelease, "5\0"s},
        {wire::kResume, "5\0"s},
        {wire::kSetTarget, "5\0" "0\0"s},
        {wire::kIsDomainIntroduced, "0\0"s},
        {wire::kSetFeature, "5\0" "0\0"s},
        {wire::kGetFeature, "5\0"s},
        {wire::kGetQuota, ""s},
        {wire::kGetQuota, "nodes\0"s},
        {wire::kSetQuota, "nodes\0" "1\0"s},
        {wire::kSetQuota, "5\0" "nodes\0" "100000\0"s},
        {wire::kControl, "check\0"s},
        {wire::kControl, "quota\0" "set\0" "nodes\0" "1\0"s},
    };
    for (const auto& [type, payload] : requests) {
        CAPTURE(type);
        CHECK(ask(*g, type, payload) == "EACCES");
    }
    CHECK(value(h.dom0().request_string(wire::kIsDomainIntroduced, {"7"})) == "F");
    CHECK(value(h.dom0().request_string(wire::kIsDomainIntroduced, {"5"})) == "T");
    CHECK(value(h.dom0().request_string(wire::kGetQuota, {"nodes"})) == "1000");
    CHECK(value(h.dom0().request_string(wire::kGetQuota, {"5", "nodes"})) == "1000");
    CHECK(outcome(g->write("data/still", "served")) == "OK");
}

TEST_CASE("masking: a missing node under something the guest cannot read is EACCES, not ENOENT") {
    GuestHarness h;
    auto g5 = h.add_guest(5);
    auto g6 = h.add_guest(6);
    REQUIRE(outcome(g6->write("data/secret", "s")) == "OK");
    CHECK(outcome(g5->read("data/missing")) == "ENOENT");
    CHECK(outcome(g5->read("/local/domain/6/data/missing")) == "EACCES");
    CHECK(outcome(g5->read("/local/domain/6/data/secret")) == "EACCES");
    CHECK(outcome(g5->read("/local/domain/6/missing")) == "EACCES");
    CHECK(outcome(g5->read("/tool/missing")) == "EACCES");
    CHECK(outcome(g5->read("/local/domain/5/domid")) == "OK");  // readable, not writable
    CHECK(outcome(g5->write("/local/domain/5/domid", "9")) == "EACCES");
    CHECK(outcome(g5->write("/local/domain/5/new", "x")) == "EACCES");  // home is dom0's
    CHECK(outcome(g5->write("/tool/x", "x")) == "EACCES");
    CHECK(outcome(g5->directory("/local/domain/6/data")) == "EACCES");
    CHECK(outcome(g5->rm("/local/domain/6/data/secret")) == "EACCES");
    CHECK(outcome(g5->rm("/local/domain/6/data/missing")) == "EACCES");
    CHECK(value(h.dom0().read("/local/domain/6/data/secret")) == "s");
}

TEST_CASE("SET_TARGET: the controlling domain gets its target's rights through owner and other entries") {
    GuestHarness h;
    auto target = h.add_guest(3);
    auto dm = h.add_guest(4);
    auto other = h.add_guest(5);
    auto& d0 = h.dom0();
    REQUIRE(outcome(target->write("data/t", "mine")) == "OK");
    REQUIRE(outcome(d0.write("/vm/3", "vm")) == "OK");
    REQUIRE(outcome(d0.set_perms("/vm/3", {"n0", "r3"})) == "OK");
    REQUIRE(outcome(dm->write("data/dm", "dm's")) == "OK");
    CHECK(outcome(dm->read("/local/domain/3/data/t")) == "EACCES");
    CHECK(outcome(dm->request_string(wire::kSetTarget, {"4", "3"})) == "EACCES");
    CHECK(outcome(d0.request_string(wire::kSetTarget, {"4", "9"})) == "ENOENT");
    CHECK(outcome(d0.request_string(wire::kSetTarget, {"4"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kSetTarget, {"4", "x"})) == "EINVAL");
    REQUIRE(outcome(d0.request_string(wire::kSetTarget, {"4", "3"})) == "OK");
    // The owner entry names the target: full rights, but not ownership.
    CHECK(value(dm->read("/local/domain/3/data/t")) == "mine");
    CHECK(outcome(dm->write("/local/domain/3/data/t", "dm wrote")) == "OK");
    CHECK(outcome(dm->set_perms("/local/domain/3/data/t", {"n3", "r5"})) == "OK");
    CHECK(outcome(dm->set_perms("/local/domain/3/data/t", {"n4"})) == "EPERM");
    CHECK(outcome(dm->write("/local/domain/3/data/created-by-dm", "x")) == "OK");
    CHECK(perms_of(d0, "/local/domain/3/data/created-by-dm") == "n4");
    // Another entry names the target: that entry's rights.
    CHECK(value(dm->read("/vm/3")) == "vm");
    CHECK(outcome(dm->write("/vm/3", "no")) == "EACCES");
    // Not the other way round, and nobody else.
    CHECK(outcome(target->read("/local/domain/4/data/dm")) == "EACCES");
    CHECK(value(other->read("/local/domain/3/data/t")) == "dm wrote");  // r5 was granted above
    CHECK(outcome(other->write("/local/domain/3/data/t", "x")) == "EACCES");
    // A later SET_TARGET replaces the target.
    REQUIRE(outcome(d0.request_string(wire::kSetTarget, {"4", "5"})) == "OK");
    CHECK(outcome(dm->write("/local/domain/3/data/t", "again")) == "EACCES");
    CHECK(outcome(dm->write("/local/domain/5/data/via-5", "x")) == "OK");
}

TEST_CASE("permissions naming a domain that does not exist are kept but grant nothing; an existing one's do") {
    GuestHarness h;
    auto& d0 = h.dom0();
    REQUIRE(outcome(d0.write("/a", "for 9")) == "OK");
    REQUIRE(outcome(d0.set_perms("/a", {"n0", "r9"})) == "OK");
    CHECK(perms_of(d0, "/a") == "n0,r9");
    auto g9 = h.add_guest(9);
    CHECK(outcome(g9->read("/a")) == "EACCES");
    // Created, not yet introduced: the toolstack's normal order works.
    h.create(10);
    REQUIRE(outcome(d0.write("/b", "for 10")) == "OK");
    REQUIRE(outcome(d0.set_perms("/b", {"n0", "r10"})) == "OK");
    h.make_home(10, Home::Toolstack);
    REQUIRE(outcome(h.introduce(10)) == "OK");
    auto g10 = h.attach(10);
    CHECK(value(g10->read("/b")) == "for 10");
    CHECK(outcome(g10->write("/b", "x")) == "EACCES");
}

TEST_CASE("DOMID_ANY entries match every domain; a guest without the feature cannot grant them") {
    GuestHarness h;
    auto& d0 = h.dom0();
    auto g5 = h.add_guest(5);
    auto g6 = h.add_guest(6);
    REQUIRE(outcome(d0.write("/any", "public")) == "OK");
    REQUIRE(outcome(d0.set_perms("/any", {"n0", "r32757"})) == "OK");
    CHECK(value(g5->read("/any")) == "public");
    CHECK(outcome(g5->write("/any", "x")) == "EACCES");
    REQUIRE(outcome(g5->write("data/pub", "from 5")) == "OK");
    REQUIRE(outcome(g5->set_perms("data/pub", {"n5", "r32757"})) == "OK");
    CHECK(value(g6->read("/local/domain/5/data/pub")) == "from 5");
    // Domain 7 lacks the DOMID_ANY feature.
    h.create(7);
    h.make_home(7, Home::Toolstack);
    REQUIRE(outcome(d0.request_string(wire::kSetFeature, {"7", "7"})) == "OK");
    REQUIRE(outcome(h.introduce(7)) == "OK");
    auto g7 = h.attach(7);
    REQUIRE(outcome(g7->write("data/pub", "from 7")) == "OK");
    CHECK(outcome(g7->set_perms("data/pub", {"n7", "r32757"})) == "OK");
    CHECK(outcome(g6->read("/local/domain/7/data/pub")) == "EACCES");
}

TEST_CASE("watch events go only to watchers that may read the node before or after the change") {
    GuestHarness h;
    auto g5 = h.add_guest(5);
    auto g6 = h.add_guest(6);
    auto& d0 = h.dom0();
    REQUIRE(outcome(g6->write("data/secret", "s")) == "OK");
    REQUIRE(outcome(g5->watch("/", "all")) == "OK");
    CHECK(joined(take_events(*g5)) == "/|all");
    REQUIRE(outcome(d0.write("/local/domain/6/data/secret", "changed")) == "OK");
    REQUIRE(outcome(d0.write("/tool/private", "x")) == "OK");
    CHECK(take_events(*g5).empty());
    REQUIRE(outcome(d0.write("/local/domain/5/data/mine", "x")) == "OK");
    CHECK(joined(take_events(*g5)) == "/local/domain/5/data/mine|all");
    // Made readable: the watcher hears the change that grants it, and the
    // one that takes it away again.
    REQUIRE(outcome(d0.set_perms("/local/domain/6/data/secret", {"n6", "r5"})) == "OK");
    CHECK(joined(take_events(*g5)) == "/local/domain/6/data/secret|all");
    REQUIRE(outcome(d0.set_perms("/local/domain/6/data/secret", {"n6"})) == "OK");
    CHECK(joined(take_events(*g5)) == "/local/domain/6/data/secret|all");
    REQUIRE(outcome(d0.write("/local/domain/6/data/secret", "again")) == "OK");
    CHECK(take_events(*g5).empty());
    // A watch on a path it cannot read: only the initial event.
    REQUIRE(outcome(g5->watch("/local/domain/6/data", "theirs")) == "OK");
    CHECK(joined(take_events(*g5)) == "/local/domain/6/data|theirs");
    REQUIRE(outcome(g6->write("data/more", "m")) == "OK");
    CHECK(take_events(*g5).empty());
}
