#include "tests/differential/gen.hpp"

#include <algorithm>

#include "transport/wire.hpp"

namespace xs::diff {

namespace {

std::string nul(std::string s) {
    s.push_back('\0');
    return s;
}

bool both_ok(const Outcome& x, const Outcome& c) { return x.reply.ok() && c.reply.ok(); }

}  // namespace

Generator::Generator(std::uint64_t seed) : rng_(seed) { sockets_.insert(0); }

// What a toolstack does for a new guest before introducing it.
std::vector<Step> Generator::make_home(DomId d) {
    ConnRef s0{ConnRef::Kind::Socket, 0};
    std::string home = "/local/domain/" + std::to_string(d);
    std::string id = std::to_string(d);
    return {req(s0, wire::kWrite, nul(home)), req(s0, wire::kSetPerms, nul(home) + nul("n0") + nul("r" + id)),
            req(s0, wire::kWrite, nul(home + "/domid") + id), req(s0, wire::kWrite, nul(home + "/data")),
            req(s0, wire::kSetPerms, nul(home + "/data") + nul("n" + id)), introduce(d)};
}

void Generator::prologue() {
    std::deque<Step>& out = pending_;
    ConnRef s0{ConnRef::Kind::Socket, 0};
    for (DomId d : kGuests) {
        Step create;
        create.kind = Step::Kind::Create;
        create.domid = d;
        out.push_back(create);
        auto home = make_home(d);
        out.insert(out.end(), home.begin(), home.end());
    }
    out.push_back(req(s0, wire::kWrite, nul("/t/a") + "1"));
    out.push_back(req(s0, wire::kSetPerms, nul("/t") + nul("n0") + nul("b1") + nul("r2")));
}

Step Generator::next() {
    // Weights per area, in tenths of a percent.
    static constexpr std::pair<int, Step (Generator::*)()> kAreas[] = {
        {430, &Generator::node_op},   {120, &Generator::watch_op},  {130, &Generator::tx_op},
        {60, &Generator::domain_op},  {25, &Generator::host_op},    {40, &Generator::newer_op},
        {30, &Generator::control_op}, {150, &Generator::bad_op},    {15, &Generator::conn_op},
    };
    if (!pending_.empty()) {
        Step s = pending_.front();
        pending_.pop_front();
        return s;
    }
    if (!sockets_.count(0)) {  // the toolstack's socket comes back first
        Step open;
        open.kind = Step::Kind::Open;
        open.conn = {ConnRef::Kind::Socket, 0};
        return open;
    }
    int total = 0;
    for (const auto& a : kAreas) total += a.first;
    int roll = static_cast<int>(below(static_cast<std::size_t>(total)));
    for (const auto& a : kAreas) {
        if (roll < a.first) return (this->*a.second)();
        roll -= a.first;
    }
    return node_op();
}

// ---------------------------------------------------------------- the model

void Generator::observe(const Step& s, const Outcome& x, const Outcome& c) {
    bool ok = both_ok(x, c);
    auto args = strings_of(s.payload.literal());
    auto forget_conn = [&](const ConnRef& conn) {
        std::erase_if(txs_, [&](const Tx& t) { return t.conn == conn; });
        std::erase_if(watches_, [&](const Watch& w) { return w.conn == conn; });
    };
    switch (s.kind) {
        case Step::Kind::Create:
            guests_[s.domid] = Guest{x.reply.status == Reply::Status::Done && c.reply.status == Reply::Status::Done};
            // A toolstack sets it up; sometimes nobody does (and during the prologue it is queued already).
            if (guests_[s.domid].created && pending_.empty() && chance(0.8)) {
                auto home = make_home(s.domid);
                pending_.insert(pending_.end(), home.begin(), home.end());
            }
            return;
        case Step::Kind::Destroy:
            guests_.erase(s.domid);
            forget_conn(ConnRef{ConnRef::Kind::Guest, s.domid});
            return;
        case Step::Kind::Shutdown: return;
        case Step::Kind::Open: sockets_.insert(s.conn.index); return;
        case Step::Kind::Close:
        case Step::Kind::Oversize:
            forget_conn(s.conn);
            if (s.conn.kind == ConnRef::Kind::Socket) sockets_.erase(s.conn.index);
            if (s.conn.kind == ConnRef::Kind::Guest) guests_[s.conn.domid()].ignored = true;
            return;
        case Step::Kind::Request: break;
    }
    if (x.reply.status == Reply::Status::Closed && s.conn.kind == ConnRef::Kind::Socket) {
        forget_conn(s.conn);
        sockets_.erase(s.conn.index);
    }
    if (x.reply.status == Reply::Status::NotSent && s.conn.kind == ConnRef::Kind::Guest)
        guests_[s.conn.domid()].introduced = false;
    switch (s.type) {
        case wire::kTransactionStart:
            if (ok && s.bind) txs_.push_back({s.conn, *s.bind});
            return;
        case wire::kTransactionEnd:
            std::erase_if(txs_, [&](const Tx& t) { return s.tx.kind == TxRef::Kind::Handle && t.handle == s.tx.value; });
            return;
        case wire::kWatch:
            if (ok && args.size() >= 2) watches_.push_back({s.conn, args[0], args[1]});
            return;
        case wire::kUnwatch:
            std::erase_if(watches_, [&](const Watch& w) {
                return ok && w.conn == s.conn && args.size() >= 2 && w.path == args[0] && w.token == args[1];
            });
            return;
        case wire::kResetWatches:
            if (ok) forget_conn(s.conn);
            return;
        default: break;
    }
    if ((s.type == wire::kIntroduce || s.type == wire::kRelease) && ok && !args.empty()) {
        for (auto& [d, g] : guests_) {
            if (std::to_string(d) != args[0]) continue;
            g.introduced = s.type == wire::kIntroduce;
            if (s.type == wire::kRelease) forget_conn(ConnRef{ConnRef::Kind::Guest, d});
        }
    }
}

std::vector<ConnRef> Generator::live_conns() const {
    std::vector<ConnRef> out;
    for (std::uint32_t s : sockets_) out.push_back({ConnRef::Kind::Socket, s});
    out.push_back({ConnRef::Kind::Dom0Ring, 0});
    for (const auto& [d, g] : guests_)
        if (g.introduced && !g.ignored) out.push_back({ConnRef::Kind::Guest, d});
    return out;
}

// ---------------------------------------------------------------- ingredients

// Guests more often than dom0: their permissions and quotas are where the
// daemons differ most.
ConnRef Generator::any_conn() {
    std::vector<ConnRef> all = live_conns();
    std::vector<ConnRef> guests;
    for (const auto& c : all)
        if (c.kind == ConnRef::Kind::Guest) guests.push_back(c);
    if (!guests.empty() && chance(0.55)) return pick(guests);
    return pick(all);
}

ConnRef Generator::privileged_conn() {
    if (chance(0.1)) return {ConnRef::Kind::Dom0Ring, 0};
    std::vector<ConnRef> socks;
    for (std::uint32_t s : sockets_) socks.push_back({ConnRef::Kind::Socket, s});
    return pick(socks);
}

TxRef Generator::tx_for(const ConnRef& c) {
    std::vector<std::uint32_t> mine;
    for (const Tx& t : txs_)
        if (t.conn == c) mine.push_back(t.handle);
    if (!mine.empty() && chance(0.45)) return TxRef{TxRef::Kind::Handle, pick(mine)};
    return {};
}

Step Generator::req(const ConnRef& c, std::uint32_t type, std::string payload, TxRef tx) {
    return request(c, type, tx, std::move(payload));
}

Step Generator::introduce(DomId d) {
    Step s = req({ConnRef::Kind::Socket, 0}, wire::kIntroduce, nul(std::to_string(d)));
    s.payload.append_gfn(d);
    s.payload.append(std::string(1, '\0'));
    s.payload.append_port(d);
    s.payload.append(std::string(1, '\0'));
    return s;
}

DomId Generator::some_domid() {
    static const std::vector<DomId> kOthers = {0, 7, 32751, 32752, 32757};
    if (chance(0.8)) {
        std::vector<DomId> ds(std::begin(kGuests), std::end(kGuests));
        ds.insert(ds.end(), std::begin(kSpareGuests), std::end(kSpareGuests));
        return pick(ds);
    }
    return pick(kOthers);
}

// A number as a daemon might be sent it: mostly plain, sometimes with a
// leading zero, a sign, spaces, in hex, or far too big.
std::string Generator::number_text(std::uint64_t v) {
    if (!chance(0.06)) return std::to_string(v);
    switch (below(9)) {
        case 0: return "0" + std::to_string(v);
        case 1: return "+" + std::to_string(v);
        case 2: return "-" + std::to_string(v);
        case 3: return " " + std::to_string(v);
        case 4: return std::to_string(v) + " ";
        case 5: {
            char buf[24];
            std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
            return buf;
        }
        case 6: return std::to_string(v + 4294967296ull);
        case 7: return std::to_string(v) + "x";
        default: return "";
    }
}

std::string Generator::domid_text(DomId d) { return number_text(d); }

}  // namespace xs::diff
