// When a live update fails, the old daemon says why and keeps serving
// (guests, sockets, domain deaths), and a later update succeeds. When the
// new binary cannot read the state, it stops with a message naming the
// record and its offset.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "lu_support.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs;
using namespace xs::testing;

namespace {

std::string write_file(const std::string& path, const std::string& text, bool executable) {
    std::ofstream(path) << text;
    namespace fs = std::filesystem;
    fs::permissions(path, executable ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write);
    return path;
}

// The daemon still serves everyone, still notices a domain's death, and a
// normal update works after the failed one.
void check_still_serving(GuestHarness& h, GuestConn& g) {
    CHECK(h.daemon().alive());
    CHECK(updates_logged(h.daemon()) == 0);
    CHECK(outcome(g->write("data/still", "1")) == "OK");
    auto w = h.connect();
    REQUIRE(outcome(w->watch("@releaseDomain", "rel")) == "OK");
    take_events(*w);
    h.create(40);
    REQUIRE(h.introduce(40));
    h.destroy(40);
    auto e = wait_event(*w);
    REQUIRE(e);
    CHECK(*e == Event{"@releaseDomain", "rel"});
    CHECK(value(h.dom0().request_string(wire::kIsDomainIntroduced, {"40"})) == "F");
    update_with_xenstore_control(h.daemon());
    CHECK(outcome(g->write("data/after", "1")) == "OK");
}

}  // namespace

TEST_CASE("xenstore-control reports a missing or non-executable binary; nothing changes") {
    GuestHarness h;
    auto g = h.add_guest(1);
    auto missing = xenstore_control_update(h.daemon(), h.daemon().dir().file("missing"));
    CHECK(missing.exit_code == 3);
    CHECK(missing.err.find("File not accessible.") != std::string::npos);
    std::string plain = write_file(h.daemon().dir().file("plain"), "x", false);
    auto not_exec = xenstore_control_update(h.daemon(), plain);
    CHECK(not_exec.exit_code == 3);
    CHECK(not_exec.err.find("File not executable.") != std::string::npos);
    check_still_serving(h, g);
}

TEST_CASE("a failing exec: the old daemon answers why and keeps serving") {
    GuestHarness h;
    auto g = h.add_guest(2);
    // Executable bits, but nothing the kernel can run (ENOEXEC), and a
    // directory (EACCES).
    std::string garbage = write_file(h.daemon().dir().file("garbage"), "not a program\n", true);
    auto r = xenstore_control_update(h.daemon(), garbage);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("Error activating new binary.") != std::string::npos);
    CHECK(r.err.find("garbage") != std::string::npos);
    std::string dir = h.daemon().dir().file("a-directory");
    std::filesystem::create_directory(dir);
    auto d = xenstore_control_update(h.daemon(), dir);
    CHECK(d.exit_code == 3);
    CHECK(d.err.find("Error activating new binary.") != std::string::npos);
    CHECK(!std::filesystem::exists(h.daemon().dir().file("state_dump")));
    check_still_serving(h, g);
}

TEST_CASE("a state file that cannot be written: the reply says so and the daemon goes on") {
    GuestHarness h;
    auto g = h.add_guest(3);
    // The run directory holds a directory where the state file would go.
    std::string blocker = h.daemon().dir().file("state_dump");
    std::filesystem::create_directory(blocker);
    auto r = xenstore_control_update(h.daemon(), xstored_bin());
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("Dump state open error") != std::string::npos);
    std::filesystem::remove(blocker);
    check_still_serving(h, g);
}

TEST_CASE("a new binary that cannot take over rolls back to the previous one, which answers why") {
    GuestHarness h;
    auto g = h.add_guest(4);
    REQUIRE(outcome(h.dom0().write("/rb/a", "1")) == "OK");
    auto before = dump_tree(h.dom0());
    pid_t pid = h.daemon().pid();
    // The new process refuses its command line: it execs the previous
    // binary again, which restores everything from the same state.
    auto r = xenstore_control_update(h.daemon(), xstored_bin(), {"-c", "--no-such-option"});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("Error activating new binary.") != std::string::npos);
    CHECK(r.err.find("the previous binary was restored") != std::string::npos);
    CHECK(r.err.find("no-such-option") != std::string::npos);
    CHECK(h.daemon().pid() == pid);
    CHECK(dump_tree(h.dom0()) == before);
    CHECK(h.daemon().stderr_text().find("back after a failed live update") != std::string::npos);
    CHECK(!std::filesystem::exists(h.daemon().dir().file("state_dump")));
    check_still_serving(h, g);
}

TEST_CASE("a state the new binary cannot read stops with the record and offset") {
    Daemon d;
    auto c = d.connect();
    REQUIRE(outcome(c->write("/x", "1")) == "OK");
    // The "new binary" damages the state file's first record, then starts
    // the real daemon on it. The way back reads the same file: it cannot
    // help, and the daemon stops.
    std::string wrapper = write_file(d.dir().file("damaging-update"),
                                     "#!/bin/sh\n"
                                     "printf '\\377\\377\\377\\377' | dd of=\"$XENSTORED_RUNDIR/state_dump\" bs=1 "
                                     "seek=20 conv=notrunc 2>/dev/null\n"
                                     "exec \"" + xstored_bin() + "\" \"$@\"\n",
                                     true);
    auto r = xenstore_control_update(d, wrapper);
    CHECK(r.exit_code != 0);
    CHECK(eventually([&] { return !d.alive(); }));
    std::string log = d.stderr_text();
    INFO(tail(log));
    CHECK(log.find("live update: the state file") != std::string::npos);
    CHECK(log.find("record GLOBAL_DATA at offset 16") != std::string::npos);
    CHECK(log.find("rolling back to the previous binary") != std::string::npos);
    // It is left for the operator (docs/live-update.md).
    CHECK(std::filesystem::exists(d.dir().file("state_dump")));
}
