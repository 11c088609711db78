// Domain management and the special watches (cxenstored.md §4.3, §5):
// INTRODUCE and @introduceDomain, death through VIRQ_DOM_EXC (gone, dying,
// or a reused domid with a new unique id) with @releaseDomain exactly once
// and everything the domain owned removed, shutdown and RESUME, RELEASE,
// -K, destruction in the middle of a transaction, domid reuse, and dom0's
// own ring.
#include <doctest/doctest.h>


#include <string>

#include "tests/integration/guests/domain_events.hpp"
#include "tests/integration/guests/frozen_daemon.hpp"
#include "tests/integration/guests/dom0_requests.hpp"
#include "tests/support/guest_harness.hpp"
#include "tests/support/tree_count.hpp"
#include "tools/fakexen/domains.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;
using guests::introduced;
using guests::set_quota;
namespace wire = xs::wire;
namespace fx = xs::fakexen;

namespace {

std::string perms_of(xs::client::Client& c, const std::string& path) { return joined(c.get_perms(path)); }


}  // namespace

TEST_CASE("INTRODUCE fires @introduceDomain for dom0; a guest needs read permission on it to hear it") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto g1 = h.add_guest(1);
    REQUIRE(events.wait_introduce(1));
    CHECK(events.plain_introduces() >= 1);
    REQUIRE(outcome(g1->watch("@introduceDomain", "plain")) == "OK");
    REQUIRE(outcome(g1->watch("@introduceDomain", "depth", 1)) == "OK");
    CHECK(joined(take_events(*g1)) == "@introduceDomain|plain;@introduceDomain|depth");  // initial events only
    auto g2 = h.add_guest(2);
    REQUIRE(events.wait_introduce(2));
    CHECK(take_events(*g1).empty());
    CHECK(outcome(g1->get_perms("@introduceDomain")) == "EACCES");
    // Granted read access, it hears the next one.
    REQUIRE(outcome(h.dom0().set_perms("@introduceDomain", {"n0", "r1"})) == "OK");
    (void)take_events(*g1);  // SET_PERMS on the node may itself fire
    auto g3 = h.add_guest(3);
    REQUIRE(events.wait_introduce(3));
    CHECK(joined(sorted(take_events(*g1))) == "@introduceDomain|plain;@introduceDomain/3|depth");
    CHECK(perms_of(*g1, "@introduceDomain") == "n0,r1");
}

TEST_CASE("@releaseDomain is readable by every domain: a guest may watch it") {
    GuestHarness h;
    auto g1 = h.add_guest(1);
    auto g2 = h.add_guest(2);
    CHECK(perms_of(*g1, "@releaseDomain") == "n0,r32757");
    REQUIRE(outcome(g1->watch("@releaseDomain", "rel", 1)) == "OK");
    REQUIRE(wait_event(*g1));
    g2.reset();
    h.destroy(2);
    auto e = wait_event(*g1);
    REQUIRE(e);
    CHECK(e->path == "@releaseDomain/2");
    CHECK(e->token == "rel");
}

TEST_CASE("death: @releaseDomain once; the domain's nodes, watches and permission entries go") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto g2 = h.add_guest(2);
    auto g3 = h.add_guest(3);
    auto& d0 = h.dom0();
    REQUIRE(outcome(g2->write("data/x", "1")) == "OK");
    REQUIRE(outcome(g2->write("data/y/z", "2")) == "OK");
    REQUIRE(outcome(g2->watch("data", "mine")) == "OK");
    REQUIRE(outcome(d0.write("/shared", "s")) == "OK");
    REQUIRE(outcome(d0.set_perms("/shared", {"n0", "r2", "b3"})) == "OK");
    auto watcher = h.connect();
    REQUIRE(outcome(watcher->watch("/local/domain/2/data/x", "x")) == "OK");
    (void)take_events(*watcher);
    CHECK(h.accounted(2) == 4u);  // data, x, y, y/z
    CHECK(h.accounted(2, "watches") == 1u);

    g2.reset();
    h.destroy(2);
    REQUIRE(events.wait_release(2));
    events.barrier();
    CHECK(events.releases(2) == 1);
    CHECK(events.plain_releases() >= 1);
    CHECK(introduced(h, 2) == "F");
    CHECK(outcome(d0.read("/local/domain/2/data")) == "ENOENT");
    CHECK(outcome(d0.read("/local/domain/2")) == "OK");  // dom0's node stays
    CHECK(perms_of(d0, "/shared") == "n0,b3");
    CHECK(joined(take_events(*watcher)) == "/local/domain/2/data/x|x");
    auto left = h.accounted(2);
    CHECK((!left || *left == 0));
    CHECK(outcome(g3->read("/shared")) == "OK");
}

