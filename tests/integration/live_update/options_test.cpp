// The live-update session as the C daemon runs it (owner, abort, a session
// dying with its owner, the replies' texts), and the ways to update: to a
// different binary and back, with a new command line (-c), and to a
// version-1 stream (-v 1), which follows the C daemon's rules for open
// transactions (-t, -F).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "lu_support.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs;
using namespace xs::testing;

namespace {

std::string lu(Client& c, std::vector<std::string> args) {
    args.insert(args.begin(), "live-update");
    auto r = c.control(args);
    return r ? *r : std::string(wire::error_name(r.error().code));
}

}  // namespace

TEST_CASE("a session belongs to the connection that named the binary") {
    GuestHarness h;
    auto a = h.connect();
    auto b = h.connect();
    const std::string bin = xstored_bin();
    CHECK(lu(*a, {"-f", bin}) == "OK");
    CHECK(lu(*b, {"-f", bin}) == "live-update session already active.");
    CHECK(lu(*b, {"-c", "-N"}) == "Not in live-update session.");
    CHECK(lu(*b, {"-s", "-t", "5"}) == "Not in live-update session.");
    CHECK(lu(*b, {"-a"}) == "OK");  // any privileged connection may abort
    CHECK(lu(*a, {"-s"}) == "Not in live-update session.");
    CHECK(lu(*a, {"-a"}) == "No live-update session active.");
    // A stub domain's image chunks are not for a daemon with a file system.
    CHECK(lu(*a, {"-b", "10"}) == "EINVAL");
    CHECK(lu(*a, {"-d", "2", "xx"}) == "EINVAL");
    // A session dies with its owner.
    CHECK(lu(*a, {"-f", bin}) == "OK");
    a.reset();
    CHECK(eventually([&] { return lu(*b, {"-f", bin}) == "OK"; }));
    CHECK(lu(*b, {"-a"}) == "OK");
}

