// Debian's reference daemons (C xenstored and oxenstored, Xen 4.17) running
// unchanged on the fake libraries: guests introduced over the socket, served
// through their rings by the proxy (for xenstore-utils) and by the guest
// library, and released when the fake hypervisor destroys them.
#include <doctest/doctest.h>

#include <fstream>
#include <memory>

#include "harness.hpp"
#include "tools/client/xs_client.hpp"
#include "tools/fakexen/guest.hpp"

using namespace fakexen_it;
using xs::client::Client;
using xs::fakexen::Guest;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

enum class Daemon { kC, kOcaml };

// A fake host with one reference daemon serving dom0 on it.
class RefHost {
public:
    explicit RefHost(Daemon kind) : kind_(kind) {
        dir_ = tmp_.path + "/host";
        run_ = tmp_.path + "/run";
        std::filesystem::create_directories(run_);
        socket_ = run_ + "/socket";
    }

    const std::string& dir() const { return dir_; }
    const std::string& socket() const { return socket_; }

    enum class Start { kUp, kCannot, kFailed };

    // Start the daemon. kCannot (with `why`) when this environment cannot
    // run it at all: the binary is missing, or we may not create the private
    // mount namespace (neither root nor unprivileged user namespaces).
    // kFailed when it should have worked.
    Start start(std::string& why) {
        std::string prog = kind_ == Daemon::kC ? cxenstored() : oxenstored();
        if (!executable(prog)) {
            why = prog + " is not installed";
            return Start::kCannot;
        }
        if (fx({"init"}).status != 0) {
            why = "xstore-fakexen init failed";
            return Start::kFailed;
        }
        std::string log = tmp_.path + "/daemon.log";
        daemon_ = std::make_unique<Background>(daemon_argv(prog), Env{{"XENSTORED_RUNDIR", run_}}, log);
        if (wait_socket(socket_, *daemon_)) return Start::kUp;
        why = read_file(log);
        return contains(why, "cannot set up the private /proc") ? Start::kCannot : Start::kFailed;
    }

    // Start the daemon for a test case: false when the test must end here
    // (skipped with a message, or failed).
    bool started() {
        std::string why;
        Start s = start(why);
        std::string name = kind_ == Daemon::kC ? "xenstored" : "oxenstored";
        if (s == Start::kCannot) MESSAGE("SKIPPED: cannot run Debian's " << name << " here: " << why);
        if (s == Start::kFailed) FAIL_CHECK("Debian's " << name << " did not come up: " << why);
        return s == Start::kUp;
    }

    // Run the CLI on this host.
    Output fx(Argv args) {
        Argv argv{cli(), "--host", dir_};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv);
    }

    std::unique_ptr<Background> proxy(int domid, const std::string& path) {
        auto p = std::make_unique<Background>(
            Argv{cli(), "--host", dir_, "proxy", std::to_string(domid), "--listen", path}, Env{},
            tmp_.path + "/proxy" + std::to_string(domid) + ".log");
        return wait_socket(path, *p) ? std::move(p) : nullptr;
    }

    std::unique_ptr<Client> dom0() {
        std::string err;
        auto ch = xs::client::connect_unix(socket_, err);
        return ch ? std::make_unique<Client>(std::move(ch)) : nullptr;
    }

    std::string path(const std::string& name) const { return tmp_.path + "/" + name; }

private:
    Argv daemon_argv(const std::string& prog) {
        if (kind_ == Daemon::kC) return {cli(), "--host", dir_, "exec", "--", prog, "-N"};
        // oxenstored reads its dom0 ring and port from its configuration.
        std::string conf = tmp_.path + "/oxenstored.conf";
        std::ofstream(conf) << "xenstored-kva = " << dir_ << "/xsd_kva\n"
                            << "xenstored-port = " << dir_ << "/xsd_port\n"
                            << "pid-file = " << run_ << "/xenstored.pid\n"
                            << "xenstored-log-file = " << tmp_.path << "/oxenstored.log\n"
                            << "access-log-file = " << tmp_.path << "/access.log\n"
                            << "persistent = false\n";
        return {cli(), "--host", dir_, "exec", "--rundir", run_, "--", prog, "--no-fork",
                "--config-file", conf};
    }

    Daemon kind_;
    TempDir tmp_;
    std::string dir_, run_, socket_;
    std::unique_ptr<Background> daemon_;
};

// Watch @releaseDomain as dom0 and swallow the event every new watch gets.
std::unique_ptr<Client> release_watcher(RefHost& h) {
    auto c = h.dom0();
    if (!c || !c->watch("@releaseDomain", "rel")) return nullptr;
    auto first = c->next_event(kPatience);
    return first ? std::move(c) : nullptr;
}

// A guest introduced as a toolstack would, then attached in-process.
std::shared_ptr<Guest> introduced_guest(RefHost& h, int domid) {
    if (h.fx({"create", std::to_string(domid)}).status != 0) return nullptr;
    if (h.fx({"introduce", std::to_string(domid), "--home", "--socket", h.socket()}).status != 0)
        return nullptr;
    auto g = Guest::attach(h.dir(), static_cast<xs::DomId>(domid));
    return g ? *g : nullptr;
}

}  // namespace