TEST_CASE("a domain stopped at dying is dead; finishing its destruction fires nothing more") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto g = h.add_guest(2);
    REQUIRE(outcome(g->write("data/x", "1")) == "OK");
    g.reset();
    h.destroy(2, true);
    REQUIRE(events.wait_release(2));
    CHECK(introduced(h, 2) == "F");
    CHECK(outcome(h.dom0().read("/local/domain/2/data/x")) == "ENOENT");
    h.destroy(2);
    events.barrier();
    CHECK(events.releases(2) == 1);
}

TEST_CASE("shutdown: @releaseDomain/<id> once per shutdown until RESUME re-arms it") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto g = h.add_guest(2);
    auto reason = fx::shutdown_reason_from_name("poweroff");
    REQUIRE(reason);
    h.shutdown(2, *reason);
    REQUIRE(events.wait_release(2));
    CHECK(eventually([&] {
        events.poll();
        return events.plain_releases() >= 1;
    }));
    CHECK(introduced(h, 2) == "T");  // shut down is not dead
    CHECK(outcome(g->write("data/still", "here")) == "OK");
    events.barrier();  // another pass over the domains
    CHECK(events.releases(2) == 1);
    // RESUME, the domain runs again and shuts down again.
    CHECK(outcome(g->request_string(wire::kResume, {"2"})) == "EACCES");
    CHECK(outcome(h.dom0().request_string(wire::kResume, {"2"})) == "OK");
    CHECK(outcome(h.dom0().request_string(wire::kResume, {"44"})) == "ENOENT");
    CHECK(outcome(h.dom0().request_string(wire::kResume, {"0"})) == "EINVAL");
    {
        auto lock = h.host().lock();
        h.host().domain(2).state = fx::DomainState::kRunning;
    }
    h.shutdown(2, *reason);
    CHECK(eventually([&] {
        events.poll();
        return events.releases(2) == 2;
    }));
    // Then it dies for real: one more.
    g.reset();
    h.destroy(2);
    CHECK(eventually([&] {
        events.poll();
        return events.releases(2) == 3;
    }));
    events.barrier();
    CHECK(events.releases(2) == 3);
}

TEST_CASE("RELEASE: the connection, nodes and watches go, @releaseDomain fires, the domain can be introduced again") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto g = h.add_guest(2);
    auto other = h.add_guest(3);
    auto& d0 = h.dom0();
    REQUIRE(outcome(g->write("data/x", "1")) == "OK");
    REQUIRE(outcome(g->watch("data", "w")) == "OK");
    CHECK(outcome(other->request_string(wire::kRelease, {"2"})) == "EACCES");
    CHECK(outcome(d0.request_string(wire::kRelease, {"0"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kRelease, {"x"})) == "EINVAL");
    CHECK(outcome(d0.request_string(wire::kRelease, {"2"})) == "OK");
    REQUIRE(events.wait_release(2));
    CHECK(introduced(h, 2) == "F");
    CHECK(outcome(d0.read("/local/domain/2/data/x")) == "ENOENT");
    CHECK(outcome(d0.request_string(wire::kRelease, {"2"})) == "ENOENT");
    CHECK(h.accounted(2, "watches").value_or(0) == 0u);
    // The toolstack brings it back (its kernel starts the ring over).
    h.make_home(2, Home::Toolstack);
    REQUIRE(outcome(h.introduce(2)) == "OK");
    REQUIRE(events.wait_introduce(2));
    g.client = std::make_unique<xs::client::Client>(fx::ring_channel(g.ring));
    g->timeout = scaled(10000ms);
    CHECK(outcome(g->write("data/back", "1")) == "OK");
    CHECK(introduced(h, 2) == "T");
    g.reset();
    h.destroy(2);
    CHECK(eventually([&] {
        events.poll();
        return events.releases(2) == 2;
    }));
}

