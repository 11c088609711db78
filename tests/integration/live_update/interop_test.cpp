// Moving a host between Xen's C xenstored 4.17 and xstored by live update,
// both directions, on the fake-Xen harness: Debian's C daemon runs in the
// harness's namespace (`xstore-fakexen exec`, where dom0's ring is at
// /proc/xen), so the daemon it execs finds everything where it expects it.
// Socket clients and guests keep working through the update, watches fire
// afterwards, dom0's own ring is served, permissions of every kind cross.
// What cannot cross into the C daemon (open transactions, watch depths,
// SET_QUOTA values, features) behaves as docs/live-update.md says.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "lu_load.hpp"
#include "tools/fakexen/domains.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs;
using namespace xs::testing;

namespace {

std::string c_daemon() {
    const char* v = std::getenv("XENSTORED_C");
    return v && *v ? v : "/usr/lib/xen-4.17/bin/xenstored";
}

// The harness needs a private mount namespace (root, or unprivileged user
// namespaces) and Debian's daemon; without them the cases are skipped.
bool can_run_c_daemon() {
    static int ok = -1;
    if (ok < 0) {
        TempDir dir("xstored-probe");
        auto host = fakexen::init_host(dir.file("host"));
        REQUIRE(host);
        auto r = run_command({fakexen_cli(), "exec", "--", "true"}, {{fakexen::kEnvHost, dir.file("host")}},
                             scaled(10s));
        ok = r.exit_code == 0 && ::access(c_daemon().c_str(), X_OK) == 0;
        if (!ok) MESSAGE("SKIPPED: no private mount namespace or no " << c_daemon() << ": " << r.describe());
    }
    return ok == 1;
}

DaemonOptions in_namespace(std::string program, std::vector<std::string> args = {}) {
    DaemonOptions o;
    o.launcher = {fakexen_cli(), "exec", "--"};
    o.program = std::move(program);
    o.args = std::move(args);
    return o;
}

// xstored's command line inside the namespace: the socket comes from
// XENSTORED_PATH, dom0's ring from /proc/xen.
std::string xstored_cmdline(const std::string& extra = {}) {
    std::string line = "-N";
    if (!xstored_loop().empty()) line += " --event-loop=" + xstored_loop();
    return extra.empty() ? line : line + " " + extra;
}

// Nodes with permission lists of every kind a toolstack makes.
void write_permission_zoo(Client& c) {
    REQUIRE(outcome(c.write("/zoo/owner-only", "a")) == "OK");
    REQUIRE(outcome(c.write("/zoo/readers", "b")) == "OK");
    REQUIRE(outcome(c.set_perms("/zoo/readers", {"n0", "r1", "r2"})) == "OK");
    REQUIRE(outcome(c.write("/zoo/writer", "c")) == "OK");
    REQUIRE(outcome(c.set_perms("/zoo/writer", {"n0", "w1"})) == "OK");
    REQUIRE(outcome(c.write("/zoo/both", "d")) == "OK");
    REQUIRE(outcome(c.set_perms("/zoo/both", {"n0", "b2", "r3"})) == "OK");
    REQUIRE(outcome(c.write("/zoo/guest-owned", "e")) == "OK");
    REQUIRE(outcome(c.set_perms("/zoo/guest-owned", {"n1", "r0"})) == "OK");
    REQUIRE(outcome(c.write("/zoo/open", "f")) == "OK");
    REQUIRE(outcome(c.set_perms("/zoo/open", {"r2"})) == "OK");  // owner 2, everyone reads
    REQUIRE(outcome(c.write("/zoo/binary", "\x01\0\xff"s)) == "OK");
}

// A dom0 socket watcher and a guest watcher, checked after an update.
struct PlainWatchers {
    std::unique_ptr<Client> sock;
    GuestConn& guest;
    PlainWatchers(GuestHarness& h, GuestConn& g) : sock(h.connect()), guest(g) {
        REQUIRE(outcome(sock->watch("/w", "sock")) == "OK");
        REQUIRE(outcome(guest->watch("data/w", "guest")) == "OK");
        take_events(*sock);
        REQUIRE(wait_event(*guest));
    }
    void check(GuestHarness& h, const std::string& name) {
        REQUIRE(outcome(h.dom0().write("/w/" + name, "")) == "OK");
        REQUIRE(outcome(h.dom0().write("/local/domain/" + std::to_string(guest.domid) + "/data/w/" + name, "")) ==
                "OK");
        CHECK(take_events(*sock) == std::vector<Event>{{"/w/" + name, "sock"}});
        auto e = wait_event(*guest);
        REQUIRE(e);
        CHECK(*e == Event{"data/w/" + name, "guest"});
    }
};

void check_dom0_ring(GuestHarness& h, const std::string& key) {
    GuestConn dom0 = h.attach(0);
    CHECK(outcome(dom0->write("/dom0ring/" + key, "1")) == "OK");
    CHECK(value(h.dom0().read("/dom0ring/" + key)) == "1");
}

}  // namespace

