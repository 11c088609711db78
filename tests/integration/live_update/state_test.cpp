// Live update with Debian's xenstore-control keeps everything a client can
// observe: nodes and permissions (stale entries and DOMID_ANY included),
// quotas set at run time, features, watches with their tokens and depths,
// open transactions (which commit or conflict afterwards as they would
// have), a request half received, a reply half sent, queued watch events,
// and the process itself.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "lu_support.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs;
using namespace xs::testing;

TEST_CASE("nodes, permissions, quotas, features and the process survive an update") {
    GuestHarness h;
    auto g1 = h.add_guest(1);
    auto g2 = h.add_guest(2);
    h.create(3);  // known to the hypervisor, not introduced
    auto& c = h.dom0();
    REQUIRE(outcome(c.write("/lu/a", "value")) == "OK");
    REQUIRE(outcome(c.write("/lu/bin", "\x01\x02\0\xff"s)) == "OK");
    REQUIRE(outcome(c.set_perms("/lu/a", {"n0", "r1", "w2", "b3"})) == "OK");
    REQUIRE(outcome(c.set_perms("/lu/bin", {"n1", "r4000"})) == "OK");  // 4000 does not exist: stale
    REQUIRE(outcome(c.write("data/x", "guest", 0)) == "OK");
    REQUIRE(outcome(g1->write("data/mine", "1")) == "OK");
    REQUIRE(outcome(c.request_string(wire::kSetQuota, {"1", "watches", "7"})) == "OK");
    REQUIRE(outcome(c.control({"quota", "set", "nodes", "900"})) == "OK");
    REQUIRE(outcome(c.request_string(wire::kSetFeature, {"3", "1"})) == "OK");
    auto before = dump_tree(c);
    CHECK(before.at("/lu/bin").find("r4000") != std::string::npos);
    pid_t pid = h.daemon().pid();
    // Usage and high-water marks as CONTROL quota shows them.
    auto usage1 = c.control({"quota", "1"});
    auto max_before = c.control({"quota", "max"});
    REQUIRE(usage1);
    REQUIRE(max_before);

    update_with_xenstore_control(h.daemon());

    CHECK(h.daemon().pid() == pid);
    CHECK(dump_tree(c) == before);
    CHECK(value(c.request_string(wire::kGetQuota, {"1", "watches"})) == "7");
    CHECK(value(c.request_string(wire::kGetQuota, {"nodes"})) == "900");
    CHECK(value(c.request_string(wire::kGetFeature, {"3"})) == "1");
    CHECK(value(c.control({"quota", "1"})) == *usage1);
    CHECK(value(c.control({"quota", "max"})) == *max_before);
    CHECK(value(c.request_string(wire::kIsDomainIntroduced, {"1"})) == "T");
    CHECK(value(c.request_string(wire::kIsDomainIntroduced, {"3"})) == "F");
    // Guests go on over their rings, with their rights.
    CHECK(value(g1->read("data/mine")) == "1");
    CHECK(outcome(g2->read("/local/domain/1/data/mine")) == "EACCES");
    CHECK(outcome(g2->write("data/after", "2")) == "OK");
    // The state file is gone once the new process has read it.
    CHECK(!std::filesystem::exists(h.daemon().dir().file("state_dump")));
}

TEST_CASE("watches keep their tokens and depths; events fired after the update arrive") {
    GuestHarness h;
    auto g = h.add_guest(4);
    auto& c = h.dom0();
    auto w = h.connect();
    REQUIRE(outcome(w->watch("/lu/w", "deep", 1)) == "OK");
    REQUIRE(outcome(w->watch("@releaseDomain", "rel")) == "OK");
    REQUIRE(outcome(g->watch("data", "mine")) == "OK");
    take_events(*w);
    REQUIRE(wait_event(*g));  // the initial event

    update_with_xenstore_control(h.daemon());

    REQUIRE(outcome(c.write("/lu/w/x", "1")) == "OK");
    REQUIRE(outcome(c.write("/lu/w/x/too-deep", "1")) == "OK");
    REQUIRE(outcome(c.write("/local/domain/4/data/y", "1")) == "OK");
    CHECK(sorted(take_events(*w)) == std::vector<Event>{{"/lu/w/x", "deep"}});
    auto e = wait_event(*g);
    REQUIRE(e);
    CHECK(*e == Event{"data/y", "mine"});  // relative watch: relative path
    h.destroy(4);
    auto rel = wait_event(*w);
    REQUIRE(rel);
    CHECK(rel->token == "rel");
    g.reset();
}

