// migration::State through the stream and back: random daemon states
// (trees, connections with partial input and output, watches, open
// transactions with their logs, domains, quotas) come back equal; what a
// version-1 stream cannot carry is dropped as documented; a stream whose
// records contradict each other is refused with the record and its offset.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <random>
#include <string>

#include "migration/state.hpp"
#include "store/path.hpp"
#include "store/store.hpp"

using namespace xs;
using namespace xs::migration;

namespace {

using Rng = std::mt19937_64;

std::size_t pick(Rng& rng, std::size_t n) { return static_cast<std::size_t>(rng() % n); }

std::string random_path(Rng& rng) {
    std::string p;
    for (std::size_t i = 0, depth = 1 + pick(rng, 4); i < depth; ++i)
        p += "/" + std::string(1, static_cast<char>('a' + pick(rng, 5)));
    return p;
}

std::string random_bytes(Rng& rng, std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
}

store::PermRef random_perms(Rng& rng) {
    std::vector<store::PermEntry> e;
    for (std::size_t i = 0, n = 1 + pick(rng, 3); i < n; ++i)
        e.push_back(store::PermEntry{static_cast<DomId>(i == 2 ? kDomidAny : pick(rng, 6)),
                                     static_cast<std::uint8_t>(pick(rng, 4)), pick(rng, 5) == 0});
    return store::make_perms(e);
}

void random_change(Rng& rng, store::Tree& t, const store::OpContext& ctx) {
    std::string p = random_path(rng);
    switch (pick(rng, 4)) {
        case 0: (void)t.rm(ctx, p); break;
        case 1: (void)t.set_perms(ctx, pick(rng, 4) ? p : "@releaseDomain", random_perms(rng)); break;
        default: (void)t.write(ctx, p, random_bytes(rng, pick(rng, 12))); break;
    }
}

std::string message(std::uint32_t type, std::uint32_t req, std::string_view payload) {
    std::uint32_t h[4] = {type, req, 0, static_cast<std::uint32_t>(payload.size())};
    std::string m(reinterpret_cast<const char*>(h), sizeof h);
    return m + std::string(payload);
}

Transaction random_transaction(Rng& rng, const store::Tree& committed, std::uint32_t id) {
    store::Transaction t(committed, 0);
    std::uint64_t gen = 0;
    store::OpContext ctx{store::Caller{static_cast<DomId>(pick(rng, 3)), pick(rng, 2) == 0, std::nullopt},
                         store::Budget{}, &gen};
    for (std::size_t i = 0, n = pick(rng, 8); i < n; ++i) {
        std::string p = random_path(rng);
        switch (pick(rng, 5)) {
            case 0: (void)t.fetch(ctx, p, store::kAccessRead, static_cast<store::ReadKind>(pick(rng, 3))); break;
            case 1: (void)t.write(ctx, p, random_bytes(rng, pick(rng, 6))); break;
            case 2: (void)t.mkdir(ctx, p); break;
            case 3: (void)t.rm(ctx, p); break;
            default: (void)t.set_perms(ctx, p, random_perms(rng)); break;
        }
    }
    return Transaction{id, t.image()};
}

Connection random_connection(Rng& rng, const store::Tree& tree, std::size_t index, bool big_input) {
    Connection c;
    if (index % 2) {
        c.kind = Connection::Kind::Ring;
        c.domid = static_cast<DomId>(index);
        if (pick(rng, 3) == 0) c.target = static_cast<DomId>(pick(rng, 5));
        c.port = static_cast<std::uint32_t>(10 + index);
        c.unique_id = rng();
        c.ignored = pick(rng, 5) == 0;
    } else {
        c.fd = static_cast<std::int32_t>(100 + index);
    }
    c.input_paused = pick(rng, 4) == 0;
    c.input = random_bytes(rng, big_input ? 70000 : pick(rng, 40));
    if (pick(rng, 3) == 0) {
        c.first_partial = true;
        c.output.push_back(OutMessage{random_bytes(rng, 1 + pick(rng, 30)), pick(rng, 2) == 0, 0xFFFF});
    }
    for (std::size_t i = 0, n = pick(rng, 4); i < n; ++i) {
        bool event = pick(rng, 2) == 0;
        DomId source = event && pick(rng, 2) ? static_cast<DomId>(pick(rng, 5)) : XsConnection::kNoDomain;
        c.output.push_back(OutMessage{message(event ? 15 : 2, static_cast<std::uint32_t>(i), "p\0t\0"), !event, source});
    }
    for (std::size_t i = 0, n = pick(rng, 4); i < n; ++i) {
        const char* kinds[] = {"data/w", "/local/domain/1/x", "@releaseDomain", "@introduceDomain", "rel"};
        c.watches.push_back(Watch{std::string(kinds[pick(rng, 5)]) + std::to_string(i), "tok" + std::to_string(rng() % 9),
                                  pick(rng, 2) ? -1 : static_cast<int>(pick(rng, 4))});
    }
    for (std::uint32_t i = 0, n = static_cast<std::uint32_t>(pick(rng, 3)); i < n; ++i)
        c.transactions.push_back(random_transaction(rng, tree, 3 * i + 1));
    c.last_tx_id = c.transactions.empty() ? static_cast<std::uint32_t>(pick(rng, 3)) : c.transactions.back().id + 4;
    return c;
}

State random_state(Rng& rng) {
    State s;
    s.global = GlobalData{3, 4};
    s.generation = 1'000'000 + pick(rng, 1000);
    s.tree = store::Tree::initial(0, s.generation);
    store::OpContext ctx{store::Caller{0, true, std::nullopt}, store::Budget{}, &s.generation};
    for (std::size_t i = 0, n = pick(rng, 60); i < n; ++i) random_change(rng, s.tree, ctx);
    s.quotas = {{"nodes", 1000}, {"memory", 0}, {"soft-memory", 7}, {"unknown-name", 5}};
    for (std::size_t i = 0, n = pick(rng, 5); i < n; ++i)
        s.connections.push_back(random_connection(rng, s.tree, i, pick(rng, 10) == 0));
    for (std::size_t i = 0, n = pick(rng, 4); i < n; ++i) {
        Domain d;
        d.id = static_cast<DomId>(i * 7);
        d.features = static_cast<std::uint32_t>(pick(rng, 16));
        if (pick(rng, 2)) d.quotas = {{"watches", static_cast<std::uint32_t>(pick(rng, 200))}};
        d.shutdown_noticed = pick(rng, 2);
        d.unique_id = rng() % 1000;
        if (pick(rng, 2)) {
            d.credit = -1.5 + static_cast<double>(pick(rng, 20));
            d.credit_time_ns = static_cast<std::int64_t>(rng() >> 2);
        }
        d.max_seen[pick(rng, quota::kItemCount)] = static_cast<std::int64_t>(pick(rng, 5000));
        s.domains.push_back(d);
    }
    s.live_updates = pick(rng, 100);
    s.requests = rng();
    s.quota_refusals = pick(rng, 1000);
    s.started_ns = static_cast<std::int64_t>(rng() >> 1);
    for (std::size_t i = 0; i < s.connections.size(); ++i)
        if (!s.connections[i].output.empty() && pick(rng, 2))
            s.held_reply = State::HeldReply{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(rng())};
    s.global_max[0] = static_cast<std::int64_t>(pick(rng, 50));
    return s;
}

// ---- comparison

std::map<std::string, std::string> contents(const store::Tree& t) {
    std::map<std::string, std::string> out;
    t.for_each_node([&](std::string_view path, const store::Node& n) {
        std::string v(n.value());
        v += '|';
        for (const store::PermEntry& e : n.perms->entries()) {
            store::append_perm(v, e);
            v += e.ignore ? "!," : ",";
        }
        out.emplace(std::string(path), std::move(v));
    });
    return out;
}

bool same_log(const std::vector<store::Transaction::Logged>& a, const std::vector<store::Transaction::Logged>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto &x = a[i], &y = b[i];
        bool perms = (!x.perms && !y.perms) ||
                     (x.perms && y.perms && x.perms->same_as(y.perms->entries()));
        if (x.op != y.op || x.need != y.need || x.kind != y.kind || x.code != y.code || x.digest != y.digest ||
            x.path != y.path || x.value != y.value || !perms)
            return false;
    }
    return true;
}