TEST_CASE("C xenstored 4.17 to xstored: everyone stays connected and served") {
    if (!can_run_c_daemon()) return;
    GuestHarness h(in_namespace(c_daemon(), {"-E", "900"}));
    Load load(h, 4, 4);
    GuestConn watcher = h.add_guest(20);
    PlainWatchers w(h, watcher);
    write_permission_zoo(h.dom0());
    check_dom0_ring(h, "before");
    auto before = dump_tree(h.dom0());
    load.start();
    load.progress(2);
    // Without -c xstored gets the C daemon's own command line ("-N -E 900").
    update_with_xenstore_control(h.daemon(), xstored_bin());
    load.progress(2);
    load.stop();
    check_load(load);
    CHECK(exe_of(h.daemon().pid()) == std::filesystem::canonical(xstored_bin()).string());
    CHECK(h.daemon().stderr_text().find("live-updated") != std::string::npos);
    auto after = dump_tree(h.dom0());
    // (4.17 shows no permissions of the special nodes.)
    for (auto& [path, v] : before)
        if (!path.starts_with("/load") && !path.starts_with("/local/domain") && !path.starts_with("@"))
            CHECK(after[path] == v);
    w.check(h, "after");
    check_dom0_ring(h, "after");
    CHECK(value(h.dom0().request_string(wire::kGetQuota, {"nodes"})) == "900");
    CHECK(value(h.dom0().request_string(wire::kIsDomainIntroduced, {"3"})) == "T");
}

TEST_CASE("xstored to C xenstored 4.17 and back") {
    if (!can_run_c_daemon()) return;
    GuestHarness h(in_namespace({}));
    Load load(h, 4, 4);
    GuestConn watcher = h.add_guest(20);
    PlainWatchers w(h, watcher);
    write_permission_zoo(h.dom0());
    REQUIRE(outcome(h.dom0().request_string(wire::kSetQuota, {"1", "watches", "7"})) == "OK");
    auto tx_client = h.connect();
    auto tx = tx_client->transaction_start();
    REQUIRE(tx);
    auto before = dump_tree(h.dom0());
    load.start();
    load.progress(2);
    // Xen 4.17's xenstore-control never sends -v: the daemon is told first.
    CHECK(value(h.dom0().control({"live-update-stream", "1"})) == "OK");
    // The C daemon's rules for the open transaction: -F after -t.
    update_with_xenstore_control(h.daemon(), c_daemon(), {"-c", "-N", "-F", "-t", "1"}, false);
    load.progress(2);
    CHECK(exe_of(h.daemon().pid()) == c_daemon());
    auto under_c = dump_tree(h.dom0());
    // (4.17 shows no permissions of the special nodes.)
    for (auto& [path, v] : before)
        if (!path.starts_with("/load") && !path.starts_with("/local/domain") && !path.starts_with("@"))
            CHECK(under_c[path] == v);
    w.check(h, "under-c");
    check_dom0_ring(h, "under-c");
    // What does not cross into 4.17: the transaction (dropped), SET_QUOTA
    // (4.17 has none).
    CHECK(outcome(tx_client->read("/zoo/owner-only", *tx)) == "ENOENT");
    CHECK(outcome(h.dom0().request_string(wire::kGetQuota, {"1", "watches"})) == "ENOSYS");
    // And back, still under load.
    update_with_xenstore_control(h.daemon(), xstored_bin(), {"-c", xstored_cmdline()});
    load.progress(2);
    load.stop();
    check_load(load);
    CHECK(exe_of(h.daemon().pid()) == std::filesystem::canonical(xstored_bin()).string());
    w.check(h, "back");
    check_dom0_ring(h, "back");
    CHECK(value(h.dom0().request_string(wire::kGetQuota, {"1", "watches"})) == "128");  // the override was lost in 4.17
}