TEST_CASE("open transactions commit after the update, or conflict as they would have") {
    GuestHarness h;
    auto g = h.add_guest(5);
    auto& c = h.dom0();
    auto a = h.connect();
    auto b = h.connect();
    REQUIRE(outcome(c.write("/tx/c", "old")) == "OK");
    REQUIRE(outcome(g->write("data/q", "q")) == "OK");
    auto ta = a->transaction_start();
    auto tb = b->transaction_start();
    auto tg = g->transaction_start();
    REQUIRE(ta);
    REQUIRE(tb);
    REQUIRE(tg);
    REQUIRE(outcome(a->write("/tx/a", "1", *ta)) == "OK");
    CHECK(value(b->read("/tx/c", *tb)) == "old");
    CHECK(value(g->read("data/q", *tg)) == "q");
    REQUIRE(outcome(g->write("data/r", "r", *tg)) == "OK");

    update_with_xenstore_control(h.daemon());

    // What they did is still theirs alone.
    CHECK(value(a->read("/tx/a", *ta)) == "1");
    CHECK(outcome(c.read("/tx/a")) == "ENOENT");
    // tb read /tx/c; a commit after the update changes it: tb conflicts.
    REQUIRE(outcome(c.write("/tx/c", "new")) == "OK");
    REQUIRE(outcome(b->write("/tx/d", "1", *tb)) == "OK");
    CHECK(outcome(b->transaction_end(*tb, true)) == "EAGAIN");
    CHECK(outcome(c.read("/tx/d")) == "ENOENT");
    CHECK(outcome(a->transaction_end(*ta, true)) == "OK");
    CHECK(value(c.read("/tx/a")) == "1");
    CHECK(outcome(g->transaction_end(*tg, true)) == "OK");
    CHECK(value(c.read("/local/domain/5/data/r")) == "r");
    // New transactions get ids the connection has not used.
    auto next = a->transaction_start();
    REQUIRE(next);
    CHECK(*next != *ta);
    CHECK(outcome(a->transaction_end(*next, false)) == "OK");
}

namespace {

// dom0 sets every node of /big to a new 1000-byte value: 20 KB let go of,
// more than --transaction-pin 4096 below.
void rewrite_big(client::Client& c, char fill) {
    for (int i = 0; i < 20; ++i) REQUIRE(outcome(c.write("/big/n" + std::to_string(i), std::string(1000, fill))) == "OK");
}

unsigned long long rebases(client::Client& c) {
    auto text = c.control({"memreport"});
    REQUIRE(text);
    auto at = text->find("transaction snapshots: ");
    REQUIRE(at != std::string::npos);
    unsigned long long superseded = 0, n = 0;
    REQUIRE(std::sscanf(text->c_str() + at, "transaction snapshots: %llu bytes superseded since start, %llu rebases",
                        &superseded, &n) == 2);
    return n;
}

}  // namespace

