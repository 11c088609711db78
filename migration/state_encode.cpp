// State -> stream. Record order: GLOBAL_DATA, GLOBAL_QUOTA_DATA, XS_GLOBAL;
// per connection its CONNECTION_DATA, XS_CONNECTION, watches and
// TRANSACTION_DATA; the committed nodes depth-first from "/" (the special
// nodes last); per transaction its pending nodes and XS_TRANSACTION; per
// domain DOMAIN_DATA and XS_DOMAIN; END.
#include <cmath>
#include <unordered_map>

#include "migration/messages.hpp"
#include "migration/state.hpp"
#include "migration/state_names.hpp"
#include "store/tree_diff.hpp"

namespace xs::migration {

namespace {

constexpr std::size_t kMaxIn = 0xFFFF;  // CONNECTION_DATA's in-data-len is 16 bits

std::vector<NamedValue> named(const Quotas& q) {
    std::vector<NamedValue> out;
    for (const auto& [name, value] : q) out.push_back(NamedValue{name, value});
    return out;
}

// Named 64-bit values; the names are kept alive beside them.
struct Values {
    std::vector<std::string> names;
    std::vector<std::pair<std::size_t, std::uint64_t>> items;
    void add(std::string name, std::uint64_t v) {
        names.push_back(std::move(name));
        items.emplace_back(names.size() - 1, v);
    }
    void add_max(const MaxUsage& m) {
        for (quota::Item item : quota::kItems)
            if (std::int64_t v = m[quota::index(item)]) add(names::max_name(item), static_cast<std::uint64_t>(v));
    }
    std::vector<NamedValue64> view() const {
        std::vector<NamedValue64> out;
        for (auto [i, v] : items) out.push_back(NamedValue64{names[i], v});
        return out;
    }
};

void add_global(Writer& w, const State& s) {
    w.add(s.global);
    std::vector<NamedValue> q = named(s.quotas);
    w.add(GlobalQuotaData{q, {}});
    Values v;
    v.add(std::string(names::kGeneration), s.generation);
    v.add(std::string(names::kLiveUpdates), s.live_updates);
    v.add(std::string(names::kRequests), s.requests);
    v.add(std::string(names::kQuotaRefusals), s.quota_refusals);
    if (s.started_ns) v.add(std::string(names::kStartedNs), static_cast<std::uint64_t>(s.started_ns));
    if (s.held_reply) {
        v.add(std::string(names::kHeldReplyConn), s.held_reply->conn + 1);
        v.add(std::string(names::kHeldReplyReq), s.held_reply->req_id);
    }
    v.add_max(s.global_max);
    std::vector<NamedValue64> view = v.view();
    w.add(XsGlobal{view});
}

// What a reader infers for an output message without XS_CONNECTION: a
// reply unless it is a watch event (a partly written one counts as a reply).
bool inferred(const OutMessage& m, bool partial) {
    bool event = !partial && messages::is_watch_event(m.bytes);
    return m.reply == !event && m.source == XsConnection::kNoDomain;
}

void add_connection_ext(Writer& w, const Connection& c, std::uint32_t id, std::string_view more_in) {
    Values v;
    std::uint64_t flags = (c.ignored ? names::kIgnored : 0) | (c.input_paused ? names::kInputPaused : 0);
    if (flags) v.add(std::string(names::kConnFlags), flags);
    if (c.last_tx_id) v.add(std::string(names::kLastTxId), c.last_tx_id);
    std::vector<XsConnection::OutInfo> info;
    bool needed = !v.items.empty() || !more_in.empty();
    for (std::size_t i = 0; i < c.output.size(); ++i) {
        const OutMessage& m = c.output[i];
        info.push_back(XsConnection::OutInfo{m.reply, m.source});
        needed |= !inferred(m, i == 0 && c.first_partial);
    }
    if (!needed) return;
    std::vector<NamedValue64> view = v.view();
    w.add(XsConnection{id, view, more_in, info});
}

Expected<void, std::string> add_connection(Writer& w, const Connection& c, std::uint32_t id) {
    std::string_view in = c.input;
    if (in.size() > kMaxIn && w.options().version < kVersion2)
        return unexpected("a connection has " + std::to_string(in.size()) +
                          " bytes of unprocessed input, more than a version-1 stream can carry");
    std::string out;
    for (const OutMessage& m : c.output) out += m.bytes;
    ConnectionData d;
    d.conn_id = id;
    d.kind = c.kind == Connection::Kind::Ring ? ConnectionData::Kind::Ring : ConnectionData::Kind::Socket;
    d.domid = c.domid;
    d.target = c.target.value_or(kDomidInvalid);
    d.evtchn = c.port;
    d.fd = c.fd;
    d.in = in.substr(0, kMaxIn);
    d.out = out;
    d.out_partial = c.first_partial && !c.output.empty() ? static_cast<std::uint32_t>(c.output[0].bytes.size()) : 0;
    if (c.kind == Connection::Kind::Ring && w.options().version >= kVersion2) d.unique_id = c.unique_id;
    w.add(d);
    add_connection_ext(w, c, id, in.size() > kMaxIn ? in.substr(kMaxIn) : std::string_view());
    for (const Watch& watch : c.watches) {
        WatchData wd{id, watch.path, watch.token, std::nullopt};
        if (watch.depth >= 0) wd.depth = static_cast<std::uint16_t>(std::min(watch.depth, 0xFFFF));
        w.add(wd);
    }
    for (const Transaction& t : c.transactions) w.add(TransactionData{id, t.id});
    return {};
}

// Depth-first from "/", children in name order, then the special nodes.
void add_nodes(Writer& w, const store::Node* n, std::string& path) {
    w.add(NodeData{0, 0, path, n->value(), 0, n->perms->entries()});
    std::size_t len = path.size();
    n->children().for_each([&](const store::Node* c) {
        if (len > 1) path += '/';
        path += c->name();
        add_nodes(w, c, path);
        path.resize(len);
        return true;
    });
}

void add_tree(Writer& w, const store::Tree& t) {
    std::string path = "/";
    add_nodes(w, t.root(), path);
    for (std::string_view special : {store::kReleaseDomain, store::kIntroduceDomain}) {
        const store::Node* n = t.lookup(special);
        w.add(NodeData{0, 0, special, n->value(), 0, n->perms->entries()});
    }
}

// The transaction's view as nodes that differ from the committed tree,
// each marked with what the transaction did to it.
void add_pending(Writer& w, const store::Tree& committed, const Transaction& t, std::uint32_t conn) {
    std::unordered_map<std::string_view, std::uint16_t> access;
    for (const store::Transaction::Logged& l : t.image.log)
        access[l.path] |= l.op == store::Transaction::Op::Fetch ? NodeData::kAccessRead : NodeData::kAccessWritten;
    store::diff(committed, t.image.view, [&](std::string_view path, const store::Node* n) {
        if (!n) {
            w.add(NodeData{conn, t.id, path, {}, 0, {}});
            return;
        }
        auto it = access.find(path);
        // A node it never named differs only because its snapshot is older:
        // that is what it would read.
        std::uint16_t a = it == access.end() ? NodeData::kAccessRead : it->second;
        w.add(NodeData{conn, t.id, path, n->value(), a, n->perms->entries()});
    });
}

void add_log(Writer& w, const Transaction& t, std::uint32_t conn) {
    const store::Transaction::Image& img = t.image;
    std::vector<XsTransaction::Entry> entries;
    for (const store::Transaction::Logged& l : img.log) {
        XsTransaction::Entry e;
        e.op = static_cast<XsTransaction::Op>(l.op);
        e.need = l.need;
        e.kind = static_cast<std::uint8_t>(l.kind);
        e.code = l.code;
        e.digest = l.digest;
        e.path = l.path;
        e.value = l.value;
        if (l.perms) e.perms = l.perms->entries();
        entries.push_back(e);
    }
    std::vector<XsTransaction::Delta> deltas;
    for (const store::OwnerDelta& d : img.deltas.items()) deltas.push_back(XsTransaction::Delta{d.domid, d.nodes, d.bytes});
    XsTransaction x;
    x.conn_id = conn;
    x.tx_id = t.id;
    x.failure = img.failure;
    x.flags = img.changed ? XsTransaction::kFlagChanged : 0;
    x.entries = entries;
    x.deltas = deltas;
    w.add(x);
}

void add_domain(Writer& w, const Domain& d) {
    std::vector<NamedValue> q = named(d.quotas);
    w.add(DomainData{d.id, d.features, q});
    Values v;
    if (d.shutdown_noticed) v.add(std::string(names::kDomainFlags), names::kShutdownNoticed);
    if (d.unique_id) v.add(std::string(names::kUniqueId), d.unique_id);
    if (d.credit) {
        v.add(std::string(names::kCreditMicro), static_cast<std::uint64_t>(std::llround(*d.credit * 1e6)));
        v.add(std::string(names::kCreditTime), static_cast<std::uint64_t>(d.credit_time_ns));
    }
    v.add_max(d.max_seen);
    if (v.items.empty()) return;
    std::vector<NamedValue64> view = v.view();
    w.add(XsDomain{d.id, view});
}

}  // namespace

Expected<std::string, std::string> encode(const State& s, const WriterOptions& opts, std::string buffer) {
    Writer w(opts, std::move(buffer));
    add_global(w, s);
    std::uint32_t id = 0;
    for (const Connection& c : s.connections)
        if (auto ok = add_connection(w, c, ++id); !ok) return unexpected(ok.error());
    add_tree(w, s.tree);
    id = 0;
    for (const Connection& c : s.connections) {
        ++id;
        for (const Transaction& t : c.transactions) {
            add_pending(w, s.tree, t, id);
            add_log(w, t, id);
        }
    }
    for (const Domain& d : s.domains) add_domain(w, d);
    if (!w.error().empty()) return unexpected(w.error());
    return w.finish();
}

}  // namespace xs::migration
