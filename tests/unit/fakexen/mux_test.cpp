// The proxy's multiplexer: request ids, watch tokens, transactions and the
// clean-up when a client goes away.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tools/fakexen/mux.hpp"

using xs::fakexen::Mux;
namespace wire = xs::wire;

namespace {

struct Msg {
    wire::Header h;
    std::string payload;
};

std::string msg(std::uint32_t type, std::uint32_t req, std::string_view payload, std::uint32_t tx = 0) {
    std::string out;
    wire::append_message(out, wire::Header{type, req, tx, 0}, payload);
    return out;
}

// Every whole message in `bytes`; consumes them.
std::vector<Msg> take(std::string& bytes) {
    wire::Framer f;
    f.feed(bytes);
    bytes.clear();
    std::vector<Msg> out;
    wire::Framer::Message m;
    while (f.next(m)) out.push_back({m.header, std::string(m.payload)});
    return out;
}

std::string z(std::string_view a, std::string_view b = {}) {
    std::string s(a);
    s.push_back('\0');
    if (!b.empty()) {
        s.append(b);
        s.push_back('\0');
    }
    return s;
}

}  // namespace

TEST_CASE("requests get unique ring ids and replies go back with the client's id") {
    Mux mux;
    Mux::ClientId a = mux.add_client(), b = mux.add_client();
    REQUIRE(mux.from_client(a, msg(wire::kRead, 1, z("x"))));
    REQUIRE(mux.from_client(b, msg(wire::kRead, 1, z("y"))));
    auto sent = take(mux.ring_out());
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].h.req_id != sent[1].h.req_id);
    CHECK(sent[0].payload == z("x"));

    // Replies in the other order.
    REQUIRE(mux.from_ring(msg(wire::kRead, sent[1].h.req_id, "Y")));
    REQUIRE(mux.from_ring(msg(wire::kRead, sent[0].h.req_id, "X")));
    auto to_a = take(*mux.client_out(a));
    auto to_b = take(*mux.client_out(b));
    REQUIRE(to_a.size() == 1);
    REQUIRE(to_b.size() == 1);
    CHECK(to_a[0].payload == "X");
    CHECK(to_a[0].h.req_id == 1);
    CHECK(to_b[0].payload == "Y");
    CHECK(mux.in_flight() == 0);
}

TEST_CASE("a request split across reads is forwarded once complete") {
    Mux mux;
    Mux::ClientId a = mux.add_client();
    std::string m = msg(wire::kWrite, 9, z("p") + "value");
    REQUIRE(mux.from_client(a, m.substr(0, 7)));
    CHECK(mux.ring_out().empty());
    REQUIRE(mux.from_client(a, m.substr(7)));
    CHECK(take(mux.ring_out()).size() == 1);
}

TEST_CASE("watch tokens are prefixed per client and events go to their owner only") {
    Mux mux;
    Mux::ClientId a = mux.add_client(), b = mux.add_client();
    REQUIRE(mux.from_client(a, msg(wire::kWatch, 4, z("/data", "tok"))));
    REQUIRE(mux.from_client(b, msg(wire::kWatch, 4, z("/data", "tok"))));
    auto sent = take(mux.ring_out());
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].payload == z("/data", Mux::ring_token(a, "tok")));
    CHECK(sent[1].payload == z("/data", Mux::ring_token(b, "tok")));
    REQUIRE(mux.from_ring(msg(wire::kWatch, sent[0].h.req_id, z("OK"))));
    REQUIRE(mux.from_ring(msg(wire::kWatch, sent[1].h.req_id, z("OK"))));
    take(*mux.client_out(a));
    take(*mux.client_out(b));

    REQUIRE(mux.from_ring(msg(wire::kWatchEvent, 0, z("/data/x", Mux::ring_token(b, "tok")))));
    CHECK(mux.client_out(a)->empty());
    auto ev = take(*mux.client_out(b));
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].h.type == wire::kWatchEvent);
    CHECK(ev[0].payload == z("/data/x", "tok"));

    // Events nobody can own are dropped.
    REQUIRE(mux.from_ring(msg(wire::kWatchEvent, 0, z("/p", "tok"))));
    REQUIRE(mux.from_ring(msg(wire::kWatchEvent, 0, z("/p", Mux::ring_token(77, "t")))));
    CHECK(mux.client_out(a)->empty());
    CHECK(mux.client_out(b)->empty());
}

TEST_CASE("a watch depth argument after the token is kept") {
    Mux mux;
    Mux::ClientId a = mux.add_client();
    REQUIRE(mux.from_client(a, msg(wire::kWatch, 1, z("/d", "t") + z("2"))));
    auto sent = take(mux.ring_out());
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].payload == z("/d", Mux::ring_token(a, "t")) + z("2"));
}

TEST_CASE("a transaction id belongs to the client that started it") {
    Mux mux;
    Mux::ClientId a = mux.add_client(), b = mux.add_client();
    REQUIRE(mux.from_client(a, msg(wire::kTransactionStart, 2, z(""))));
    auto sent = take(mux.ring_out());
    REQUIRE(mux.from_ring(msg(wire::kTransactionStart, sent[0].h.req_id, z("17"))));
    CHECK(take(*mux.client_out(a)).at(0).payload == z("17"));

    REQUIRE(mux.from_client(a, msg(wire::kRead, 3, z("/x"), 17)));
    CHECK(take(mux.ring_out()).at(0).h.tx_id == 17);

    REQUIRE(mux.from_client(b, msg(wire::kRead, 3, z("/x"), 17)));
    CHECK(mux.ring_out().empty());
    auto err = take(*mux.client_out(b));
    REQUIRE(err.size() == 1);
    CHECK(err[0].h.type == wire::kError);
    CHECK(err[0].payload == z("ENOENT"));
    CHECK(err[0].h.req_id == 3);
}

