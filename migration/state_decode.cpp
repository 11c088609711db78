// Stream -> State, checked completely before it is returned: references
// between records (a watch's connection, a pending node's transaction, a
// node's parent) must point back to records already read, ids must be
// unique, and a transaction's pending nodes must apply to the committed
// tree. Unknown record types and unknown names are skipped.
#include <cerrno>
#include <climits>
#include <cmath>
#include <map>
#include <set>

#include "migration/messages.hpp"
#include "migration/state.hpp"
#include "migration/state_names.hpp"
#include "store/path.hpp"
#include "store/tree_load.hpp"

namespace xs::migration {

namespace names {

std::optional<quota::Item> parse_max_name(std::string_view name) {
    if (!name.starts_with("max-")) return std::nullopt;
    for (quota::Item item : quota::kItems)
        if (quota::name(item) == name.substr(4)) return item;
    return std::nullopt;
}

}  // namespace names

namespace {

using Fail = Unexpected<ParseError>;

// A pending node, applied to its transaction's view once every committed
// node is in.
struct Pending {
    std::string_view path, value;
    std::vector<store::PermEntry> perms;  // empty: deleted in the transaction
    std::uint64_t offset;
};

struct TxSlot {
    std::size_t conn, tx;  // indexes into State::connections / ::transactions
    std::vector<Pending> pending;
    bool has_log = false;
};

class Decoder {
public:
    Decoder(Reader& r, DomId priv) : r_(r), priv_(priv) {
        s_.version = r.version();
        s_.tree = store::Tree::bare(priv, load_gen_);
    }
    Parsed<State> run();

private:
    Parsed<void> record(const Record& rec);
    Parsed<void> on(const GlobalData& g);
    Parsed<void> on(const ConnectionData& c);
    Parsed<void> on(const XsConnection& x);
    Parsed<void> on(const WatchData& w);
    Parsed<void> on(const TransactionData& t);
    Parsed<void> on(const NodeData& n);
    Parsed<void> on(const GlobalQuotaData& q);
    Parsed<void> on(const DomainData& d);
    Parsed<void> on(const XsDomain& x);
    Parsed<void> on(const XsGlobal& x);
    Parsed<void> on(const XsTransaction& x);
    Parsed<void> on(const UnknownRecord&) {
        ++s_.skipped_records;
        return {};
    }
    Parsed<void> finish_transactions();
    Parsed<void> finish_held_reply();
    Fail bad(std::string message) const { return unexpected(r_.error(std::move(message))); }
    Parsed<Connection*> connection(std::uint32_t id);
    Parsed<TxSlot*> transaction(std::uint32_t conn, std::uint32_t tx);
    Domain& domain(DomId id);