TEST_CASE("-K: a dead domain's nodes stay, owned by dom0") {
    GuestHarness h(DaemonOptions::with_args({"-K"}));
    guests::DomainEvents events(h);
    auto g = h.add_guest(2);
    REQUIRE(outcome(g->write("data/x", "kept")) == "OK");
    g.reset();
    h.destroy(2);
    REQUIRE(events.wait_release(2));
    CHECK(value(h.dom0().read("/local/domain/2/data/x")) == "kept");
    auto perms = h.dom0().get_perms("/local/domain/2/data/x");
    REQUIRE(perms.has_value());
    REQUIRE(!perms->empty());
    CHECK(perm_domid((*perms)[0]) == 0);
}

TEST_CASE("destroyed in the middle of a transaction: nothing of it is committed") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto& d0 = h.dom0();
    REQUIRE(outcome(d0.write("/shared/v", "orig")) == "OK");
    // Writable by any domain (so its permissions do not change when 2 dies).
    REQUIRE(outcome(d0.set_perms("/shared/v", {"n0", "b32757"})) == "OK");
    auto watcher = h.connect();
    REQUIRE(outcome(watcher->watch("/shared", "s")) == "OK");
    (void)take_events(*watcher);
    auto g = h.add_guest(2);
    auto tx = g->transaction_start();
    REQUIRE(tx.has_value());
    REQUIRE(outcome(g->write("/shared/v", "from the transaction", *tx)) == "OK");
    REQUIRE(outcome(g->write("data/t1", "1", *tx)) == "OK");
    REQUIRE(outcome(g->write("data/t2/t3", "1", *tx)) == "OK");
    g.reset();
    h.destroy(2);
    REQUIRE(events.wait_release(2));
    CHECK(value(d0.read("/shared/v")) == "orig");
    CHECK(take_events(*watcher).empty());
    // A new domain 2 cannot use the old transaction.
    auto again = h.add_guest(2);
    CHECK(outcome(again->transaction_end(*tx, true)) == "ENOENT");
    CHECK(outcome(again->read("data/t1")) == "ENOENT");
    CHECK(h.accounted(2, "transactions") == 0u);
}

TEST_CASE("domid reuse: the new domain starts clean (nodes, watches, quotas, permissions)") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto& d0 = h.dom0();
    auto old = h.add_guest(7);
    REQUIRE(outcome(d0.write("/vm/shared", "secret")) == "OK");
    REQUIRE(outcome(d0.set_perms("/vm/shared", {"n0", "b7"})) == "OK");
    REQUIRE(outcome(d0.request_string(wire::kSetQuota, {"7", "nodes", "5"})) == "OK");
    REQUIRE(outcome(old->read("/vm/shared")) == "OK");
    REQUIRE(outcome(old->write("data/a", "1")) == "OK");
    REQUIRE(outcome(old->watch("/vm/shared", "w")) == "OK");
    REQUIRE(old->transaction_start().has_value());
    old.reset();
    h.destroy(7);
    REQUIRE(events.wait_release(7));
    auto fresh = h.add_guest(7);
    CHECK(value(d0.request_string(wire::kGetQuota, {"7", "nodes"})) == "1000");
    CHECK(h.accounted(7) == 1u);  // its new data node
    CHECK(h.accounted(7, "watches") == 0u);
    CHECK(h.accounted(7, "transactions") == 0u);
    CHECK(outcome(fresh->read("/vm/shared")) == "EACCES");
    CHECK(outcome(fresh->write("/vm/shared", "x")) == "EACCES");
    CHECK(outcome(fresh->read("data/a")) == "ENOENT");
    CHECK(perms_of(d0, "/vm/shared") == "n0");
}

