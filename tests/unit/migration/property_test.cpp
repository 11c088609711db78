// Randomized round trip: random records of every type, random options,
// write -> read -> equal (what version 1 drops aside). Fixed seed, so a
// failure replays.
#include <doctest/doctest.h>

#include <random>

#include "support.hpp"

using namespace xs::migration;
using namespace xs::migration::test;
using xs::store::PermEntry;

namespace {

class Gen {
public:
    explicit Gen(std::uint64_t seed) : rng_(seed) {}

    std::uint64_t num(std::uint64_t max) { return std::uniform_int_distribution<std::uint64_t>(0, max)(rng_); }
    bool coin(int one_in = 2) { return num(one_in - 1) == 0; }
    template <class T>
    T any() {
        return static_cast<T>(rng_());
    }
    // Mostly short, now and then long, once in a while at the field's limit.
    std::size_t length(std::size_t limit) {
        if (coin(200)) return limit;
        return coin(10) ? num(std::min<std::size_t>(limit, 2000)) : num(std::min<std::size_t>(limit, 24));
    }
    std::string_view text(Keep& k, std::size_t limit = 0xFFFE) {
        std::string s(length(limit), 'x');
        for (auto& c : s) c = static_cast<char>(1 + num(254));  // no NUL
        return k.str(std::move(s));
    }
    std::string_view bytes(Keep& k, std::size_t limit = 0xFFFF) {
        std::string s(length(limit), 'x');
        for (auto& c : s) c = static_cast<char>(num(255));
        return k.str(std::move(s));
    }
    std::span<const PermEntry> perms(Keep& k) {
        std::vector<PermEntry> v(num(5));
        for (auto& e : v) e = {any<xs::DomId>(), static_cast<std::uint8_t>(num(3)), coin()};
        return k.span(std::move(v));
    }
    template <class V>
    std::span<const V> named(Keep& k, std::size_t max) {
        std::vector<V> v(num(max));
        for (auto& x : v) x = {text(k, 40), any<decltype(x.value)>()};
        return k.span(std::move(v));
    }

private:
    std::mt19937_64 rng_;
};

ConnectionData connection(Gen& g, Keep& k) {
    ConnectionData c;
    c.conn_id = g.any<std::uint32_t>();
    if (g.coin()) {
        c.kind = ConnectionData::Kind::Ring;
        c.domid = g.any<xs::DomId>();
        c.target = g.any<xs::DomId>();
        c.evtchn = g.any<std::uint32_t>();
    } else {
        c.fd = g.any<std::int32_t>();
    }
    c.in = g.bytes(k);
    c.out = g.bytes(k, 100000);
    c.out_partial = static_cast<std::uint32_t>(g.num(std::min<std::size_t>(c.out.size(), 0xFFFF)));
    if (g.coin()) c.unique_id = g.any<std::uint64_t>();
    return c;
}

NodeData node(Gen& g, Keep& k) {
    NodeData n;
    if (g.coin()) {
        n.conn_id = g.any<std::uint32_t>();
        n.tx_id = g.any<std::uint32_t>();
        n.access = g.any<std::uint16_t>();
    }
    n.path = g.text(k);
    n.value = g.bytes(k);
    n.perms = g.perms(k);
    return n;
}

XsConnection xs_connection(Gen& g, Keep& k) {
    std::vector<XsConnection::OutInfo> out(g.num(6));
    for (auto& o : out) o = {g.coin(), g.any<xs::DomId>()};
    return XsConnection{g.any<std::uint32_t>(), g.named<NamedValue64>(k, 6), g.bytes(k, 100000), k.span(std::move(out))};
}

XsTransaction xs_transaction(Gen& g, Keep& k) {
    std::vector<XsTransaction::Entry> entries(g.num(6));
    for (auto& e : entries) {
        e.op = static_cast<XsTransaction::Op>(g.num(4));
        e.need = g.any<std::uint8_t>();
        e.kind = g.any<std::uint8_t>();
        e.code = g.any<std::int32_t>();
        e.digest = g.any<std::uint64_t>();
        e.path = g.text(k);
        e.value = g.bytes(k);
        e.perms = g.perms(k);
    }
    std::vector<XsTransaction::Delta> deltas(g.num(4));
    for (auto& d : deltas) d = {g.any<xs::DomId>(), g.any<std::int64_t>(), g.any<std::int64_t>()};
    return XsTransaction{g.any<std::uint32_t>(), g.any<std::uint32_t>(), g.any<std::int32_t>(), g.any<std::uint32_t>(),
                         g.any<std::uint32_t>(), k.span(std::move(entries)), k.span(std::move(deltas))};
}

// Built field by field: g++ 12 warns (maybe-uninitialized, falsely) about
// these aggregates initialized in place inside a variant.
GlobalData global(Gen& g) {
    GlobalData d;
    d.socket_fd = g.any<std::int32_t>();
    d.evtchn_fd = g.any<std::int32_t>();
    return d;
}

WatchData watch(Gen& g, Keep& k) {
    WatchData w;
    w.conn_id = g.any<std::uint32_t>();
    w.path = g.text(k);
    w.token = g.text(k);
    if (g.coin()) w.depth = g.any<std::uint16_t>();
    return w;
}

TransactionData transaction(Gen& g) {
    TransactionData t;
    t.conn_id = g.any<std::uint32_t>();
    t.tx_id = g.any<std::uint32_t>();
    return t;
}

DomainData domain(Gen& g, Keep& k) {
    DomainData d;
    d.domid = g.any<xs::DomId>();
    d.features = g.any<std::uint32_t>();
    d.quotas = g.named<NamedValue>(k, 12);
    return d;
}

XsDomain xs_domain(Gen& g, Keep& k) {
    XsDomain d;
    d.domid = g.any<xs::DomId>();
    d.values = g.named<NamedValue64>(k, 12);
    return d;
}

// A type no reader knows: neither Xen's (0..8) nor ours.
std::uint32_t unknown_type(Gen& g) {
    for (;;) {
        auto t = g.coin() ? static_cast<std::uint32_t>(9 + g.num(1000)) : g.any<std::uint32_t>();
        if (type_name(t) == "unknown") return t;
    }
}

UnknownRecord unknown(Gen& g, Keep& k) {
    UnknownRecord u;
    u.type = unknown_type(g);
    u.body = g.bytes(k, 300);
    return u;
}

Record random_record(Gen& g, Keep& k) {
    switch (g.num(11)) {
    case 0: return global(g);
    case 1: return connection(g, k);
    case 2: return watch(g, k);
    case 3: return transaction(g);
    case 4: return node(g, k);
    case 5: return GlobalQuotaData{g.named<NamedValue>(k, 12), g.named<NamedValue>(k, 3)};
    case 6: return domain(g, k);
    case 7: return XsGlobal{g.named<NamedValue64>(k, 12)};
    case 8: return xs_domain(g, k);
    case 9: return xs_connection(g, k);
    case 10: return xs_transaction(g, k);
    default: return unknown(g, k);
    }
}

}  // namespace

TEST_CASE("random records of every type round-trip (3000 streams, fixed seed)") {
    Gen g(20240601);
    std::size_t records = 0;
    for (int i = 0; i < 3000; ++i) {
        Keep k;
        std::vector<Record> in(1 + g.num(7));
        for (auto& r : in) r = random_record(g, k);
        WriterOptions opts{g.coin() ? kVersion1 : kVersion2, g.coin() ? ByteOrder::kLittle : ByteOrder::kBig,
                           g.coin() ? Layout::kLengthWithPadding : Layout::kDesign};
        CAPTURE(i);
        Writer w(opts);
        for (const auto& r : in) REQUIRE(w.add(r));
        check_records(w.finish(), as_read_back(in, opts, k));
        records += in.size();
    }
    CHECK(records > 10000);
}