    Reader& r_;
    DomId priv_;
    State s_;
    std::string path_buf_;
    std::uint64_t load_gen_ = 0;  // generations of the nodes loaded
    std::optional<std::uint32_t> held_conn_, held_req_;
    std::uint64_t held_offset_ = 0;
    store::TreeLoader* loader_ = nullptr;
    bool seen_global_ = false;
    std::map<std::uint32_t, std::size_t> conns_;  // stream id -> index
    std::set<DomId> ring_domains_;
    std::set<std::int32_t> socket_fds_;
    std::map<std::pair<std::uint32_t, std::uint32_t>, TxSlot> txs_;
    std::map<DomId, std::size_t> domains_;
    std::set<DomId> domain_data_seen_, domain_ext_seen_;
    std::set<std::uint32_t> conn_ext_seen_;
};

Parsed<State> Decoder::run() {
    store::Tally before;
    before.merge(s_.tree.tally());  // the empty tree's own nodes
    store::TreeLoader loader(s_.tree, load_gen_);
    loader_ = &loader;
    for (;;) {
        Parsed<std::optional<Record>> rec = r_.next();
        if (!rec) return unexpected(rec.error());
        if (!*rec) break;
        if (auto ok = record(**rec); !ok) return unexpected(ok.error());
    }
    loader_ = nullptr;
    before.merge(loader.changes().deltas());
    s_.tally = before.deltas();
    if (auto ok = finish_transactions(); !ok) return unexpected(ok.error());
    if (auto ok = finish_held_reply(); !ok) return unexpected(ok.error());
    // Loaded nodes got new generations; the counter goes on above them and
    // above the one the stream carried.
    s_.generation = std::max(s_.generation, load_gen_);
    return std::move(s_);
}

Parsed<void> Decoder::record(const Record& rec) {
    return std::visit([&](const auto& r) { return on(r); }, rec);
}

Parsed<void> Decoder::on(const GlobalData& g) {
    if (seen_global_) return bad("a second GLOBAL_DATA record");
    seen_global_ = true;
    s_.global = g;
    return {};
}

Parsed<Connection*> Decoder::connection(std::uint32_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return bad("connection " + std::to_string(id) + " not seen before");
    return &s_.connections[it->second];
}

Parsed<void> Decoder::on(const ConnectionData& d) {
    if (d.conn_id == 0) return bad("connection id 0");
    if (conns_.contains(d.conn_id)) return bad("connection " + std::to_string(d.conn_id) + " seen twice");
    Connection c;
    if (d.kind == ConnectionData::Kind::Ring) {
        if (!ring_domains_.insert(d.domid).second) return bad("a second ring connection for domain " + std::to_string(d.domid));
        c.kind = Connection::Kind::Ring;
        c.domid = d.domid;
        if (d.target != kDomidInvalid) c.target = d.target;
        c.port = d.evtchn;
        c.unique_id = d.unique_id;
    } else if (d.kind == ConnectionData::Kind::Socket) {
        if (d.fd < 0) return bad("socket connection without a file descriptor");
        if (!socket_fds_.insert(d.fd).second) return bad("file descriptor " + std::to_string(d.fd) + " used twice");
        c.fd = d.fd;
    } else {
        return bad("unknown connection type " + std::to_string(static_cast<unsigned>(d.kind)));
    }
    c.input.assign(d.in);
    auto pieces = messages::split(d.out, d.out_partial);
    if (!pieces) return bad("output data is not a sequence of whole messages");
    for (std::size_t i = 0; i < pieces->size(); ++i) {
        bool partial = i == 0 && d.out_partial;
        c.output.push_back(OutMessage{std::string((*pieces)[i]), partial || !messages::is_watch_event((*pieces)[i]),
                                      XsConnection::kNoDomain});
    }
    c.first_partial = d.out_partial != 0;
    conns_.emplace(d.conn_id, s_.connections.size());
    s_.connections.push_back(std::move(c));
    return {};
}

Parsed<void> Decoder::on(const XsConnection& x) {
    auto c = connection(x.conn_id);
    if (!c) return unexpected(c.error());
    if (!conn_ext_seen_.insert(x.conn_id).second) return bad("a second XS_CONNECTION for one connection");
    if (x.out.size() != (*c)->output.size()) return bad("output descriptions do not match the output messages");
    for (std::size_t i = 0; i < x.out.size(); ++i) {
        (*c)->output[i].reply = x.out[i].reply;
        (*c)->output[i].source = x.out[i].source;
    }
    (*c)->input.append(x.more_in);
    for (const NamedValue64& v : x.values) {
        if (v.name == names::kConnFlags) {
            (*c)->ignored = v.value & names::kIgnored;
            (*c)->input_paused = v.value & names::kInputPaused;
        }
        else if (v.name == names::kLastTxId) (*c)->last_tx_id = static_cast<std::uint32_t>(v.value);
    }
    return {};
}

Parsed<void> Decoder::on(const WatchData& w) {
    auto c = connection(w.conn_id);
    if (!c) return unexpected(c.error());
    store::PathRules rules;
    rules.home = (*c)->kind == Connection::Kind::Ring ? (*c)->domid : priv_;
    rules.allow_special = true;
    if (!store::canonicalize(path_buf_, w.path, rules)) return bad("bad watch path \"" + std::string(w.path) + "\"");
    for (const Watch& o : (*c)->watches)
        if (o.path == w.path && o.token == w.token) return bad("the same watch twice");
    int depth = !w.depth || *w.depth == kDepthUnlimited ? -1 : *w.depth;
    (*c)->watches.push_back(Watch{std::string(w.path), std::string(w.token), depth});
    return {};
}

Parsed<TxSlot*> Decoder::transaction(std::uint32_t conn, std::uint32_t tx) {
    auto it = txs_.find({conn, tx});
    if (it == txs_.end())
        return bad("transaction " + std::to_string(tx) + " of connection " + std::to_string(conn) + " not seen before");
    return &it->second;
}

Parsed<void> Decoder::on(const TransactionData& t) {
    auto c = connection(t.conn_id);
    if (!c) return unexpected(c.error());
    if (t.tx_id == 0) return bad("transaction id 0");
    if (txs_.contains({t.conn_id, t.tx_id})) return bad("transaction " + std::to_string(t.tx_id) + " seen twice");
    Connection& conn = **c;
    txs_.emplace(std::pair{t.conn_id, t.tx_id}, TxSlot{conns_.at(t.conn_id), conn.transactions.size(), {}, false});
    conn.transactions.push_back(Transaction{t.tx_id, {}});
    conn.last_tx_id = std::max(conn.last_tx_id, t.tx_id);
    return {};
}

Parsed<void> Decoder::on(const NodeData& n) {
    if (n.conn_id != 0) {
        auto slot = transaction(n.conn_id, n.tx_id);
        if (!slot) return unexpected(slot.error());
        (*slot)->pending.push_back(Pending{n.path, n.value, {n.perms.begin(), n.perms.end()}, r_.offset()});
        return {};
    }
    Result<> ok = loader_->put(n.path, n.value, n.perms);
    if (ok) return {};
    if (ok.error().code == ENOENT) return bad("the parent of node " + std::string(n.path) + " not seen before");
    return bad("node " + std::string(n.path) + " cannot be stored (bad path, value or permissions)");
}

Parsed<void> Decoder::on(const GlobalQuotaData& q) {
    for (const NamedValue& v : q.per_domain) s_.quotas.emplace_back(v.name, v.value);
    for (const NamedValue& v : q.global) s_.quotas.emplace_back(v.name, v.value);
    return {};
}

Domain& Decoder::domain(DomId id) {
    auto [it, inserted] = domains_.try_emplace(id, s_.domains.size());
    if (inserted) {
        s_.domains.emplace_back();
        s_.domains.back().id = id;
    }
    return s_.domains[it->second];
}

Parsed<void> Decoder::on(const DomainData& d) {
    if (!domain_data_seen_.insert(d.domid).second) return bad("domain " + std::to_string(d.domid) + " seen twice");
    Domain& dom = domain(d.domid);
    dom.features = d.features;
    for (const NamedValue& v : d.quotas) dom.quotas.emplace_back(v.name, v.value);
    return {};
}

void read_max(MaxUsage& m, const NamedValue64& v) {
    if (auto item = names::parse_max_name(v.name)) m[quota::index(*item)] = static_cast<std::int64_t>(v.value);
}

Parsed<void> Decoder::on(const XsDomain& x) {
    if (!domain_ext_seen_.insert(x.domid).second) return bad("domain " + std::to_string(x.domid) + " seen twice");
    Domain& dom = domain(x.domid);
    for (const NamedValue64& v : x.values) {
        if (v.name == names::kDomainFlags) dom.shutdown_noticed = v.value & names::kShutdownNoticed;
        else if (v.name == names::kUniqueId) dom.unique_id = v.value;
        else if (v.name == names::kCreditMicro) dom.credit = static_cast<double>(static_cast<std::int64_t>(v.value)) / 1e6;
        else if (v.name == names::kCreditTime) dom.credit_time_ns = static_cast<std::int64_t>(v.value);
        else read_max(dom.max_seen, v);
    }
    return {};
}

Parsed<void> Decoder::on(const XsGlobal& x) {
    s_.from_xstored = true;
    for (const NamedValue64& v : x.values) {
        if (v.name == names::kGeneration) s_.generation = v.value;
        else if (v.name == names::kLiveUpdates) s_.live_updates = v.value;
        else if (v.name == names::kRequests) s_.requests = v.value;
        else if (v.name == names::kQuotaRefusals) s_.quota_refusals = v.value;
        else if (v.name == names::kStartedNs) s_.started_ns = static_cast<std::int64_t>(v.value);
        else if (v.name == names::kHeldReplyConn) held_conn_ = static_cast<std::uint32_t>(v.value), held_offset_ = r_.offset();
        else if (v.name == names::kHeldReplyReq) held_req_ = static_cast<std::uint32_t>(v.value);
        else read_max(s_.global_max, v);
    }
    return {};
}

Parsed<void> Decoder::on(const XsTransaction& x) {
    auto slot = transaction(x.conn_id, x.tx_id);
    if (!slot) return unexpected(slot.error());
    if ((*slot)->has_log) return bad("a second log for one transaction");
    (*slot)->has_log = true;
    store::Transaction::Image& img = s_.connections[(*slot)->conn].transactions[(*slot)->tx].image;
    img.failure = x.failure;
    img.changed = x.flags & XsTransaction::kFlagChanged;
    // Net changes of one transaction: one per owner, and within what a
    // store can hold (the daemon adds them to its accounts).
    constexpr std::int64_t kMaxBytes = std::int64_t{1} << 48;
    std::set<DomId> owners;
    for (const XsTransaction::Delta& d : x.deltas) {
        if (!owners.insert(d.domid).second) return bad("two deltas for one owner in a transaction log");
        if (d.nodes < INT32_MIN || d.nodes > INT32_MAX || d.bytes < -kMaxBytes || d.bytes > kMaxBytes)
            return bad("a transaction's net change is out of range");
        img.deltas.add(d.domid, static_cast<std::int32_t>(d.nodes), d.bytes);
    }
    for (const XsTransaction::Entry& e : x.entries) {
        if (e.kind > static_cast<std::uint8_t>(store::ReadKind::Perms)) return bad("unknown read kind in a log entry");
        store::Transaction::Logged l{static_cast<store::Transaction::Op>(e.op), e.need,
                                     static_cast<store::ReadKind>(e.kind), e.code, e.digest, std::string(e.path),
                                     std::string(e.value), {}};
        if (!e.perms.empty()) l.perms = store::make_perms(e.perms);
        img.log.push_back(std::move(l));
    }
    // Digests of another kind cannot be compared: the commit can only fail.
    if (x.digest_kind != XsTransaction::kDigestFnv1a && !img.failure) img.failure = EAGAIN;
    return {};
}

// Each transaction's view: the committed tree with its pending nodes. A
// transaction without a log (a stream from another daemon) cannot be
// replayed at commit: it fails with EAGAIN, which clients retry.
Parsed<void> Decoder::finish_transactions() {
    for (auto& [key, slot] : txs_) {
        store::Transaction::Image& img = s_.connections[slot.conn].transactions[slot.tx].image;
        img.view = s_.tree;
        store::TreeLoader view(img.view, load_gen_);
        for (const Pending& p : slot.pending) {
            Result<> ok = p.perms.empty() ? view.remove(p.path) : view.put(p.path, p.value, p.perms);
            if (!ok)
                return unexpected(ParseError{"pending node " + std::string(p.path) + " of transaction " +
                                                 std::to_string(key.second) + " does not fit the committed tree",
                                             static_cast<std::uint32_t>(RecordType::NodeData), p.offset});
        }
        if (!slot.has_log) {
            img.failure = EAGAIN;
            img.changed = true;
        }
    }
    return {};
}

// XS_GLOBAL came before the connections: the reply it names is checked
// once everything is in (a connection's, the last of its output).
Parsed<void> Decoder::finish_held_reply() {
    if (!held_conn_ || !held_req_) return {};
    auto it = conns_.find(*held_conn_);
    if (it == conns_.end() || s_.connections[it->second].output.empty())
        return unexpected(ParseError{"the held reply's connection " + std::to_string(*held_conn_) + " has no output",
                                     static_cast<std::uint32_t>(RecordType::XsGlobal), held_offset_});
    s_.held_reply = State::HeldReply{static_cast<std::uint32_t>(it->second), *held_req_};
    return {};
}

}  // namespace

Parsed<State> decode(std::string_view stream, DomId priv) {
    Parsed<Reader> r = Reader::open(stream);
    if (!r) return unexpected(r.error());
    Decoder d(*r, priv);
    return d.run();
}

}  // namespace xs::migration