TEST_CASE("transactions rebased before and after an update (--transaction-pin) keep their outcomes") {
    GuestHarness h(DaemonOptions::with_args({"--transaction-pin", "4096"}));
    auto g = h.add_guest(5);
    auto& c = h.dom0();
    auto a = h.connect();
    auto b = h.connect();
    REQUIRE(outcome(c.write("/tx/c", "old")) == "OK");
    REQUIRE(outcome(g->write("data/q", "q")) == "OK");
    rewrite_big(c, 'a');
    auto ta = a->transaction_start();
    auto tb = b->transaction_start();
    auto tg = g->transaction_start();
    REQUIRE(ta);
    REQUIRE(tb);
    REQUIRE(tg);
    REQUIRE(outcome(a->write("/tx/a", "1", *ta)) == "OK");
    CHECK(value(b->read("/tx/c", *tb)) == "old");
    CHECK(value(g->read("data/q", *tg)) == "q");
    REQUIRE(outcome(g->write("data/r", "r", *tg)) == "OK");
    rewrite_big(c, 'b');
    CHECK(rebases(c) >= 3);

    update_with_xenstore_control(h.daemon());

    CHECK(value(a->read("/tx/a", *ta)) == "1");
    REQUIRE(outcome(c.write("/tx/c", "new")) == "OK");
    rewrite_big(c, 'c');
    CHECK(rebases(c) >= 3);
    // Rebased: its reads see what was committed since, its own writes stay.
    CHECK(value(b->read("/tx/c", *tb)) == "new");
    CHECK(value(a->read("/big/n0", *ta)) == std::string(1000, 'c'));
    CHECK(value(a->read("/tx/a", *ta)) == "1");
    REQUIRE(outcome(b->write("/tx/d", "1", *tb)) == "OK");
    CHECK(outcome(b->transaction_end(*tb, true)) == "EAGAIN");  // its first read of /tx/c changed
    CHECK(outcome(c.read("/tx/d")) == "ENOENT");
    CHECK(outcome(a->transaction_end(*ta, true)) == "OK");
    CHECK(value(c.read("/tx/a")) == "1");
    CHECK(outcome(g->transaction_end(*tg, true)) == "OK");
    CHECK(value(c.read("/local/domain/5/data/r")) == "r");
}

namespace {

int raw_socket(Daemon& d, int rcvbuf = 0) {
    int fd = d.connect_fd();
    REQUIRE(fd >= 0);
    if (rcvbuf) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    return fd;
}

void send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        REQUIRE(n > 0);
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Read exactly `n` bytes (or fail the test after a while).
std::string recv_exactly(int fd, std::size_t n) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + scaled(20s);
    char buf[65536];
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
        ssize_t got = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), MSG_DONTWAIT);
        if (got > 0) out.append(buf, static_cast<std::size_t>(got));
        else std::this_thread::sleep_for(1ms);
    }
    return out;
}

}  // namespace

TEST_CASE("a request half received and replies half sent continue byte-exactly") {
    GuestHarness h;
    auto g = h.add_guest(6);
    auto& c = h.dom0();
    const std::string big(4000, 'b');
    REQUIRE(outcome(c.write("/half/big", big)) == "OK");
    // A socket client half-way through sending a WRITE.
    int writer = raw_socket(h.daemon());
    std::string write = raw_message(wire::kWrite, "/half/w\0done"s, 77);
    send_all(writer, write.substr(0, 21));
    // A socket client that asked for 300 big replies and reads none: its
    // replies wait in the socket and in the daemon's queue, one of them
    // partly written.
    int reader = raw_socket(h.daemon(), 4096);
    constexpr int kReads = 300;
    std::string reads;
    for (int i = 0; i < kReads; ++i) reads += raw_message(wire::kRead, "/half/big\0"s, 1000 + i);
    send_all(reader, reads);
    // A guest half-way through its own request, in its ring.
    std::string gmsg = raw_message(wire::kWrite, "data/g\0guest"s, 5);
    REQUIRE(g.ring->write_raw(gmsg.substr(0, 9)));
    std::this_thread::sleep_for(scaled(200ms));

    update_with_xenstore_control(h.daemon());

    send_all(writer, write.substr(21));
    std::string ok = recv_exactly(writer, 16 + 3);
    CHECK(ok == raw_message(wire::kWrite, "OK\0"s, 77));
    CHECK(value(c.read("/half/w")) == "done");
    std::string expected;
    for (int i = 0; i < kReads; ++i) expected += raw_message(wire::kRead, big, 1000 + i);
    std::string got = recv_exactly(reader, expected.size());
    CHECK(got.size() == expected.size());
    CHECK(got == expected);
    REQUIRE(g.ring->write_raw(gmsg.substr(9)));
    auto reply = g->receive(scaled(5s));
    REQUIRE(reply);
    CHECK(reply->header.req_id == 5);
    CHECK(text(*reply) == "OK");
    CHECK(value(c.read("/local/domain/6/data/g")) == "guest");
    ::close(writer);
    ::close(reader);
}

