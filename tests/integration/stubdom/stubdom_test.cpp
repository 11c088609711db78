// xstored-stubdom on the fake-Xen harness: it serves dom0 and dom0less
// guests over their rings without a socket, answers Debian's
// xenstore-control, which speaks the stub domain's chunked live-update
// protocol because /tool/xenstored/domid exists, and is live-updated that
// way with guests connected and nothing lost.
#include <doctest/doctest.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "tests/integration/stubdom/stub_host.hpp"
#include "tests/support/env.hpp"
#include "tests/support/guest_harness.hpp"
#include "tests/support/protocol.hpp"
#include "tools/fakexen/domains.hpp"
#include "transport/wire.hpp"

using namespace std::chrono_literals;
using namespace xs;
using namespace xs::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Unix sockets of the system: inode -> (type, path; "" when unbound).
std::map<std::string, std::pair<std::string, std::string>> unix_sockets() {
    std::map<std::string, std::pair<std::string, std::string>> out;
    std::ifstream in("/proc/net/unix");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string slot, refs, proto, flags, type, state, inode, path;
        f >> slot >> refs >> proto >> flags >> type >> state >> inode >> path;
        out[inode] = {type, path};
    }
    return out;
}

// What the process has open that a stub domain must not: any socket but
// the fake hypervisor's event-channel doorbells (unbound or
// @xstore-fakexen/... datagram sockets: what /dev/xen/evtchn is on the
// harness), io_uring, epoll, signalfd, or a file outside the fake host.
std::vector<std::string> forbidden_fds(pid_t pid, const std::string& allowed_dir) {
    std::vector<std::string> bad;
    auto sockets = unix_sockets();
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = ::opendir(dir.c_str());
    REQUIRE(d != nullptr);
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        char buf[512];
        ssize_t n = ::readlink((dir + "/" + e->d_name).c_str(), buf, sizeof buf - 1);
        if (n <= 0) continue;
        std::string target(buf, static_cast<std::size_t>(n));
        std::string what = std::string("fd ") + e->d_name + " -> " + target;
        if (target.starts_with("socket:[")) {
            std::string inode = target.substr(8, target.size() - 9);
            auto it = sockets.find(inode);
            bool doorbell = it != sockets.end() && it->second.first == "0002" &&
                            (it->second.second.empty() || it->second.second.starts_with("@xstore-fakexen/"));
            if (!doorbell) bad.push_back(what);
        } else if (target.starts_with("anon_inode:") || target.starts_with("pipe:")) {
            bad.push_back(what);
        } else if (target != "/dev/null" && !target.starts_with(allowed_dir)) {
            bad.push_back(what);
        }
    }
    ::closedir(d);
    return bad;
}

std::string xenstore_control() {
    const char* v = std::getenv("XENSTORE_CONTROL");
    return v && *v ? v : "/usr/lib/xen-4.17/bin/xenstore-control";
}

// Debian's xenstore-control as dom0. Its stub-domain path loads the
// hypervisor libraries (the fake ones): in a sanitizer build their
// runtimes are preloaded.
CommandResult run_control(StubHost& h, std::vector<std::string> args) {
    args.insert(args.begin(), xenstore_control());
    EnvVars env = h.dom0_env();
    if (const char* pre = std::getenv("XSTORE_SANITIZER_PRELOAD"); pre && *pre) {
        env.push_back({"LD_PRELOAD", pre});
        env.push_back({"ASAN_OPTIONS", "detect_leaks=0"});
    }
    return run_command(args, env, scaled(120s));
}

std::size_t file_size(const std::string& path) {
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return static_cast<std::size_t>(st.st_size);
}

std::optional<Event> event_of(client::Client& c) { return wait_event(c, 5000ms); }

}  // namespace

TEST_CASE("the stub domain serves dom0 and dom0less guests over their rings and opens no socket") {
    StubHost h({1, 2});
    auto dom0 = h.dom0();
    CHECK(value(dom0->read("/tool/xenstored/domid")) == "0");
    // dom0less guests were connected at start; a later one is introduced.
    h.make_home(*dom0, 1);
    h.make_home(*dom0, 2);
    h.create(3);
    h.make_home(*dom0, 3);
    auto info = fakexen::domain_info(h.host(), 3);
    REQUIRE(info.has_value());
    CHECK(value(dom0->request_string(wire::kIntroduce, {"3", std::to_string(info->record.ring_gfn),
                                                        std::to_string(info->record.store_port)})) == "OK");
    REQUIRE(outcome(dom0->watch("/local/domain", "tok")) == "OK");
    REQUIRE(event_of(*dom0).has_value());  // the watch's first event
    for (DomId d : {1, 2, 3}) {
        Guest g = h.attach(d);
        INFO("guest " << d);
        CHECK(outcome(g->write("x", std::to_string(d))) == "OK");
        CHECK(value(g->read("x")) == std::to_string(d));
        auto ev = event_of(*dom0);
        REQUIRE(ev.has_value());
        CHECK(ev->path == "/local/domain/" + std::to_string(d) + "/x");
        // A guest reads only what it may.
        CHECK(outcome(g->read("/tool/xenstored/domid")) == "EACCES");
    }
    CHECK(value(dom0->request_string(wire::kIsDomainIntroduced, {"1"})) == "T");
    auto bad = forbidden_fds(h.pid(), h.test_dir());
    INFO("open: " << [&] { std::string s; for (auto& b : bad) s += b + "; "; return s; }());
    CHECK(bad.empty());
    CHECK(contains(h.log(), "serving domains 0,1,2 (poll loop)"));
}