void check_transaction(const Transaction& a, const Transaction& b) {
    CHECK(a.id == b.id);
    CHECK(contents(a.image.view) == contents(b.image.view));
    CHECK(same_log(a.image.log, b.image.log));
    CHECK(a.image.failure == b.image.failure);
    CHECK(a.image.changed == b.image.changed);
    REQUIRE(a.image.deltas.items().size() == b.image.deltas.items().size());
    for (std::size_t i = 0; i < a.image.deltas.items().size(); ++i) {
        CHECK(a.image.deltas.items()[i].domid == b.image.deltas.items()[i].domid);
        CHECK(a.image.deltas.items()[i].nodes == b.image.deltas.items()[i].nodes);
        CHECK(a.image.deltas.items()[i].bytes == b.image.deltas.items()[i].bytes);
    }
}

void check_connection(const Connection& a, const Connection& b, bool v2) {
    CHECK(a.kind == b.kind);
    CHECK(a.domid == b.domid);
    CHECK(a.target == b.target);
    CHECK(a.port == b.port);
    CHECK(a.fd == b.fd);
    CHECK(a.unique_id == (v2 ? b.unique_id : std::nullopt));
    CHECK(a.input == b.input);
    CHECK(a.output == b.output);
    CHECK(a.first_partial == (b.first_partial && !b.output.empty()));
    CHECK(a.ignored == b.ignored);
    CHECK(a.input_paused == b.input_paused);
    REQUIRE(a.watches.size() == b.watches.size());
    for (std::size_t i = 0; i < a.watches.size(); ++i) {
        CHECK(a.watches[i].path == b.watches[i].path);
        CHECK(a.watches[i].token == b.watches[i].token);
        CHECK(a.watches[i].depth == (v2 ? b.watches[i].depth : -1));
    }
    if (!v2) {
        CHECK(a.transactions.empty());
        return;
    }
    CHECK(a.last_tx_id == b.last_tx_id);
    REQUIRE(a.transactions.size() == b.transactions.size());
    for (std::size_t i = 0; i < a.transactions.size(); ++i) check_transaction(a.transactions[i], b.transactions[i]);
}

