// The generator's steps, area by area (see gen.hpp).
#include <algorithm>

#include "tests/differential/gen.hpp"
#include "transport/wire.hpp"

namespace xs::diff {

namespace {

std::string nul(std::string s) {
    s.push_back('\0');
    return s;
}

const std::vector<std::string> kNames = {"a", "b", "c", "x"};

}  // namespace

// ---------------------------------------------------------------- paths, values, permissions

std::string Generator::path_for(const ConnRef& c) {
    if (chance(0.05)) return odd_path();
    std::vector<DomId> guests(std::begin(kGuests), std::end(kGuests));
    DomId own = c.kind == ConnRef::Kind::Guest ? c.domid() : pick(guests);
    std::string home = "/local/domain/" + std::to_string(chance(0.8) ? own : pick(guests));
    std::string base;
    switch (below(10)) {
        case 0:
        case 1:
        case 2: base = "/t"; break;
        case 3:
        case 4: base = home + "/data"; break;
        case 5: base = home; break;
        case 6: base = chance(0.5) ? "data" : "x"; break;  // relative to the caller's home
        case 7: base = pick(std::vector<std::string>{"/", "/local", "/local/domain", "/tool/xenstored", "/tool"}); break;
        default: base = c.kind == ConnRef::Kind::Guest ? "data" : home + "/data"; break;
    }
    for (std::size_t n = below(3); n > 0; --n) base += (base == "/" ? "" : "/") + pick(kNames);
    return base;
}

std::string Generator::odd_path() {
    switch (below(14)) {
        case 0: return "";
        case 1: return "/t/";
        case 2: return "/t//a";
        case 3: return "/t/a.b";
        case 4: return "/t/a b";
        case 5: return "@introduceDomain";
        case 6: return "@releaseDomain";
        case 7: return "/t/" + std::string(2040 + below(20), 'l');
        case 8: return "/" + std::string(3000 + below(500), 'm');
        case 9: return "data/" + std::string(2038 + below(16), 'p');  // a guest's path-max boundary
        case 10: return "/local/domain/1/data/" + std::string(2038 + below(16), 'q');
        case 11: return "/t/\xff";
        case 12: return "/t/a\x01";
        default: return "//";
    }
}

std::string Generator::special_path() {
    static const std::vector<std::string> kSpecial = {
        "@introduceDomain", "@releaseDomain", "@releaseDomain/1", "@releaseDomain/2", "@releaseDomain/3",
        "@releaseDomain/99", "@introduceDomain/1", "@foo", "@", "@releaseDomain/abc", "@releaseDomain/"};
    return pick(kSpecial);
}

std::string Generator::value() {
    switch (below(20)) {
        case 0: return "";
        case 1: return std::string("b\0\x01\xff", 4);
        case 2: return std::string(1000 + below(1100), 'v');
        case 3: return std::string(3000 + below(1000), 'w');
        default: return "v" + std::to_string(below(100));
    }
}

std::string Generator::perm_entry(const ConnRef& c) {
    static const std::vector<std::string> kOdd = {"x", "R", "", "rw"};
    std::string letter = chance(0.95) ? std::string(1, "rwbn"[below(4)]) : pick(kOdd);
    DomId d;
    std::size_t roll = below(20);
    if (roll < 7 && c.kind == ConnRef::Kind::Guest) d = c.domid();
    else if (roll < 11) d = 0;
    else if (roll < 17) d = kGuests[below(std::size(kGuests))];
    else if (chance(0.9)) d = pick(std::vector<DomId>{7, 32752, 65535, 4});
    else d = 32757;  // DOMID_ANY: the episode ends once such an entry is stored (rule domid-any)
    return letter + number_text(d);
}

std::string Generator::perms_for(const ConnRef& c) {
    static const std::size_t kCounts[] = {1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7};
    std::size_t n = kCounts[below(std::size(kCounts))];
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += nul(perm_entry(c));
    return out;
}

// ---------------------------------------------------------------- areas

Step Generator::node_op() {
    ConnRef c = any_conn();
    TxRef tx = tx_for(c);
    std::string p = path_for(c);
    switch (below(11)) {
        case 0:
        case 1: return req(c, wire::kRead, nul(p), tx);
        case 2:
        case 3: {
            std::string v = value();
            v.resize(std::min(v.size(), wire::kPayloadMax - p.size() - 1));
            return req(c, wire::kWrite, nul(p) + v, tx);
        }
        case 4: return req(c, wire::kMkdir, nul(p), tx);
        case 5: return req(c, wire::kRm, nul(p), tx);
        case 6: return req(c, wire::kDirectory, nul(p), tx);
        case 7: {
            std::string off = chance(0.7) ? "0" : number_text(below(3) == 0 ? 100000 : below(12));
            return req(c, wire::kDirectoryPart, nul(p) + nul(off), tx);
        }
        case 8: return req(c, wire::kGetPerms, nul(chance(0.15) ? special_path() : p), tx);
        default: return req(c, wire::kSetPerms, nul(chance(0.08) ? special_path() : p) + perms_for(c), tx);
    }
}

Step Generator::watch_op() {
    ConnRef c = any_conn();
    std::vector<const Watch*> mine;
    for (const Watch& w : watches_)
        if (w.conn == c) mine.push_back(&w);
    std::size_t roll = below(10);
    if (roll < 2 && !mine.empty()) {
        const Watch* w = mine[below(mine.size())];
        return req(c, wire::kUnwatch, nul(w->path) + nul(w->token));
    }
    if (roll == 2) return req(c, wire::kUnwatch, nul(path_for(c)) + nul("t" + std::to_string(below(5))));
    if (roll == 3 && chance(0.3)) return req(c, wire::kResetWatches, "", tx_for(c));
    std::string path = chance(0.3) ? special_path() : path_for(c);
    std::string token = !mine.empty() && chance(0.1) ? mine[below(mine.size())]->token
                                                     : "t" + std::to_string(next_token_++);
    std::string payload = nul(path) + nul(token);
    if (chance(0.12)) payload += nul(chance(0.8) ? number_text(below(3)) : "-1");
    return req(c, wire::kWatch, payload, chance(0.05) ? TxRef{TxRef::Kind::Raw, 77} : TxRef{});
}

Step Generator::tx_op() {
    ConnRef c = any_conn();
    std::vector<std::uint32_t> mine;
    for (const Tx& t : txs_)
        if (t.conn == c) mine.push_back(t.handle);
    if (mine.empty() || chance(0.3)) {
        Step s = req(c, wire::kTransactionStart, chance(0.8) ? nul("") : "", !mine.empty() && chance(0.1)
                                                                                ? TxRef{TxRef::Kind::Handle, mine[0]}
                                                                                : TxRef{});
        s.bind = next_handle_++;
        return s;
    }
    TxRef tx{TxRef::Kind::Handle, pick(mine)};
    if (chance(0.06)) {
        static const std::vector<std::string> kBad = {"T", "X", "", "TF", "t"};
        std::string b = pick(kBad);
        return req(c, wire::kTransactionEnd, chance(0.5) ? nul(b) : b, tx);
    }
    return req(c, wire::kTransactionEnd, nul(chance(0.75) ? "T" : "F"), tx);
}

Step Generator::domain_op() {
    ConnRef c = chance(0.92) ? privileged_conn() : any_conn();
    DomId d = some_domid();
    std::string id = domid_text(d);
    switch (below(12)) {
        case 0:
        case 1:
        case 2: {
            Step s = introduce(d);
            s.conn = c;
            // A wrong port, frame or domid text, or missing/extra arguments. A live
            // domain introduced with another's port ends the episode (rule
            // foreign-port-introduce): that is kept rare.
            bool live = guests_.count(d) && guests_[d].introduced;
            if (chance(live ? 0.04 : 0.3)) {
                s.payload = Payload(nul(id) + nul(number_text(below(3) ? 0xfeffc : 7)));
                if (chance(0.7)) s.payload.append_port(kGuests[below(std::size(kGuests))]);
                else s.payload.append(number_text(below(2) ? 0 : 4000));
                s.payload.append(chance(0.85) ? std::string(1, '\0') : std::string("\0x\0", 3));
            }
            return s;
        }
        case 3:
        case 4: return req(c, wire::kRelease, nul(id));
        case 5: return req(c, wire::kResume, nul(id));
        case 6:
        case 7: return req(c, wire::kIsDomainIntroduced, nul(id));
        case 8:
        case 9: return req(any_conn(), wire::kGetDomainPath, nul(id));
        default: return req(c, wire::kSetTarget, nul(id) + nul(domid_text(some_domid())));
    }
}

Step Generator::host_op() {
    std::vector<DomId> created, free;
    for (DomId d : kGuests) (guests_.count(d) ? created : free).push_back(d);
    for (DomId d : kSpareGuests) (guests_.count(d) ? created : free).push_back(d);
    Step s;
    if (!free.empty() && (created.empty() || chance(0.4))) {
        s.kind = Step::Kind::Create;
        s.domid = pick(free);
        return s;
    }
    s.domid = pick(created);
    if (chance(0.4)) {
        static const std::vector<std::uint32_t> kReasons = {0, 1, 2, 3, 4};  // poweroff .. watchdog
        s.kind = Step::Kind::Shutdown;
        s.arg = pick(kReasons);
        return s;
    }
    s.kind = Step::Kind::Destroy;
    s.arg = chance(0.15) ? 1 : 0;
    return s;
}

Step Generator::newer_op() {
    static const std::vector<std::string> kQuotas = {
        "nodes", "watches", "transactions", "outstanding", "memory", "soft-memory", "transaction-nodes",
        "node-permissions", "permissions", "path-max", "node-size", "bogus", "", "soft-nodes"};
    ConnRef c = chance(0.85) ? privileged_conn() : any_conn();
    std::string id = domid_text(some_domid());
    std::string value = number_text(below(4) ? below(6) : 100);
    switch (below(9)) {
        case 0: return req(any_conn(), wire::kGetFeature, "");
        case 1: return req(c, wire::kGetFeature, nul(id) + (chance(0.1) ? nul("x") : ""));
        case 2:  // a SET that works ends the episode (4.17 has no such thing): mostly ones that do not
            if (chance(0.7)) id = pick(std::vector<std::string>{"1", "2", "3", "0", "x", "99"});
            return req(c, wire::kSetFeature, nul(id) + nul(number_text(below(20))));
        case 3: return req(c, wire::kGetQuota, "");
        case 4: return req(c, wire::kGetQuota, nul(pick(kQuotas)));
        case 5: return req(c, wire::kGetQuota, nul(id) + nul(pick(kQuotas)));
        case 6:
        case 7: {
            std::string name = chance(0.3) ? pick(kQuotas) : pick(std::vector<std::string>{"bogus", "", "soft-nodes"});
            if (below(8) == 6) return req(c, wire::kSetQuota, nul(name) + nul(value));
            return req(c, wire::kSetQuota, nul(id) + nul(name) + nul(value));
        }
        default: return req(c, wire::kGetFeature, nul("1") + nul("2"));
    }
}

Step Generator::control_op() {
    static const std::vector<std::string> kCommands = {
        nul("check"),     nul("print") + nul("hello"),  nul("log") + nul("on"), nul("log") + nul("off"),
        nul("nonsense"),  "check",                      nul("live-update"),     nul("live-update") + nul("-a"),
        nul("quota-soft"), nul("check") + nul("extra"), nul("print"),           "",
        nul("quota"),     nul("quota") + nul("1"),      nul("help")};
    static const std::vector<std::string> kQuotaNames = {"watches",     "transactions", "nodes", "permissions",
                                                         "permissions", "node-size",    "bogus", "watches",
                                                         "transactions", "node-permissions"};
    if (chance(0.3)) {
        std::string v = number_text(below(4) ? 2 + below(4) : 0);
        return req(privileged_conn(), wire::kControl, nul("quota") + nul("set") + nul(pick(kQuotaNames)) + nul(v));
    }
    ConnRef c = chance(0.9) ? privileged_conn() : any_conn();
    return req(c, wire::kControl, pick(kCommands));
}

Step Generator::conn_op() {
    Step s;
    s.conn = {ConnRef::Kind::Socket, static_cast<std::uint32_t>(1 + below(2))};
    s.kind = sockets_.count(s.conn.index) ? Step::Kind::Close : Step::Kind::Open;
    return s;
}

}  // namespace xs::diff