TEST_CASE("a disconnecting client's watches and transactions are cleaned up on the ring") {
    Mux mux;
    Mux::ClientId a = mux.add_client();
    REQUIRE(mux.from_client(a, msg(wire::kWatch, 1, z("/w", "t"))));
    REQUIRE(mux.from_client(a, msg(wire::kTransactionStart, 2, z(""))));
    auto sent = take(mux.ring_out());
    REQUIRE(mux.from_ring(msg(wire::kWatch, sent[0].h.req_id, z("OK"))));
    REQUIRE(mux.from_ring(msg(wire::kTransactionStart, sent[1].h.req_id, z("5"))));
    REQUIRE(mux.from_client(a, msg(wire::kRead, 3, z("/r"))));  // reply still on its way
    take(mux.ring_out());

    mux.remove_client(a);
    CHECK(mux.client_out(a) == nullptr);
    auto cleanup = take(mux.ring_out());
    REQUIRE(cleanup.size() == 2);
    CHECK(cleanup[0].h.type == wire::kUnwatch);
    CHECK(cleanup[0].payload == z("/w", Mux::ring_token(a, "t")));
    CHECK(cleanup[1].h.type == wire::kTransactionEnd);
    CHECK(cleanup[1].h.tx_id == 5);
    CHECK(cleanup[1].payload == z("F"));
    // Late replies for the gone client are swallowed.
    REQUIRE(mux.from_ring(msg(wire::kUnwatch, cleanup[0].h.req_id, z("OK"))));
    REQUIRE(mux.from_ring(msg(wire::kTransactionEnd, cleanup[1].h.req_id, z("OK"))));
    CHECK(mux.ring_out().empty());
}

TEST_CASE("a watch or transaction that succeeds after its client left is undone") {
    Mux mux;
    Mux::ClientId a = mux.add_client();
    REQUIRE(mux.from_client(a, msg(wire::kWatch, 1, z("/w", "t"))));
    REQUIRE(mux.from_client(a, msg(wire::kTransactionStart, 2, z(""))));
    auto sent = take(mux.ring_out());
    mux.remove_client(a);
    CHECK(mux.ring_out().empty());  // nothing known yet
    REQUIRE(mux.from_ring(msg(wire::kWatch, sent[0].h.req_id, z("OK"))));
    REQUIRE(mux.from_ring(msg(wire::kTransactionStart, sent[1].h.req_id, z("9"))));
    auto undo = take(mux.ring_out());
    REQUIRE(undo.size() == 2);
    CHECK(undo[0].h.type == wire::kUnwatch);
    CHECK(undo[1].h.type == wire::kTransactionEnd);
    CHECK(undo[1].h.tx_id == 9);
}

TEST_CASE("RESET_WATCHES only resets its own client and is answered locally") {
    Mux mux;
    Mux::ClientId a = mux.add_client(), b = mux.add_client();
    for (Mux::ClientId c : {a, b}) REQUIRE(mux.from_client(c, msg(wire::kWatch, 1, z("/w", "t"))));
    auto sent = take(mux.ring_out());
    for (const Msg& m : sent) REQUIRE(mux.from_ring(msg(wire::kWatch, m.h.req_id, z("OK"))));
    take(*mux.client_out(a));
    take(*mux.client_out(b));

    REQUIRE(mux.from_client(a, msg(wire::kResetWatches, 8, "")));
    auto reply = take(*mux.client_out(a));
    REQUIRE(reply.size() == 1);
    CHECK(reply[0].h.type == wire::kResetWatches);
    CHECK(reply[0].h.req_id == 8);
    CHECK(reply[0].payload == z("OK"));
    auto cleanup = take(mux.ring_out());
    REQUIRE(cleanup.size() == 1);
    CHECK(cleanup[0].payload == z("/w", Mux::ring_token(a, "t")));
}

TEST_CASE("a TRANSACTION_END rejected for its argument keeps the transaction") {
    Mux mux;
    Mux::ClientId a = mux.add_client();
    REQUIRE(mux.from_client(a, msg(wire::kTransactionStart, 1, z(""))));
    auto s = take(mux.ring_out());
    REQUIRE(mux.from_ring(msg(wire::kTransactionStart, s[0].h.req_id, z("3"))));
    REQUIRE(mux.from_client(a, msg(wire::kTransactionEnd, 2, z("X"), 3)));
    s = take(mux.ring_out());
    REQUIRE(mux.from_ring(msg(wire::kError, s[0].h.req_id, z("EINVAL"))));
    REQUIRE(mux.from_client(a, msg(wire::kTransactionEnd, 3, z("T"), 3)));
    s = take(mux.ring_out());
    REQUIRE(s.size() == 1);  // still a known transaction: forwarded
    REQUIRE(mux.from_ring(msg(wire::kError, s[0].h.req_id, z("EAGAIN"))));
    take(*mux.client_out(a));
    REQUIRE(mux.from_client(a, msg(wire::kRead, 4, z("/x"), 3)));
    CHECK(mux.ring_out().empty());  // ended by the EAGAIN
}

TEST_CASE("an oversized message from a client is refused") {
    Mux mux;
    Mux::ClientId a = mux.add_client();
    wire::Header h{wire::kWrite, 1, 0, wire::kPayloadMax + 1};
    std::string bytes(reinterpret_cast<const char*>(&h), sizeof h);
    CHECK_FALSE(mux.from_client(a, bytes));
    CHECK(mux.ring_out().empty());
}