TEST_CASE("C xenstored: xenstore-utils act as a guest through the proxy") {
    RefHost h(Daemon::kC);
    if (!h.started()) return;
    REQUIRE(h.fx({"create", "7"}).status == 0);
    REQUIRE(h.fx({"introduce", "7", "--home", "--socket", h.socket()}).status == 0);
    std::string g7 = h.path("guest7.sock");
    auto proxy = h.proxy(7, g7);
    REQUIRE(proxy);
    Env as7{{"XENSTORED_PATH", g7}};

    CHECK(run({"xenstore-write", "data/x", "hello"}, as7).status == 0);
    CHECK(run({"xenstore-read", "data/x"}, as7).text == "hello\n");
    CHECK(contains(run({"xenstore-ls", "/local/domain/7"}, as7).text, "x = \"hello\""));
    CHECK(run({"xenstore-write", "/local/domain/0/evil", "1"}, as7).status != 0);
    auto dom0 = h.dom0();
    REQUIRE(dom0);
    auto perms = dom0->get_perms("/local/domain/7/data/x");
    REQUIRE(perms.has_value());
    CHECK(perms->at(0) == "n7");  // created by the guest, so owned by it

    SUBCASE("a watching client and a writing client share the guest's ring") {
        std::string log = h.path("watch.log");
        Background watch({"xenstore-watch", "-n", "2", "data"}, as7, log);
        REQUIRE(eventually([&] { return contains(read_file(log), "data\n"); }));  // initial event
        CHECK(run({"xenstore-write", "data/y", "1"}, as7).status == 0);
        REQUIRE(eventually([&] { return !watch.running(); }));
        CHECK(contains(read_file(log), "data/y"));
    }

    SUBCASE("destroying the guest fires @releaseDomain and frees its nodes") {
        auto watcher = release_watcher(h);
        REQUIRE(watcher);
        REQUIRE(h.fx({"destroy", "7"}).status == 0);
        auto ev = watcher->next_event(kPatience);
        REQUIRE(ev.has_value());
        CHECK(ev->strings().at(0) == "@releaseDomain");
        CHECK(dom0->request_string(xs::wire::kIsDomainIntroduced, {"7"}).value() == "F");
        CHECK(dom0->read("/local/domain/7/data/x").error().code == ENOENT);

        // The domid is reused by a new domain, which the daemon serves anew.
        auto again = introduced_guest(h, 7);
        REQUIRE(again);
        Client c(xs::fakexen::ring_channel(again));
        CHECK(c.write("data/z", "new").has_value());
        CHECK(dom0->read("/local/domain/7/data/z").value() == "new");
    }
}

TEST_CASE("C xenstored: test-xenstore runs as a guest through the proxy") {
    RefHost h(Daemon::kC);
    if (!h.started()) return;
    std::string prog = env_or("XENSTORE_TEST_PROGRAM", "/usr/lib/xen-4.17/bin/test-xenstore");
    if (!executable(prog)) {
        MESSAGE("SKIPPED: " << prog << " is not installed");
        return;
    }
    REQUIRE(h.fx({"create", "3"}).status == 0);
    REQUIRE(h.fx({"introduce", "3", "--guest-home", "--socket", h.socket()}).status == 0);
    std::string g3 = h.path("guest3.sock");
    auto proxy = h.proxy(3, g3);
    REQUIRE(proxy);
    Output out = run({prog}, Env{{"XENSTORED_PATH", g3}});
    INFO(out.text);
    CHECK(out.status == 0);
    CHECK(contains(out.text, "ta err"));  // it got to its last test
}

TEST_CASE("C xenstored: the guest library's ring channel, and a hostile guest") {
    RefHost h(Daemon::kC);
    if (!h.started()) return;
    auto good = introduced_guest(h, 8);
    auto bad = introduced_guest(h, 9);
    REQUIRE(good);
    REQUIRE(bad);
    Client c(xs::fakexen::ring_channel(good));
    for (int i = 0; i < 200; ++i) {
        std::string value(2000, static_cast<char>('a' + i % 26));
        std::string key = "data/k" + std::to_string(i % 10);
        REQUIRE(c.write(key, value).has_value());
        REQUIRE(c.read(key).value() == value);
    }
    CHECK(good->page().req_prod > 400000u);  // the ring wrapped hundreds of times

    // Indices more than a ring apart: the daemon stops talking to that guest
    // and says why in the error field; other guests are unaffected.
    bad->page().req_prod = bad->page().req_cons + 5000;
    REQUIRE(bad->notify().has_value());
    CHECK(eventually([&] {
        return __atomic_load_n(&bad->page().error, __ATOMIC_ACQUIRE) == xs::ring::kErrorRingIdx;
    }));
    CHECK(c.read("data/k3").has_value());
}

TEST_CASE("oxenstored: proxy, guest library, reconnection and @releaseDomain") {
    RefHost h(Daemon::kOcaml);
    if (!h.started()) return;
    REQUIRE(h.fx({"create", "5"}).status == 0);
    REQUIRE(h.fx({"introduce", "5", "--home", "--socket", h.socket()}).status == 0);
    std::string g5 = h.path("guest5.sock");
    auto proxy = h.proxy(5, g5);
    REQUIRE(proxy);
    Env as5{{"XENSTORED_PATH", g5}};
    CHECK(run({"xenstore-write", "data/y", "42"}, as5).status == 0);
    CHECK(run({"xenstore-read", "data/y"}, as5).text == "42\n");

    auto g = introduced_guest(h, 6);
    REQUIRE(g);
    Client c(xs::fakexen::ring_channel(g));
    REQUIRE(c.write("data/a", "1").has_value());
    // oxenstored offers the reconnection feature: the handshake resets the ring.
    CHECK((g->page().server_features & xs::ring::kFeatureReconnection) != 0);
    REQUIRE(g->reconnect(kPatience).has_value());
    CHECK(g->page().req_prod == 0);
    CHECK(c.read("data/a").value() == "1");

    auto watcher = release_watcher(h);
    REQUIRE(watcher);
    REQUIRE(h.fx({"destroy", "5"}).status == 0);
    auto ev = watcher->next_event(kPatience);
    REQUIRE(ev.has_value());
    CHECK(ev->strings().at(0) == "@releaseDomain");
}