namespace xs::diff {

// Malformed requests of every kind: unknown types, missing or extra NULs,
// wrong argument counts, bad transaction ids, oversized messages.
Step Generator::bad_op() {
    static const std::vector<std::uint32_t> kUnknown = {wire::kWatchEvent, wire::kError, 20, 27, 28, 100, 0xffff};
    static const std::vector<std::uint32_t> kOneArg = {wire::kRead, wire::kMkdir, wire::kRm, wire::kDirectory,
                                                       wire::kGetPerms};
    ConnRef c = any_conn();
    std::string p = path_for(c);
    switch (below(14)) {
        case 0: return req(c, pick(kUnknown), chance(0.5) ? nul(p) : "");
        case 1: {
            static const std::vector<std::string> kShapes = {"", std::string(1, '\0')};
            std::uint32_t t = pick(kOneArg);
            switch (below(4)) {
                case 0: return req(c, t, p);                    // no NUL
                case 1: return req(c, t, nul(p) + nul("x"));    // two strings
                case 2: return req(c, t, nul(p) + "junk");      // bytes after the NUL
                default: return req(c, t, pick(kShapes));
            }
        }
        case 2: return req(c, wire::kWrite, chance(0.5) ? p : "");
        case 3: return req(c, wire::kDirectoryPart, chance(0.5) ? nul(p) : nul(p) + nul("0") + nul("1"));
        case 4: return req(c, wire::kWatch, chance(0.5) ? nul(p) : nul(p) + nul("t") + nul("1") + nul("x"));
        case 5: return req(c, wire::kUnwatch, chance(0.5) ? nul(p) : nul(p) + nul("t") + nul("x"));
        case 6: return req(c, wire::kSetPerms, chance(0.5) ? nul(p) : (chance(0.5) ? p : nul(p) + "n0"));
        case 7: {
            static const std::vector<std::uint32_t> kTypes = {wire::kRead, wire::kWrite, wire::kTransactionEnd,
                                                              wire::kGetDomainPath, wire::kIntroduce, wire::kControl};
            static const std::vector<std::uint32_t> kIds = {12345, 0xffffffffu, 0x40000001u};
            return req(c, pick(kTypes), nul(p) + "v", TxRef{TxRef::Kind::Raw, pick(kIds)});
        }
        case 8: {  // a transaction of another connection
            if (txs_.empty()) return req(c, wire::kTransactionEnd, nul("T"));
            const Tx& t = txs_[below(txs_.size())];
            return req(c, wire::kRead, nul(p), TxRef{TxRef::Kind::Handle, t.handle});
        }
        case 9: return req(c, wire::kGetDomainPath, chance(0.5) ? "" : nul("1") + nul("2"));
        case 10: return req(c, wire::kIsDomainIntroduced, chance(0.5) ? "1" : nul("1") + nul("2"));
        case 11: return req(c, wire::kTransactionStart, "junk", tx_for(c));
        case 12: {
            if (!chance(0.25)) return req(c, wire::kRead, nul(odd_path()));
            Step s;  // the connection is lost for the rest of the episode
            s.kind = Step::Kind::Oversize;
            s.conn = c.kind == ConnRef::Kind::Dom0Ring || (c.kind == ConnRef::Kind::Socket && c.index == 0)
                         ? ConnRef{ConnRef::Kind::Socket, 1}
                         : c;
            s.arg = chance(0.5) ? 4097 : 100000;
            return s;
        }
        default: return req(c, wire::kWrite, nul(odd_path()) + "v", tx_for(c));
    }
}

}  // namespace xs::diff