TEST_CASE("watch events queued for a guest that does not read are delivered after the update") {
    GuestHarness h;
    auto g = h.add_guest(7);
    auto& c = h.dom0();
    REQUIRE(outcome(g->watch("data", "q")) == "OK");
    REQUIRE(wait_event(*g));
    constexpr int kEvents = 60;  // ~1.8 KiB of events: more than the ring holds
    for (int i = 0; i < kEvents; ++i)
        REQUIRE(outcome(c.write("/local/domain/7/data/e" + std::to_string(i), "")) == "OK");

    update_with_xenstore_control(h.daemon());

    std::vector<Event> got;
    while (got.size() < kEvents) {
        auto e = wait_event(*g);
        if (!e) break;
        got.push_back(*e);
    }
    REQUIRE(got.size() == kEvents);
    for (int i = 0; i < kEvents; ++i) CHECK(got[static_cast<std::size_t>(i)] == Event{"data/e" + std::to_string(i), "q"});
}

TEST_CASE("7e71b1e0af, c85610a322: nodes with the longest paths and the most permissions survive an update byte for byte") {
    GuestHarness h;
    auto g = h.add_guest(1);
    auto& c = h.dom0();
    // Paths of exactly 3072 characters (XENSTORE_ABS_PATH_MAX) and of 4000
    // (the privileged socket has no path-max), in components of at most
    // 1000 characters.
    auto path_of = [](std::size_t len, char ch) {
        std::string p = "/lu-long";
        while (p.size() < len) p += "/" + std::string(std::min<std::size_t>(len - p.size() - 1, 1000), ch);
        return p;
    };
    std::string abs_max = path_of(3072, 'a');
    std::string longer = path_of(4000, 'b');
    REQUIRE(abs_max.size() == 3072);
    REQUIRE(longer.size() == 4000);
    REQUIRE(outcome(c.write(abs_max, "3072")) == "OK");
    REQUIRE(outcome(c.write(longer, "4000")) == "OK");
    // A guest's node at its path-max (2048 after its prefix).
    std::string rel = "data";
    while (rel.size() < 2048) rel += "/" + std::string(std::min<std::size_t>(2048 - rel.size() - 1, 1000), 'g');
    REQUIRE(rel.size() == 2048);
    REQUIRE(outcome(g->write(rel, "guest")) == "OK");
    // The most permission entries: the guest's quota (5), and as many as
    // one payload carries from the socket.
    REQUIRE(outcome(g->set_perms("data", {"n1", "r2", "w3", "b4", "r5"})) == "OK");
    // As many entries as one SET_PERMS payload carries after `path`.
    auto most_perms = [](const std::string& path) {
        std::vector<std::string> perms = {"n0"};
        std::size_t bytes = path.size() + 1 + 3;
        for (int d = 1;; ++d) {
            std::string e = (d % 3 == 0 ? "b" : d % 3 == 1 ? "r" : "w") + std::to_string(d);
            if (bytes + e.size() + 1 > 4096) return perms;
            perms.push_back(e);
            bytes += e.size() + 1;
        }
    };
    auto many = most_perms(abs_max);
    REQUIRE(many.size() > 200);
    REQUIRE(outcome(c.set_perms(abs_max, many)) == "OK");
    auto most = most_perms("/lu-perms");
    REQUIRE(most.size() > 600);
    REQUIRE(outcome(c.write("/lu-perms", "p")) == "OK");
    REQUIRE(outcome(c.set_perms("/lu-perms", most)) == "OK");
    auto before = dump_tree(c);
    REQUIRE(before.count(abs_max) == 1);
    REQUIRE(before.count(longer) == 1);

    update_with_xenstore_control(h.daemon());

    CHECK(dump_tree(c) == before);
    CHECK(value(c.read(abs_max)) == "3072");
    CHECK(value(c.read(longer)) == "4000");
    CHECK(value(g->read(rel)) == "guest");
    CHECK(joined(c.get_perms(abs_max)) == joined(many));
    CHECK(joined(c.get_perms("/lu-perms")) == joined(most));
    CHECK(value(c.control({"check"})) == "OK");
}