void check_state(const State& out, const State& in, bool v2) {
    CHECK(out.global == in.global);
    CHECK(contents(out.tree) == contents(in.tree));
    CHECK(out.generation == in.generation);
    CHECK(out.quotas == in.quotas);
    CHECK(out.live_updates == in.live_updates);
    CHECK(out.requests == in.requests);
    CHECK(out.quota_refusals == in.quota_refusals);
    CHECK(out.started_ns == in.started_ns);
    CHECK(out.held_reply == in.held_reply);
    CHECK(out.global_max == in.global_max);
    CHECK(out.from_xstored);
    REQUIRE(out.connections.size() == in.connections.size());
    for (std::size_t i = 0; i < in.connections.size(); ++i) check_connection(out.connections[i], in.connections[i], v2);
    REQUIRE(out.domains.size() == in.domains.size());
    for (std::size_t i = 0; i < in.domains.size(); ++i) {
        const Domain &a = out.domains[i], &b = in.domains[i];
        CHECK(a.id == b.id);
        CHECK(a.features == (v2 ? b.features : 0));
        CHECK(a.quotas == b.quotas);
        CHECK(a.shutdown_noticed == b.shutdown_noticed);
        CHECK(a.unique_id == b.unique_id);
        CHECK(a.credit == b.credit);
        CHECK(a.credit_time_ns == (b.credit ? b.credit_time_ns : 0));
        CHECK(a.max_seen == b.max_seen);
    }
}

// The tally decode() counted while building the tree is the tree's.
void check_tally(const State& st) {
    auto sums = [](const store::Deltas& d) {
        std::map<DomId, std::pair<std::int64_t, std::int64_t>> m;
        for (const store::OwnerDelta& o : d.items()) {
            auto& [nodes, bytes] = m[o.domid];
            nodes += o.nodes;
            bytes += o.bytes;
            if (nodes == 0 && bytes == 0) m.erase(o.domid);
        }
        return m;
    };
    CHECK(sums(st.tally) == sums(st.tree.tally()));
}

}  // namespace