TEST_CASE("Debian's xenstore-control live-updates the stub domain in chunks, guests connected, nothing lost") {
    StubHost h({1, 2});
    auto dom0 = h.dom0();
    h.make_home(*dom0, 1);
    h.make_home(*dom0, 2);
    Guest g1 = h.attach(1);
    Guest g2 = h.attach(2);
    REQUIRE(outcome(g1->write("data/a", "1")) == "OK");
    REQUIRE(outcome(dom0->write("/tool/demo", "before")) == "OK");
    REQUIRE(outcome(dom0->watch("/local/domain/1", "d0")) == "OK");
    REQUIRE(outcome(g2->watch("data", "g2")) == "OK");
    REQUIRE(event_of(*dom0).has_value());
    REQUIRE(event_of(*g2.client).has_value());
    // A transaction open across the update, with a change in it.
    auto tx = g1->transaction_start();
    REQUIRE(tx.has_value());
    REQUIRE(outcome(g1->write("data/in-tx", "t", *tx)) == "OK");
    pid_t pid = h.pid();

    auto r = run_control(h, {"live-update", stubdom_variant_bin()});
    INFO(r.describe());
    INFO(h.log());
    REQUIRE(r.exit_code == 0);
    CHECK(h.alive());
    CHECK(h.pid() == pid);
    std::string log = h.log();
    // The image came in -b/-d chunks, the state in memory.
    CHECK(contains(log, "image of " + std::to_string(file_size(stubdom_variant_bin())) + " bytes"));
    CHECK(contains(log, "state encoded in memory"));
    CHECK(contains(log, "(stub domain, variant) live-updated"));

    // Nothing lost: nodes, watches (both ways), the guests' connections.
    CHECK(value(dom0->read("/tool/demo")) == "before");
    CHECK(value(g1->read("data/a")) == "1");
    CHECK(value(dom0->read("/tool/xenstored/domid")) == "0");
    CHECK(outcome(g1->read("data/in-tx")) == "ENOENT");
    CHECK(value(g1->read("data/in-tx", *tx)) == "t");
    REQUIRE(outcome(g1->transaction_end(*tx, true)) == "OK");
    CHECK(value(dom0->read("/local/domain/1/data/in-tx")) == "t");
    auto committed = event_of(*dom0);
    REQUIRE(committed.has_value());
    CHECK(committed->path == "/local/domain/1/data/in-tx");
    REQUIRE(outcome(g1->write("data/b", "2")) == "OK");
    auto ev = event_of(*dom0);
    REQUIRE(ev.has_value());
    CHECK(ev->path == "/local/domain/1/data/b");
    CHECK(ev->token == "d0");
    REQUIRE(outcome(dom0->write("/local/domain/2/data/y", "3")) == "OK");
    auto ev2 = event_of(*g2.client);
    REQUIRE(ev2.has_value());
    CHECK(ev2->path == "data/y");

    // And again, back to the first image, still in chunks.
    auto again = run_control(h, {"live-update", stubdom_bin()});
    INFO(again.describe());
    REQUIRE(again.exit_code == 0);
    CHECK(value(g1->read("data/b")) == "2");
    CHECK(contains(h.log(), "(stub domain) live-updated"));
    auto bad = forbidden_fds(h.pid(), h.test_dir());
    CHECK(bad.empty());
}

TEST_CASE("the chunked protocol: the C daemon's replies, and a bad image leaves the daemon serving") {
    StubHost h({1});
    auto dom0 = h.dom0();
    auto lu = [&](client::Client& c, std::vector<std::string> args) {
        args.insert(args.begin(), "live-update");
        auto r = c.control(args);
        return r ? *r : "error " + std::string(wire::error_name(r.error().code));
    };
    // No binary path in a stub domain.
    CHECK(lu(*dom0, {"-f", "/bin/true"}) == "error EINVAL");
    CHECK(lu(*dom0, {"-s"}) == "Not in live-update session.");
    CHECK(lu(*dom0, {"-d", "2", "xx"}) == "Not in live-update session.");
    CHECK(lu(*dom0, {"-b", "0"}) == "Allocation failure.");
    CHECK(lu(*dom0, {"-b", "10"}) == "OK");
    CHECK(lu(*dom0, {"-b", "10"}) == "live-update session already active.");
    CHECK(lu(*dom0, {"-d", "4", std::string("ab\0c", 4)}) == "OK");  // chunks may hold NULs
    CHECK(lu(*dom0, {"-d", "5", "ab"}) == "Invalid kernel data.");  // fewer bytes than it says
    CHECK(lu(*dom0, {"-s"}) == "No new kernel");                    // 4 of 10 bytes
    CHECK(lu(*dom0, {"-d", "7", "0123456"}) == "Too much kernel data.");
    CHECK(lu(*dom0, {"-d", "6", "012345"}) == "OK");
    // Not a program: the platform cannot start it; the daemon serves on.
    std::string reply = lu(*dom0, {"-s"});
    CHECK(reply.starts_with("Error activating new binary.\nthe image cannot be started"));
    CHECK(lu(*dom0, {"-a"}) == "No live-update session active.");
    REQUIRE(outcome(dom0->watch("@releaseDomain", "rel")) == "OK");
    REQUIRE(event_of(*dom0).has_value());
    // Domain deaths are still noticed (VIRQ_DOM_EXC bound again).
    REQUIRE(fakexen::destroy_domain(h.host(), 1).has_value());
    auto ev = event_of(*dom0);
    REQUIRE(ev.has_value());
    CHECK(ev->path == "@releaseDomain");
    CHECK(value(dom0->read("/tool/xenstored/domid")) == "0");
    // A new session can start, and be aborted.
    CHECK(lu(*dom0, {"-b", "10"}) == "OK");
    CHECK(lu(*dom0, {"-a"}) == "OK");
}