TEST_CASE("a domid reused behind the daemon's back (new unique id) counts as a death") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto old = h.add_guest(7);
    REQUIRE(outcome(old->write("data/a", "old")) == "OK");
    old.reset();
    {
        guests::FrozenDaemon frozen(h);
        h.destroy(7);
        h.create(7);  // the same domid, running again, with a new unique id
    }
    REQUIRE(events.wait_release(7));
    CHECK(introduced(h, 7) == "F");
    CHECK(outcome(h.dom0().read("/local/domain/7/data/a")) == "ENOENT");
    h.make_home(7, Home::Toolstack);
    REQUIRE(outcome(h.introduce(7)) == "OK");
    auto fresh = h.attach(7);
    CHECK(outcome(fresh->write("data/b", "new")) == "OK");
    CHECK(h.accounted(7) == 2u);
}

TEST_CASE("two domains dying in one pass each get their @releaseDomain") {
    GuestHarness h;
    guests::DomainEvents events(h);
    auto g2 = h.add_guest(2);
    auto g3 = h.add_guest(3);
    REQUIRE(outcome(g2->write("data/x", "1")) == "OK");
    REQUIRE(outcome(g3->write("data/x", "1")) == "OK");
    g2.reset();
    g3.reset();
    {
        guests::FrozenDaemon frozen(h);
        h.destroy(2);
        h.destroy(3);
    }
    REQUIRE(events.wait_release(2));
    REQUIRE(events.wait_release(3));
    events.barrier();
    CHECK(events.releases(2) == 1);
    CHECK(events.releases(3) == 1);
    CHECK(introduced(h, 2) == "F");
    CHECK(introduced(h, 3) == "F");
}

TEST_CASE("dom0's own ring (xsd_kva and xsd_port) is a privileged connection") {
    GuestHarness h;
    auto ring0 = h.attach(0);
    CHECK(outcome(ring0->write("/tool/through-the-ring", "1")) == "OK");
    CHECK(outcome(ring0->write("data/relative", "2")) == "OK");
    CHECK(value(h.dom0().read("/local/domain/0/data/relative")) == "2");
    CHECK(value(ring0->request_string(wire::kIsDomainIntroduced, {"0"})) == "T");
    h.create(5);
    auto info = fx::domain_info(h.host(), 5);
    REQUIRE(info.has_value());
    CHECK(outcome(ring0->request_string(wire::kIntroduce, {"5", std::to_string(info->record.ring_gfn),
                                                           std::to_string(info->record.store_port)})) == "OK");
    CHECK(introduced(h, 5) == "T");
    CHECK(value(ring0->control({"check"})) == "OK");
}

TEST_CASE("GET_DOMAIN_PATH is open to guests; IS_DOMAIN_INTRODUCED is not") {
    GuestHarness h;
    auto g = h.add_guest(5);
    CHECK(value(g->request_string(wire::kGetDomainPath, {"5"})) == "/local/domain/5");
    CHECK(value(g->request_string(wire::kGetDomainPath, {"9"})) == "/local/domain/9");
    CHECK(outcome(g->request_string(wire::kGetDomainPath, {"abc"})) == "EINVAL");
    CHECK(outcome(g->request_string(wire::kIsDomainIntroduced, {"5"})) == "EACCES");
    h.create(6);
    CHECK(introduced(h, 6) == "F");
    REQUIRE(outcome(h.introduce(6)) == "OK");
    CHECK(introduced(h, 6) == "T");
}
