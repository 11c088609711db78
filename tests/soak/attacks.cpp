// What a hostile guest of the soak does while alive. Replies to a hostile
// guest are not checked one by one (it cannot expect much); what is checked
// is the daemon's side: the quotas hold (CONTROL quota), nothing it cannot
// read reaches it through a watch, a reconnection or RESET_WATCHES really
// drops its watches and transactions, and replies it finally reads arrive
// in order.
#include <map>
#include <set>
#include <thread>

#include "tests/soak/hostile.hpp"
#include "tests/support/protocol.hpp"
#include "transport/ring.hpp"
#include "transport/wire.hpp"

namespace xs::soak {

using namespace std::chrono_literals;
using testing::outcome;

namespace {

std::uint32_t load(const std::uint32_t& f) { return __atomic_load_n(&f, __ATOMIC_ACQUIRE); }
void store(std::uint32_t& f, std::uint32_t v) { __atomic_store_n(&f, v, __ATOMIC_RELEASE); }

// "<start>/ccc.../ccc" of exactly `len` characters.
std::string path_of_length(std::size_t len, const std::string& start) {
    std::string p = start;
    while (p.size() < len) p += "/" + std::string(std::min<std::size_t>(len - p.size() - 1, 1000), 'p');
    return p;
}

}  // namespace

void Hostile::check_accounting(const char* after) {
    auto q = mgr_->control({"quota", std::to_string(d_)});
    if (!q) return;  // dead already
    const std::pair<const char*, std::uint64_t> limits[] = {
        {"nodes", run_.quotas.nodes},           {"watches", run_.quotas.watches},
        {"transactions", run_.quotas.transactions}, {"memory", run_.quotas.memory},
        {"outstanding", run_.quotas.outstanding},
    };
    for (const auto& [item, limit] : limits) {
        auto v = testing::quota_row(*q, item);
        if (v && *v > limit)
            run_.violation("hostile " + std::to_string(d_) + " after " + after + ": " + item + " " +
                           std::to_string(*v) + " over its quota " + std::to_string(limit));
    }
}

void Hostile::bad_indices() {
    auto& p = ring_->page();
    switch (rng_() % 3) {
        case 0: store(p.req_prod, load(p.req_cons) + 0x10000); break;
        case 1: store(p.req_prod, static_cast<std::uint32_t>(rng_())); break;
        default: {  // the consumer ahead of the producer, seen when the daemon replies
            store(p.rsp_cons, load(p.rsp_prod) + 1 + static_cast<std::uint32_t>(rng_() % 5000));
            (void)ring_->write_raw(testing::raw_message(wire::kRead, "data\0"s, 1));
        }
    }
    (void)ring_->notify();
    broken_ = true;
    ++counts_["hostile bad indices"];
}

void Hostile::bad_length() {
    static constexpr std::uint32_t kLengths[] = {wire::kPayloadMax + 1, 0x40000001u, 0x80000000u, 0xFFFFFFFFu};
    std::uint32_t len = kLengths[rng_() % std::size(kLengths)];
    (void)ring_->write_raw(testing::raw_header(wire::kWrite, 7, 0, len) + "data/x\0"s);
    broken_ = true;
    ++counts_["hostile oversized lengths"];
}

void Hostile::unread_replies() {
    auto& page = ring_->page();
    std::uint32_t sent = 0;
    auto stalled = Clock::now();
    while (alive() && Clock::now() - stalled < 300ms && sent < 5000) {
        std::string m = testing::raw_message(wire::kRead, "data\0"s, 10000 + sent);
        auto room = ring::writable(page, ring::Direction::kRequest);
        if (!room || *room < m.size()) {
            std::this_thread::sleep_for(5ms);
            continue;
        }
        if (ring_->write_raw(m) != m.size()) break;
        ++sent;
        stalled = Clock::now();
    }
    counts_["hostile unread requests"] += sent;
    check_accounting("requests left unread");
    if (!alive()) return;
    if (rng_() % 2) return resync();
    // It reads after all: every reply, in order.
    for (std::uint32_t i = 0; i < sent && alive(); ++i) {
        auto r = c_->receive(2000ms);
        if (!r) return resync();
        if (r->header.req_id != 10000 + i && !dead_)
            run_.violation("hostile " + std::to_string(d_) + ": a queued reply out of order (" +
                           std::to_string(r->header.req_id) + " for " + std::to_string(10000 + i) + ")");
    }
}

void Hostile::watch_flood() {
    (void)c_->call(wire::kResetWatches, ""s);
    const std::string targets[] = {"/", "/local", "/local/domain/0", "/local/domain/1/data", "/local/domain/1000",
                                   "/tool", "@introduceDomain", "/vm"};
    std::map<std::string, std::string> watched;  // token -> path
    std::uint64_t ok = 0;
    for (std::uint64_t i = 0; i < run_.quotas.watches + 2 && alive(); ++i) {
        std::string path = i < std::size(targets) ? targets[i]
                                                  : "/local/domain/" + std::to_string(1 + rng_() % 1100) + "/x" +
                                                        std::to_string(i);
        std::string token = "f" + std::to_string(i);
        if (c_->watch(path, token)) {
            ++ok;
            watched[token] = path;
        }
    }
    counts_["hostile watches set"] += ok;
    if (ok > run_.quotas.watches) run_.violation("hostile " + std::to_string(d_) + ": more watches than its quota");
    check_accounting("a watch flood");
    // Everything it hears: the first event of each watch (its own path),
    // its own home (relative paths too: watches of earlier attacks),
    // @releaseDomain (everyone may read it). Nothing else.
    std::set<std::string> initial;
    auto until = Clock::now() + 500ms;
    while (alive() && Clock::now() < until) {
        auto m = c_->next_event(50ms);
        if (!m) continue;
        auto e = testing::parse_event(*m);
        ++counts_["hostile events heard"];
        auto w = watched.find(e.token);
        bool first = w != watched.end() && e.path == w->second && initial.insert(e.token).second;
        bool own = e.path == home_ || e.path.starts_with(home_ + "/") ||
                   (!e.path.starts_with("/") && !e.path.starts_with("@"));  // relative: below its home
        if (first || own || e.path.starts_with("@releaseDomain")) continue;
        run_.violation("hostile " + std::to_string(d_) + " heard about " + e.path + ", which it cannot read");
    }
}

void Hostile::quota_probe() {
    auto refused = [&](const char* what, const Result<>& r) {
        ++counts_[std::string("hostile quota probes: ") + what];
        if (r && alive()) run_.violation("hostile " + std::to_string(d_) + ": " + what + " past its quota accepted");
    };
    switch (rng_() % 5) {
        case 0: {  // nodes, up to the quota and past it
            Result<> last;
            for (std::uint64_t i = 0; i <= run_.quotas.nodes + 2 && alive(); ++i) {
                last = c_->write("data/p" + std::to_string(i / 40) + "/n" + std::to_string(i), "x");
                if (!last) break;
                ++counts_["hostile nodes created"];
            }
            refused("nodes", last);
            break;
        }
        case 1: refused("node-size", c_->write("data/big", std::string(run_.quotas.node_size + 1, 'b'))); break;
        case 2: {
            std::vector<std::string> perms = {"n" + std::to_string(d_)};
            for (std::uint64_t i = 0; i < run_.quotas.permissions; ++i) perms.push_back("r" + std::to_string(i + 1));
            refused("node-permissions", c_->set_perms("data", perms));
            break;
        }
        case 3: {
            Result<std::uint32_t> t;
            for (std::uint64_t i = 0; i <= run_.quotas.transactions && alive(); ++i)
                if (!(t = c_->transaction_start())) break;
            refused("transactions", t ? Result<>{} : Result<>(fail(t.error())));
            break;
        }
        default: refused("path-max", c_->write(path_of_length(run_.quotas.path_max + 1, "data"), "")); break;
    }
    check_accounting("a quota probe");
}

void Hostile::tx_storm() {
    auto until = Clock::now() + 1000ms;
    while (alive() && Clock::now() < until) {
        std::vector<std::uint32_t> txs;
        std::uint64_t n = 1 + rng_() % run_.quotas.transactions;
        for (std::uint64_t i = 0; i < n && alive(); ++i)
            if (auto t = c_->transaction_start()) txs.push_back(*t);
        for (auto t : txs)
            for (int k = 0; k < 5 && alive(); ++k)
                (void)c_->write("data/s" + std::to_string(k), std::to_string(rng_()), t);
        for (auto t : txs) {
            if (!alive()) return;
            auto end = c_->transaction_end(t, true);
            ++counts_[std::string("hostile commits: ") + (end ? "OK" : outcome(end) == "EAGAIN" ? "EAGAIN" : "other")];
        }
    }
    check_accounting("a transaction storm");
}

void Hostile::reconnect_storm() {
    int rounds = 3 + static_cast<int>(rng_() % 8);
    for (int i = 0; i < rounds && alive(); ++i) {
        (void)c_->watch("data", "r");
        (void)c_->transaction_start();
        std::string m = testing::raw_message(wire::kWrite, "data/half\0value"s, 77);
        (void)ring_->write_raw(m.substr(0, 1 + rng_() % (m.size() - 1)));
        resync();
    }
    if (!alive()) return;
    auto q = mgr_->control({"quota", std::to_string(d_)});
    if (q && !dead_ && (testing::quota_row(*q, "watches").value_or(0) || testing::quota_row(*q, "transactions").value_or(0)))
        run_.violation("hostile " + std::to_string(d_) + ": watches or transactions survived a reconnection: " + *q);
}

void Hostile::garbage() {
    std::string batch;
    for (int i = 0; i < 30; ++i) {
        std::uint32_t type = rng_() % 8 == 0 ? static_cast<std::uint32_t>(rng_()) : static_cast<std::uint32_t>(rng_() % 32);
        std::string payload(rng_() % 200, '\0');
        for (auto& ch : payload) ch = rng_() % 5 == 0 ? '\0' : static_cast<char>("/adtx@0 "[rng_() % 8]);
        std::uint32_t tx = rng_() % 4 == 0 ? static_cast<std::uint32_t>(rng_()) : 0;
        batch += testing::raw_message(type, payload, 20000 + i, tx);
    }
    (void)c_->send_raw(batch);
    ++counts_["hostile garbage batches"];
    auto until = Clock::now() + 300ms;
    while (alive() && Clock::now() < until) (void)c_->receive(50ms);
    resync();
}

void Hostile::reset_storm() {
    for (int i = 0; i < 5 && alive(); ++i) {
        auto t = c_->transaction_start();
        for (int w = 0; w < 3 && alive(); ++w) (void)c_->watch("data/r" + std::to_string(w), "t");
        std::uint32_t tx = rng_() % 3 == 0 ? 0xdeadbeef : rng_() % 2 ? (t ? *t : 0) : 0;
        auto r = c_->call(wire::kResetWatches, ""s, tx);
        ++counts_["hostile RESET_WATCHES"];
        if (!r || r->is_error()) continue;
        auto q = mgr_->control({"quota", std::to_string(d_)});
        if (q && !dead_ &&
            (testing::quota_row(*q, "watches").value_or(0) || testing::quota_row(*q, "transactions").value_or(0)))
            run_.violation("hostile " + std::to_string(d_) + ": watches or transactions survived RESET_WATCHES: " + *q);
        while (c_->next_event(0ms)) {
        }
    }
}

}  // namespace xs::soak
