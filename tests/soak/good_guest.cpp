// A well-behaved guest: a steady mix of writes, reads of what it wrote,
// listings, transactions and its own watch, at a fixed pace. Every reply
// must be exactly the one a lone client would get.
#include <random>
#include <set>
#include <thread>

#include "tests/soak/soak.hpp"
#include "tests/support/protocol.hpp"
#include "tools/fakexen/domains.hpp"
#include "tools/fakexen/guest.hpp"
#include "transport/wire.hpp"

namespace xs::soak {

using namespace std::chrono_literals;
using testing::outcome;

namespace {

constexpr int kKeys = 40;  // nodes it keeps: far below the node quota

class GoodGuest {
public:
    GoodGuest(Run& run, DomId d, client::Client& c) : run_(run), d_(d), c_(c), rng_(d) {}
    ~GoodGuest() { run_.add(counts_); }

    void step();

private:
    template <class R>
    void expect(const std::string& what, const R& r, const std::string& want = "OK") {
        if (outcome(r) != want)
            run_.violation("guest " + std::to_string(d_) + ": " + what + ": " + outcome(r) + ", expected " + want);
    }
    std::string key(int k) { return "data/k" + std::to_string(k); }
    void write_read();
    void list();
    void transaction();
    void watch_own();

    Run& run_;
    DomId d_;
    client::Client& c_;
    std::mt19937_64 rng_;
    std::map<int, std::string> values_;  // what it wrote, by key
    std::uint64_t counter_ = 0;
    Counts counts_;
};

void GoodGuest::write_read() {
    int k = static_cast<int>(rng_() % kKeys);
    if (values_.count(k) && rng_() % 4 == 0) {
        expect("RM", c_.rm(key(k)));
        expect("READ removed", c_.read(key(k)), "ENOENT");
        values_.erase(k);
        counts_["good RM"] += 1;
        counts_["good READ"] += 1;
        return;
    }
    std::string v = std::to_string(rng_()) + std::string(rng_() % 200, 'v');
    expect("WRITE", c_.write(key(k), v));
    values_[k] = v;
    auto r = c_.read(key(k));
    if (!r || *r != v) run_.violation("guest " + std::to_string(d_) + ": READ after WRITE: " + outcome(r));
    counts_["good WRITE"] += 1;
    counts_["good READ"] += 1;
}

void GoodGuest::list() {
    auto r = c_.directory("data");
    counts_["good DIRECTORY"] += 1;
    if (!r) return expect("DIRECTORY", r);
    std::set<std::string> want;
    for (const auto& [k, v] : values_) want.insert("k" + std::to_string(k));
    want.insert("counter");
    want.insert("w");
    std::set<std::string> got(r->begin(), r->end());
    got.insert("counter");
    got.insert("w");
    if (got != want) run_.violation("guest " + std::to_string(d_) + ": DIRECTORY data lists the wrong children");
}

// Read-modify-write of its counter; only it touches the counter, so the
// commit must succeed at once.
void GoodGuest::transaction() {
    auto t = c_.transaction_start();
    counts_["good TRANSACTION_START"] += 1;
    if (!t) return expect("TRANSACTION_START", t);
    auto cur = c_.read("data/counter", *t);
    std::string want = counter_ == 0 ? "ENOENT" : "OK";
    if (outcome(cur) != want || (cur && *cur != std::to_string(counter_)))
        run_.violation("guest " + std::to_string(d_) + ": counter in transaction: " + outcome(cur));
    expect("WRITE in transaction", c_.write("data/counter", std::to_string(counter_ + 1), *t));
    auto end = c_.transaction_end(*t, true);
    counts_["good TRANSACTION_END"] += 1;
    expect("TRANSACTION_END", end);
    if (end) ++counter_;
}

// A watch on its own node: one event per change, and nothing else.
void GoodGuest::watch_own() {
    expect("WATCH", c_.watch("data/w", "own"));
    auto initial = c_.next_event(10s);
    expect("WRITE watched", c_.write("data/w", std::to_string(rng_())));
    auto changed = c_.next_event(10s);
    if (!initial || !changed || testing::parse_event(*changed).path != "data/w")
        run_.violation("guest " + std::to_string(d_) + ": its own watch did not fire as it should");
    expect("UNWATCH", c_.unwatch("data/w", "own"));
    if (c_.queued_events() != 0) run_.violation("guest " + std::to_string(d_) + ": an event it did not ask for");
    counts_["good WATCH"] += 1;
    counts_["good WRITE"] += 1;
    counts_["good UNWATCH"] += 1;
}

void GoodGuest::step() {
    switch (rng_() % 8) {
        case 0: list(); break;
        case 1: transaction(); break;
        case 2: watch_own(); break;
        default: write_read(); break;
    }
}

}  // namespace

void good_guest(Run& run, DomId d) {
    auto ts = run.connect();
    if (!fakexen::create_domain(run.host(), d)) return run.violation("fake host: cannot create guest " + std::to_string(d));
    if (!create_and_introduce(run, *ts, d)) return;
    auto ring = fakexen::Guest::attach(run.shared_host(), d);
    if (!ring) return run.violation("cannot attach to guest " + std::to_string(d));
    client::Client c(fakexen::ring_channel(*ring));
    c.timeout = 10000ms;
    GoodGuest g(run, d, c);
    auto pace = std::chrono::microseconds(1000000 / std::max(1u, run.opts.good_rate));
    auto next = Clock::now();
    while (!run.stop) {
        g.step();
        next += pace;
        std::this_thread::sleep_until(next);
        if (Clock::now() > next + 1s) next = Clock::now();  // do not catch up after a stall
    }
}

}  // namespace xs::soak
