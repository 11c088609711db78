#include "tests/differential/episode.hpp"

#include <charconv>
#include <cstdlib>

#include "transport/wire.hpp"

namespace xs::diff {

namespace {

std::optional<DomId> domid_arg(const Step& s, std::size_t i) {
    auto args = strings_of(s.payload.literal());
    if (args.size() <= i) return std::nullopt;
    unsigned v = 0;
    auto [end, ec] = std::from_chars(args[i].data(), args[i].data() + args[i].size(), v);
    if (ec != std::errc() || end != args[i].data() + args[i].size() || v >= kDomidFirstReserved) return std::nullopt;
    return static_cast<DomId>(v);
}

std::optional<DomId> first_domid(const Step& s) { return domid_arg(s, 0); }

// Keys of transactions started without a handle: far from any handle.
constexpr std::uint32_t kUnboundKey = 3u << 30;

// TRANSACTION_END refuses a payload other than "T" or "F" (EINVAL) before
// it looks at the transaction, which stays open (cxenstored.md 3.2).
bool ends_transaction(const Step& s) {
    std::string p = s.payload.literal();
    return p == std::string_view("T\0", 2) || p == std::string_view("F\0", 2);
}

}  // namespace

std::vector<std::string> Episode::changed_paths(const TxInfo& t) const {
    std::vector<std::string> out;
    for (std::size_t i : t.requests)
        if (modifies(steps[i].type) && (replies[i].first.ok() || replies[i].second.ok()))
            out.push_back(request_path(steps[i]));
    return out;
}

bool modifies(std::uint32_t type) {
    switch (type) {
        case wire::kWrite:
        case wire::kMkdir:
        case wire::kRm:
        case wire::kSetPerms: return true;
        default: return false;
    }
}

const TxInfo* Episode::tx_of(const Step& s) const {
    if (!s.is_request() || s.tx.kind == TxRef::Kind::None) return nullptr;
    std::uint32_t id = s.tx.value;
    if (s.tx.kind == TxRef::Kind::Handle) {
        auto it = txs.find(s.tx.value);
        if (it == txs.end()) return nullptr;
        id = it->second.x_id;
    }
    for (const auto& [h, t] : txs)
        if (t.open && t.conn == s.conn && t.x_id == id) return &t;
    return nullptr;
}

void Episode::committed_change(const std::vector<std::string>& paths, bool anywhere) {
    for (auto& [h, t] : txs) {
        if (!t.open) continue;
        t.outside_change = true;
        t.outside_anywhere = t.outside_anywhere || anywhere;
        t.outside_paths.insert(t.outside_paths.end(), paths.begin(), paths.end());
    }
}

void Episode::quota_change() {
    for (auto& [h, t] : txs)
        if (t.open) t.quota_change = true;
}

void Episode::end_transactions(const ConnRef& c) {
    for (auto& [h, t] : txs)
        if (t.conn == c) t.open = false;
    open_txs.erase(c);
}

// The connection's watches and transactions are gone (closed, reset,
// released); a connection that ended starts its transaction ids afresh.
void Episode::conn_gone(const ConnRef& c, bool ended) {
    end_transactions(c);
    watches.erase(c);
    if (ended) tx_id_shift.erase(c);
}

// Watch and transaction counts and quota values both daemons agree on.
void Episode::count(const Step& s, bool both_ok) {
    auto a = strings_of(s.payload.literal());
    switch (s.type) {
        case wire::kWatch: watches[s.conn] += both_ok; break;
        case wire::kUnwatch: watches[s.conn] -= both_ok; break;
        case wire::kTransactionStart: open_txs[s.conn] += both_ok; break;
        case wire::kTransactionEnd:
            if (tx_of(s) && ends_transaction(s)) --open_txs[s.conn];
            break;
        case wire::kControl:
            if (both_ok && a.size() == 4 && a[0] == "quota" && a[1] == "set") {
                quota_set = true;
                quotas[a[2]] = std::atol(a[3].c_str());
            }
            break;
        default: break;
    }
}

void Episode::domain_gone(DomId d) {
    for (auto& [h, t] : txs)
        if (t.open) t.domain_died = true;
    destroyed.insert(d);
    introduced.erase(d);
    newer_named.erase(d);
    committed_change({}, true);
    conn_gone(ConnRef{ConnRef::Kind::Guest, d}, true);
    std::erase_if(targets, [&](const auto& t) { return t.first == d || t.second == d; });
}

void Episode::record(const Step& s, const Outcome& x, const Outcome& c) {
    steps.push_back(s);
    replies.emplace_back(x.reply, c.reply);
    switch (s.kind) {
        case Step::Kind::Request: record_request(s, x.reply, c.reply); return;
        case Step::Kind::Create:
            hosted.insert(s.domid);
            shut_down.erase(s.domid);
            return;
        case Step::Kind::Shutdown: shut_down.insert(s.domid); return;
        case Step::Kind::Destroy:
            hosted.erase(s.domid);
            shut_down.erase(s.domid);
            domain_gone(s.domid);
            return;
        case Step::Kind::Open:  // a socket opened again is a new connection
        case Step::Kind::Close:
        case Step::Kind::Oversize: conn_gone(s.conn, true); return;
        default: return;
    }
}

void Episode::record_request(const Step& s, const Reply& x, const Reply& c) {
    std::size_t index = steps.size() - 1;
    bool ok = x.ok() || c.ok();
    if (auto* t = const_cast<TxInfo*>(tx_of(s))) t->requests.push_back(index);
    if (s.type >= wire::kGetFeature && s.type <= wire::kSetQuota)
        if (auto d = first_domid(s)) newer_named.insert(*d);
    count(s, x.ok() && c.ok());
    if (x.status == Reply::Status::Closed || x.status == Reply::Status::RingError) conn_gone(s.conn, true);
    switch (s.type) {
        case wire::kTransactionStart: return tx_started(s, x, c, index);
        case wire::kTransactionEnd:
            if (auto* t = const_cast<TxInfo*>(tx_of(s)); t && ends_transaction(s)) {
                t->open = false;
                if (ok && s.payload.literal() == std::string_view("T\0", 2)) committed_change(changed_paths(*t));
            }
            return;
        case wire::kResetWatches:
            if (ok) conn_gone(s.conn, false);
            return;
        case wire::kRelease:
            if (auto d = first_domid(s); d && ok) domain_gone(*d);
            return;
        case wire::kSetQuota:
            if (x.ok()) quota_change();
            return;
        case wire::kControl: {
            auto a = strings_of(s.payload.literal());
            if (ok && a.size() >= 2 && a[0].starts_with("quota") && a[1] == "set") quota_change();
            return;
        }
        case wire::kSetPerms: perms_set(s, x, c); break;
        case wire::kResume:
            if (auto d = first_domid(s); d && ok && shut_down.count(*d)) resumed_shut_down = true;
            return;
        case wire::kSetTarget:
            if (auto d = domid_arg(s, 0), t = domid_arg(s, 1); d && t && c.ok()) targets.insert({*d, *t});
            return;
        case wire::kIntroduce:  // a live domain introduced again loses its watches and transactions
            if (auto d = first_domid(s); d && ok) conn_gone(ConnRef{ConnRef::Kind::Guest, *d}, false);
            if (auto d = first_domid(s); d && x.ok()) introduced.insert(*d);
            return;
        default: break;
    }
    if (modifies(s.type) && ok && s.tx.kind == TxRef::Kind::None) committed_change({request_path(s)});
}

void Episode::tx_started(const Step& s, const Reply& x, const Reply& c, std::size_t index) {
    if (!x.ok() || !c.ok() || s.tx.kind != TxRef::Kind::None) return;
    TxInfo t;
    t.conn = s.conn;
    t.x_id = static_cast<std::uint32_t>(std::strtoul(x.payload.c_str(), nullptr, 10));
    t.start = index;
    // One started without a handle is still named by raw ids.
    txs[s.bind ? *s.bind : kUnboundKey + static_cast<std::uint32_t>(index)] = t;
}

// The owner of "/" as the C daemon read it, and the domains an entry names
// (xstored gives those the hypervisor has a record).
void Episode::perms_set(const Step& s, const Reply& x, const Reply& c) {
    auto a = strings_of(s.payload.literal());
    if (c.ok() && a.size() >= 2 && a[0] == "/" && a[1].size() >= 2) root_owner = std::strtol(a[1].c_str() + 1, nullptr, 0);
    for (std::size_t i = 1; x.ok() && i < a.size(); ++i) {
        long d = a[i].size() >= 2 ? std::strtol(a[i].c_str() + 1, nullptr, 0) : -1;
        if (d >= 0 && d < kDomidFirstReserved) newer_named.insert(static_cast<DomId>(d));
    }
}

}  // namespace xs::diff
