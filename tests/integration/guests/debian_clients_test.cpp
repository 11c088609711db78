// Debian's unmodified libxenstore clients acting as a guest: they connect
// to `xstore-fakexen proxy`, whose socket leads into the guest's ring
// (docs/fakexen.md). Xen's test-xenstore runs in a home the toolstack gave
// the guest; xenstore-utils see exactly what the guest may see.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "tests/support/guest_harness.hpp"
#include "tests/support/guest_proxy.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;

namespace {

std::string test_xenstore() {
    const char* v = std::getenv("TEST_XENSTORE");
    return (v && *v) ? v : "/usr/lib/xen-4.17/bin/test-xenstore";
}

CommandResult as_guest(RingProxy& p, std::vector<std::string> argv, std::chrono::milliseconds limit = 30000ms) {
    return run_command(argv, p.client_env(), scaled(limit));
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("Xen's test-xenstore passes as an unprivileged guest through the ring proxy") {
    GuestHarness h;
    auto other = h.add_guest(52);
    REQUIRE(outcome(other->write("data/untouched", "52")) == "OK");
    h.create(51);
    h.make_home(51, Home::Guest);  // test-xenstore works right below its home
    REQUIRE(outcome(h.introduce(51)) == "OK");
    RingProxy proxy(h.host_dir(), 51);
    auto r = as_guest(proxy, {test_xenstore()}, 120000ms);
    INFO(r.describe());
    CHECK(r.exit_code == 0);
    CHECK(proxy.running());
    // It stayed inside what it may touch.
    CHECK(value(h.dom0().read("/local/domain/52/data/untouched")) == "52");
    CHECK(value(h.dom0().read("/tool/xenstored")) == "");
    // And runs again on the same connection state.
    auto again = as_guest(proxy, {test_xenstore(), "-i", "2"}, 120000ms);
    INFO(again.describe());
    CHECK(again.exit_code == 0);
}

TEST_CASE("xenstore-write, -read, -ls, -list, -exists, -rm and -chmod as a guest") {
    GuestHarness h;
    auto peer = h.add_guest(8);
    REQUIRE(outcome(peer->write("data/private", "p")) == "OK");
    h.create(7);
    h.make_home(7, Home::Toolstack);
    REQUIRE(outcome(h.introduce(7)) == "OK");
    RingProxy proxy(h.host_dir(), 7);

    auto w = as_guest(proxy, {"xenstore-write", "data/greeting", "hello", "/local/domain/7/data/abs", "a"});
    INFO(w.describe());
    CHECK(w.exit_code == 0);
    CHECK(value(h.dom0().read("/local/domain/7/data/greeting")) == "hello");
    CHECK(value(h.dom0().read("/local/domain/7/data/abs")) == "a");
    CHECK(joined(h.dom0().get_perms("/local/domain/7/data/greeting")) == "n7");

    CHECK(as_guest(proxy, {"xenstore-read", "data/greeting"}).out == "hello\n");
    auto ls = as_guest(proxy, {"xenstore-ls", "/local/domain/7"});
    INFO(ls.describe());
    CHECK(ls.exit_code == 0);
    CHECK(contains(ls.out, "greeting = \"hello\""));
    CHECK(contains(ls.out, "domid = \"7\""));
    CHECK(as_guest(proxy, {"xenstore-list", "data"}).out == "abs\ngreeting\n");
    CHECK(as_guest(proxy, {"xenstore-exists", "data/greeting"}).exit_code == 0);

    // What the guest may not do fails, and changes nothing.
    CHECK(as_guest(proxy, {"xenstore-write", "/tool/evil", "x"}).exit_code != 0);
    CHECK(outcome(h.dom0().read("/tool/evil")) == "ENOENT");
    CHECK(as_guest(proxy, {"xenstore-read", "/local/domain/8/data/private"}).exit_code != 0);
    CHECK(as_guest(proxy, {"xenstore-ls", "/local/domain/8/data"}).exit_code != 0);
    CHECK(as_guest(proxy, {"xenstore-rm", "/local/domain/8/data/private"}).exit_code != 0);
    CHECK(value(peer->read("data/private")) == "p");
    CHECK(as_guest(proxy, {"xenstore-chmod", "data/greeting", "n0"}).exit_code != 0);  // owner change
    CHECK(as_guest(proxy, {"xenstore-chmod", "data/greeting", "n7", "r8"}).exit_code == 0);
    CHECK(joined(h.dom0().get_perms("/local/domain/7/data/greeting")) == "n7,r8");
    CHECK(value(peer->read("/local/domain/7/data/greeting")) == "hello");

    CHECK(as_guest(proxy, {"xenstore-rm", "data/greeting"}).exit_code == 0);
    CHECK(as_guest(proxy, {"xenstore-exists", "data/greeting"}).exit_code != 0);
    CHECK(proxy.running());
}

TEST_CASE("xenstore-watch as a guest: its initial event, then dom0's and the guest's own changes") {
    GuestHarness h;
    h.create(7);
    h.make_home(7, Home::Toolstack);
    REQUIRE(outcome(h.introduce(7)) == "OK");
    RingProxy proxy(h.host_dir(), 7);
    Process watch = Process::spawn(SpawnOptions{{"xenstore-watch", "-n", "3", "data/w"}, proxy.client_env(),
                                                Redirect::pipe(), Redirect::pipe(), 0, {}});
    auto first = watch.read_line(scaled(10000ms));
    REQUIRE(first);
    CHECK(*first == "data/w");  // relative, as given
    REQUIRE(outcome(h.dom0().write("/local/domain/7/data/w/by-dom0", "1")) == "OK");
    auto second = watch.read_line(scaled(10000ms));
    CHECK(second.value_or("<none>") == "data/w/by-dom0");
    // Another client of the same guest, multiplexed over the same ring.
    auto w = as_guest(proxy, {"xenstore-write", "data/w/by-guest", "2"});
    CHECK(w.exit_code == 0);
    auto third = watch.read_line(scaled(10000ms));
    CHECK(third.value_or("<none>") == "data/w/by-guest");
    CHECK(watch.wait_exit(scaled(10000ms)));
    CHECK(watch.exit_code() == 0);
    // The proxy removes the watch once its client is gone.
    CHECK(eventually([&] { return h.accounted(7, "watches").value_or(99) == 0u; }));
}