TEST_CASE("live-update arguments: the C daemon's errors and texts") {
    GuestHarness h;
    auto& c = h.dom0();
    CHECK(lu(c, {}) == "EINVAL");
    CHECK(lu(c, {"-x"}) == "EINVAL");
    CHECK(lu(c, {"-f"}) == "EINVAL");
    CHECK(lu(c, {"-f", "a", "b"}) == "EINVAL");
    CHECK(lu(c, {"-a", "extra"}) == "EINVAL");
    CHECK(lu(c, {"-f", h.daemon().dir().file("no-such-binary")}) == "File not accessible.");
    std::string plain = h.daemon().dir().file("not-executable");
    std::ofstream(plain) << "data";
    std::filesystem::permissions(plain, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    CHECK(lu(c, {"-f", plain}) == "File not executable.");
    REQUIRE(lu(c, {"-f", xstored_bin()}) == "OK");
    CHECK(lu(c, {"-s", "-t"}) == "EINVAL");
    CHECK(lu(c, {"-s", "-q"}) == "EINVAL");
    CHECK(lu(c, {"-s", "-v", "3"}) == "Migration stream version not supported.");
    CHECK(lu(c, {"-s", "-v", "0"}) == "Migration stream version not supported.");
    CHECK(lu(c, {"-a"}) == "OK");
    // Only privileged connections may use CONTROL at all.
    auto g = h.add_guest(3);
    CHECK(outcome(g->control({"live-update", "-a"})) == "EACCES");
}

TEST_CASE("an update to a different binary, and back") {
    GuestHarness h;
    std::string variant = xstored_variant_bin();
    REQUIRE(!variant.empty());
    auto g = h.add_guest(2);
    REQUIRE(outcome(h.dom0().write("/v/a", "1")) == "OK");
    auto before = dump_tree(h.dom0());
    update_with_xenstore_control(h.daemon(), variant);
    CHECK(exe_of(h.daemon().pid()) == std::filesystem::canonical(variant).string());
    CHECK(h.daemon().stderr_text().find("(variant) live-updated") != std::string::npos);
    CHECK(dump_tree(h.dom0()) == before);
    CHECK(outcome(g->write("data/x", "1")) == "OK");
    update_with_xenstore_control(h.daemon());
    CHECK(exe_of(h.daemon().pid()) == std::filesystem::canonical(xstored_bin()).string());
    CHECK(outcome(g->write("data/y", "1")) == "OK");
}

TEST_CASE("-c gives the new process a new command line") {
    GuestHarness h;
    auto& d = h.daemon();
    std::string trace = d.dir().file("trace.log");
    auto old_args = cmdline_of(d.pid());
    // The socket and dom0's ring as before, plus a trace file.
    std::vector<std::string> args(old_args.begin() + 1, old_args.end());
    args.push_back("-T");
    args.push_back(trace);
    std::string line;
    for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
    update_with_xenstore_control(d, {}, {"-c", line});
    auto now = cmdline_of(d.pid());
    CHECK(now.back() == "-U");
    CHECK(std::find(now.begin(), now.end(), trace) != now.end());
    REQUIRE(outcome(h.dom0().write("/traced", "1")) == "OK");
    std::ifstream in(trace);
    std::string traced((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(traced.find("/traced") != std::string::npos);
    // Without -c the arguments stay, with -U once.
    update_with_xenstore_control(d);
    auto again = cmdline_of(d.pid());
    CHECK(std::count(again.begin(), again.end(), "-U") == 1);
    CHECK(std::find(again.begin(), again.end(), trace) != again.end());
}

TEST_CASE("-v 1 writes a stream without transactions, watch depths or features") {
    GuestHarness h;
    auto g = h.add_guest(4);
    auto& c = h.dom0();
    REQUIRE(outcome(c.write("/v1/a", "1")) == "OK");
    auto w = h.connect();
    REQUIRE(outcome(w->watch("/v1", "deep", 0)) == "OK");
    take_events(*w);
    auto before = dump_tree(c);
    CHECK(live_update(c, UpdateRequest{xstored_bin(), std::nullopt, {"-v", "1", "-t", "5"}}) == "OK");
    CHECK(dump_tree(c) == before);
    // The depth was dropped: the watch now sees the whole subtree.
    REQUIRE(outcome(c.write("/v1/a/b", "1")) == "OK");
    CHECK(take_events(*w) == std::vector<Event>{{"/v1/a/b", "deep"}});
    // Features come from what the guest was shown in its ring.
    CHECK(value(g->request_string(wire::kGetFeature, {})) != "0");
    CHECK(outcome(g->write("data/after", "1")) == "OK");
}

TEST_CASE("-v 1 waits for open transactions: a timeout names them, -F drops them, -a cancels") {
    GuestHarness h;
    auto& c = h.dom0();
    auto t = h.connect();
    auto tx = t->transaction_start();
    REQUIRE(tx);
    REQUIRE(outcome(t->write("/v1/tx", "1", *tx)) == "OK");
    // Without -F: refused once the timeout passed.
    std::string reply = live_update(c, UpdateRequest{xstored_bin(), std::nullopt, {"-v", "1", "-t", "1"}});
    CHECK(reply.starts_with("Domains with long running transactions:\nDomain 0: "));
    CHECK(updates_logged(h.daemon()) == 0);
    CHECK(outcome(t->write("/v1/tx2", "1", *tx)) == "OK");  // it is still open
    // A transaction that ends while the update waits lets it go.
    auto other = h.connect();
    REQUIRE(lu(*other, {"-f", xstored_bin()}) == "OK");
    std::uint32_t held = other->send(wire::kControl, Client::join({"live-update", "-s", "-v", "1", "-t", "30"}));
    std::this_thread::sleep_for(scaled(300ms));
    // Meanwhile a connection without transactions may not start one: it waits.
    auto late = h.connect();
    std::uint32_t start = late->send(wire::kTransactionStart, "\0"s);
    CHECK(!late->receive(scaled(300ms)));
    REQUIRE(outcome(t->transaction_end(*tx, true)) == "OK");
    auto done = other->wait_reply(held);
    REQUIRE(done);
    CHECK(text(*done) == "OK");
    auto started = late->wait_reply(start);  // served by the new process
    REQUIRE(started);
    CHECK(!started->is_error());
    CHECK(updates_logged(h.daemon()) == 1);
    // -F: after the timeout the update goes on; the transaction is lost.
    auto tx2 = t->transaction_start();
    REQUIRE(tx2);
    CHECK(live_update(c, UpdateRequest{xstored_bin(), std::nullopt, {"-v", "1", "-t", "1", "-F"}}) == "OK");
    CHECK(outcome(t->write("/v1/tx3", "1", *tx2)) == "ENOENT");
    // -a from another connection answers a waiting -s.
    auto tx3 = t->transaction_start();
    REQUIRE(tx3);
    REQUIRE(lu(*other, {"-f", xstored_bin()}) == "OK");
    held = other->send(wire::kControl, Client::join({"live-update", "-s", "-v", "1", "-t", "30"}));
    std::this_thread::sleep_for(scaled(200ms));
    CHECK(lu(c, {"-a"}) == "OK");
    auto cancelled = other->wait_reply(held);
    REQUIRE(cancelled);
    CHECK(text(*cancelled) == "Cancellation was requested");
    CHECK(outcome(t->transaction_end(*tx3, false)) == "OK");
}