TEST_CASE("random daemon states come back from the stream equal") {
    Rng rng(20261206);
    for (int round = 0; round < 300; ++round) {
        CAPTURE(round);
        State in = random_state(rng);
        for (ByteOrder order : {ByteOrder::kLittle, ByteOrder::kBig}) {
            auto bytes = encode(in, WriterOptions{kVersion2, order});
            REQUIRE(bytes);
            Parsed<State> out = decode(*bytes);
            REQUIRE_MESSAGE(out, (out ? "" : out.error().describe()));
            check_state(*out, in, true);
            check_tally(*out);
            // A second trip changes nothing: the stream is stable.
            auto again = encode(*out, WriterOptions{kVersion2, order});
            REQUIRE(again);
            CHECK(*again == *bytes);
        }
    }
}

TEST_CASE("a version-1 stream drops what that version cannot carry") {
    Rng rng(17);
    int carried = 0;
    for (int round = 0; round < 200; ++round) {
        State in = random_state(rng);
        bool big = false;
        for (const Connection& c : in.connections) big |= c.input.size() > 0xFFFF;
        auto bytes = encode(in, WriterOptions{kVersion1});
        if (big) {
            REQUIRE(!bytes);
            CHECK(bytes.error().find("version-1") != std::string::npos);
            continue;
        }
        REQUIRE(bytes);
        Parsed<State> out = decode(*bytes);
        REQUIRE_MESSAGE(out, (out ? "" : out.error().describe()));
        CHECK(out->version == kVersion1);
        check_state(*out, in, false);
        ++carried;
    }
    CHECK(carried > 100);
}

namespace {

// A small valid state with one socket connection and one transaction.
State small_state() {
    State s;
    s.tree = store::Tree::initial(0, s.generation);
    Connection c;
    c.fd = 9;
    c.watches.push_back(Watch{"/a", "t", -1});
    store::Transaction t(s.tree, 0);
    std::uint64_t gen = 0;
    store::OpContext ctx{store::Caller{}, store::Budget{}, &gen};
    REQUIRE(t.write(ctx, "/local/domain/x", "1"));
    c.transactions.push_back(Transaction{1, t.image()});
    s.connections.push_back(std::move(c));
    return s;
}

// The stream with record number `index` (0 = the first after the header)
// replaced by `replacement` (records of our writer are 8-byte aligned and
// their length includes the padding).
std::string replace_record(const std::string& stream, std::size_t index, const std::string& replacement) {
    std::size_t pos = 16;
    for (std::size_t i = 0; i < index; ++i) {
        std::uint32_t len;
        std::memcpy(&len, stream.data() + pos + 4, 4);
        pos += 8 + len;
    }
    std::uint32_t len;
    std::memcpy(&len, stream.data() + pos + 4, 4);
    return stream.substr(0, pos) + replacement + stream.substr(pos + 8 + len);
}

std::string record(const auto& r) {
    Writer w;
    w.add(r);
    std::string s = w.finish();
    return s.substr(16, s.size() - 16 - 8);  // without header and END
}

ConnectionData socket_record(std::uint32_t id, std::int32_t fd) {
    ConnectionData d;
    d.conn_id = id;
    d.kind = ConnectionData::Kind::Socket;
    d.fd = fd;
    return d;
}

int record_index(const std::string& stream, RecordType type) {
    Parsed<Reader> r = Reader::open(stream);
    for (int i = 0;; ++i) {
        auto rec = r->next();
        if (!rec || !*rec) return -1;
        if (r->type() == static_cast<std::uint32_t>(type)) return i;
    }
}

}  // namespace

TEST_CASE("records that contradict each other are refused with the record and its offset") {
    State s = small_state();
    std::string good = *encode(s);
    REQUIRE(decode(good));
    int watch = record_index(good, RecordType::WatchData);
    int tx = record_index(good, RecordType::TransactionData);
    int node = record_index(good, RecordType::NodeData);
    REQUIRE(watch > 0);
    struct Case {
        int index;
        std::string replacement;
        std::string message;
    };
    std::vector<Case> cases = {
        {watch, record(WatchData{7, "/a", "t", std::nullopt}), "connection 7 not seen before"},
        {tx, record(TransactionData{1, 0}), "transaction id 0"},
        {node, record(NodeData{0, 0, "/x/y", "", 0, s.tree.root()->perms->entries()}),
         "the parent of node /x/y not seen before"},
        {node, record(NodeData{1, 9, "/x", "", 1, s.tree.root()->perms->entries()}),
         "transaction 9 of connection 1 not seen before"},
        {watch, record(GlobalData{}), "a second GLOBAL_DATA record"},
        {watch, record(socket_record(1, 4)),
         "connection 1 seen twice"},
        {watch, record(WatchData{1, "a b", "t", std::nullopt}), "bad watch path"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.message);
        std::string bad = replace_record(good, static_cast<std::size_t>(c.index), c.replacement);
        Parsed<State> out = decode(bad);
        REQUIRE(!out);
        CHECK(out.error().message.find(c.message) != std::string::npos);
        std::size_t pos = 16;
        for (int i = 0; i < c.index; ++i) {
            std::uint32_t len;
            std::memcpy(&len, bad.data() + pos + 4, 4);
            pos += 8 + len;
        }
        CHECK(out.error().offset == pos);
    }
}

TEST_CASE("a transaction log's net changes must be one per owner and in range") {
    State s = small_state();
    std::string good = *encode(s);
    int log = record_index(good, RecordType::XsTransaction);
    REQUIRE(log > 0);
    XsTransaction::Delta twice[] = {{3, 1, 10}, {3, 1, 10}};
    XsTransaction::Delta huge[] = {{3, 1, std::int64_t{1} << 62}};
    XsTransaction::Delta many_nodes[] = {{3, std::int64_t{1} << 40, 1}};
    for (auto [deltas, message] : {std::pair{std::span<const XsTransaction::Delta>(twice), "two deltas for one owner"},
                                   std::pair{std::span<const XsTransaction::Delta>(huge), "out of range"},
                                   std::pair{std::span<const XsTransaction::Delta>(many_nodes), "out of range"}}) {
        CAPTURE(message);
        XsTransaction x;
        x.conn_id = 1;
        x.tx_id = 1;
        x.deltas = deltas;
        Parsed<State> out = decode(replace_record(good, static_cast<std::size_t>(log), record(x)));
        REQUIRE(!out);
        CHECK(out.error().message.find(message) != std::string::npos);
    }
}

TEST_CASE("a pending node that does not fit the committed tree is refused") {
    State s = small_state();
    std::string good = *encode(s);
    // The transaction's pending node for /local/domain/x, now under a parent
    // that does not exist.
    int pending = -1;
    {
        Parsed<Reader> r = Reader::open(good);
        for (int i = 0;; ++i) {
            auto rec = r->next();
            REQUIRE(rec);
            if (!*rec) break;
            if (auto* n = std::get_if<NodeData>(&**rec); n && n->conn_id) pending = i;
        }
    }
    REQUIRE(pending > 0);
    std::string bad = replace_record(
        good, static_cast<std::size_t>(pending),
        record(NodeData{1, 1, "/nowhere/x", "1", 2, s.tree.root()->perms->entries()}));
    Parsed<State> out = decode(bad);
    REQUIRE(!out);
    CHECK(out.error().message.find("pending node /nowhere/x of transaction 1") != std::string::npos);
    CHECK(out.error().type == static_cast<std::uint32_t>(RecordType::NodeData));
}

TEST_CASE("a transaction without its log can only fail, with EAGAIN") {
    State s = small_state();
    std::string good = *encode(s);
    int log = record_index(good, RecordType::XsTransaction);
    REQUIRE(log > 0);
    // Drop XS_TRANSACTION: another daemon's stream carries no log.
    std::size_t pos = 16;
    for (int i = 0; i < log; ++i) {
        std::uint32_t len;
        std::memcpy(&len, good.data() + pos + 4, 4);
        pos += 8 + len;
    }
    std::uint32_t len;
    std::memcpy(&len, good.data() + pos + 4, 4);
    std::string without = good.substr(0, pos) + good.substr(pos + 8 + len);
    Parsed<State> out = decode(without);
    REQUIRE(out);
    const Transaction& t = out->connections[0].transactions[0];
    CHECK(t.image.failure == EAGAIN);
    CHECK(t.image.view.lookup("/local/domain/x"));  // its view still came across
}
