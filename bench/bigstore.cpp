// Workload 5: big store. Builds N nodes in a realistic shape (pipelined
// WRITEs), reports the build rate and the daemon's RSS per node, lists a
// directory with many children (DIRECTORY, then DIRECTORY_PART), and times
// WRITEs beneath that directory and beneath a small one while another
// connection holds a transaction open, and times the commits of
// transactions of 30 WRITEs (a cost that must not grow with the store).
#include <algorithm>
#include <charconv>

#include "bench/batch.hpp"
#include "bench/bigstore_plan.hpp"
#include "bench/clock.hpp"
#include "bench/proc_stats.hpp"
#include "bench/workloads.hpp"

namespace xs::bench {

namespace {

using namespace std::string_view_literals;

std::string z(std::string_view s) { return std::string(s) + std::string(1, '\0'); }

struct Run {
    Context& ctx;
    const BigStorePlan& plan;
    Fields params;
    std::string variant;

    Measurement measurement(const std::string& what) const {
        Fields p = params;
        p.push_back({"phase", what});
        return ctx.measurement("bigstore", variant + " " + what, p);
    }
    void fail(const std::string& what, const Failure& f) const {
        Fields p = params;
        p.push_back({"phase", what});
        emit_failure(ctx, "bigstore", variant + " " + what, p, f);
    }
};

Checked<Engine*> single_conn(Context& ctx, Engine& e, std::size_t window) {
    auto s = ctx.transport().open();
    if (!s) return unexpected(s.error());
    e.add(std::move(*s), window);
    return &e;
}

// The build's figures from what the batch did (all of it, or as much as
// it did before the time limit).
Measurement build_measurement(const Run& run, const BatchResult& r, const Meter& meter, std::int64_t rss0,
                              std::int64_t anon0) {
    auto pid = run.ctx.daemon_pid();
    Measurement m = run.measurement("build");
    m.ops = r.ops;
    m.seconds = ns_to_s(r.elapsed_ns);
    m.latency = latency_of(r.latency);
    meter.finish(m);
    std::int64_t rss1 = pid ? rss_kib(*pid).value_or(-1) : -1;
    bool known = rss0 >= 0 && rss1 >= 0;
    auto nodes = static_cast<std::int64_t>(run.plan.nodes());
    if (r.ops < run.plan.writes())  // a partial build made about this share of the planned nodes
        nodes = static_cast<std::int64_t>(static_cast<double>(nodes) * static_cast<double>(r.ops) /
                                          static_cast<double>(run.plan.writes()));
    m.set("nodes", nodes);
    m.set("build_s", m.seconds);
    m.set("rss_before_kib", known ? Value(rss0) : Value());
    m.set("rss_after_kib", known ? Value(rss1) : Value());
    m.set("rss_per_node_bytes",
          known && nodes > 0 ? Value(static_cast<double>(rss1 - rss0) * 1024.0 / static_cast<double>(nodes)) : Value());
    std::int64_t anon1 = pid ? anon_rss_kib(*pid).value_or(-1) : -1;
    m.set("rss_anon_before_kib", anon0 >= 0 ? Value(anon0) : Value());
    m.set("rss_anon_after_kib", anon1 >= 0 ? Value(anon1) : Value());
    return m;
}

// Build the store. A build stopped by the time limit still gives its
// measurement, with status timeout and how far it got (the C daemon slows
// down as the store grows: how far it gets is the figure).
Checked<Measurement> build(const Run& run) {
    Context& ctx = run.ctx;
    const BigstoreParams& p = ctx.opts().bigstore;
    auto pid = ctx.daemon_pid();
    // -1: unknown (plain integers: g++ 12 misreports optionals here as uninitialised).
    std::int64_t rss0 = pid ? rss_kib(*pid).value_or(-1) : -1;
    std::int64_t anon0 = pid ? anon_rss_kib(*pid).value_or(-1) : -1;
    Engine e;
    for (std::uint64_t i = 0; i < p.conns; ++i) {
        auto s = ctx.transport().open();
        if (!s) return unexpected(s.error());
        e.add(std::move(*s), p.window);
    }
    Meter meter(ctx);
    meter.start();
    auto make = [&](std::uint64_t i) {
        BatchRequest r{wire::kWrite, {}};
        run.plan.write_payload(i, r.payload);
        return r;
    };
    BatchResult partial;
    auto r = run_batch(e, run.plan.writes(), make, ctx.deadline(), {}, &partial);
    if (!r && r.error().status == kStatusTimeout) {
        Measurement m = build_measurement(run, partial, meter, rss0, anon0);
        m.status = r.error().status;
        m.error = "stopped by the time limit after " + std::to_string(partial.ops) + " of " +
                  std::to_string(run.plan.writes()) + " writes (about " + to_json(*m.get("nodes")) + " nodes)";
        m.set("writes_done", static_cast<std::int64_t>(partial.ops));
        m.set("writes_planned", static_cast<std::int64_t>(run.plan.writes()));
        return m;
    }
    if (!r) return unexpected(r.error());
    Measurement m = build_measurement(run, *r, meter, rss0, anon0);
    if (!ctx.echo()) {
        // The last node written must read back.
        std::string last;
        run.plan.write_payload(run.plan.writes() - 1, last);
        std::string path = last.substr(0, last.find('\0') + 1);
        auto v = call(e, *e.conns()[0], wire::kRead, 0, path, ctx.deadline());
        if (!v) return unexpected(v.error());
        if (*v != last.substr(path.size()))
            return failed("READ " + path.substr(0, path.size() - 1) + " after the build gave '" + *v + "'");
    }
    return m;
}

// DIRECTORY of the big directory: E2BIG (the listing does not fit in one
// message) is the protocol's answer, reported as unsupported.
void directory(const Run& run) {
    Context& ctx = run.ctx;
    const BigstoreParams& p = ctx.opts().bigstore;
    Engine e;
    if (auto c = single_conn(ctx, e, 1); !c) return run.fail("directory", c.error());
    // One checked listing first: the timed ones below only count replies.
    auto first = call(e, *e.conns()[0], wire::kDirectory, 0, z(run.plan.big_dir()), ctx.deadline());
    if (first && !ctx.echo()) {
        auto names = static_cast<std::uint64_t>(std::count(first->begin(), first->end(), '\0'));
        if (names != run.plan.children())
            return run.fail("directory", Failure{std::string(kStatusError),
                                                 "DIRECTORY listed " + std::to_string(names) + " children, expected " +
                                                     std::to_string(run.plan.children())});
    }
    if (!first && first.error().message.find("E2BIG") == std::string::npos) return run.fail("directory", first.error());
    bool too_big = false;
    auto make = [&](std::uint64_t) { return BatchRequest{wire::kDirectory, z(run.plan.big_dir())}; };
    Meter meter(ctx);
    meter.start();
    auto r = run_batch(e, p.listings, make, ctx.deadline(), [&](std::string_view name) {
        too_big = too_big || name == "E2BIG";
        return name == "E2BIG";
    });
    if (!r) return run.fail("directory", r.error());
    if (too_big) return run.fail("directory", Failure{std::string(kStatusUnsupported), "E2BIG: more than one message"});
    Measurement m = run.measurement("directory");
    m.ops = r->ops;
    m.seconds = ns_to_s(r->elapsed_ns);
    m.latency = latency_of(r->latency);
    meter.finish(m);
    m.set("children", static_cast<std::int64_t>(run.plan.children()));
    ctx.emit(std::move(m));
}

// Lists the big directory completely with DIRECTORY_PART, `listings`
// times, one request in flight; each full listing is one sample.
class DirPartDriver final : public Driver {
public:
    DirPartDriver(std::string dir, std::uint64_t listings, std::uint64_t children, bool check)
        : dir_(z(std::move(dir))), listings_(listings), children_(children), check_(check) {}

    void start(Engine& e) override { begin_listing(e); }
    void on_reply(Engine& e, Conn& c, const Reply& r) override;
    bool finished() const override { return done_ == listings_; }

    const Histogram& latency() const { return lat_; }
    std::uint64_t requests() const { return requests_; }
    std::uint64_t restarts() const { return restarts_; }
    bool unsupported() const { return unsupported_; }

private:
    void begin_listing(Engine& e) {
        offset_ = names_ = 0;
        gen_.clear();
        start_ns_ = e.now();
        send(e);
    }
    void send(Engine& e) {
        offset_text_ = z(std::to_string(offset_));
        e.send(*e.conns()[0], wire::kDirectoryPart, 0, {dir_, offset_text_});
    }

    std::string dir_;
    std::uint64_t listings_, children_;
    bool check_;
    std::string gen_, offset_text_;
    std::uint64_t offset_ = 0, names_ = 0, start_ns_ = 0, done_ = 0, requests_ = 0, restarts_ = 0;
    bool unsupported_ = false;
    Histogram lat_;
};

void DirPartDriver::on_reply(Engine& e, Conn&, const Reply& r) {
    ++requests_;
    if (r.is_error()) {
        unsupported_ = r.error() == "ENOSYS";
        e.fail(Failure{std::string(unsupported_ ? kStatusUnsupported : kStatusError),
                       "DIRECTORY_PART: " + std::string(r.error())});
        return;
    }
    std::string_view p = r.payload;
    auto nul = p.find('\0');
    if (nul == std::string_view::npos) return e.fail("DIRECTORY_PART reply without a generation");
    std::string_view gen = p.substr(0, nul);
    p.remove_prefix(nul + 1);
    if (gen_.empty()) {
        gen_ = gen;
    } else if (gen != gen_) {  // the directory changed: start over, as libxenstore does
        ++restarts_;
        begin_listing(e);
        return;
    }
    bool end = false;
    std::uint64_t got = 0;
    while (!p.empty()) {
        auto n = p.find('\0');
        if (n == 0) {
            end = true;  // the empty string that closes the list
            break;
        }
        if (n == std::string_view::npos) return e.fail("DIRECTORY_PART: unterminated name");
        offset_ += n + 1;
        ++got;
        p.remove_prefix(n + 1);
    }
    names_ += got;
    if (!end && got == 0) return e.fail("DIRECTORY_PART made no progress");
    if (!end) return send(e);
    if (check_ && names_ != children_)
        return e.fail("DIRECTORY_PART listed " + std::to_string(names_) + " children, expected " +
                      std::to_string(children_));
    lat_.record(e.now() - start_ns_);
    if (++done_ < listings_) begin_listing(e);
}

void directory_part(const Run& run) {
    Context& ctx = run.ctx;
    const BigstoreParams& p = ctx.opts().bigstore;
    Engine e;
    if (auto c = single_conn(ctx, e, 1); !c) return run.fail("directory_part", c.error());
    Meter meter(ctx);
    meter.start();
    std::uint64_t t0 = now_ns();
    DirPartDriver d(run.plan.big_dir(), p.listings, run.plan.children(), !ctx.echo());
    if (auto r = e.run(d, ctx.deadline()); !r) return run.fail("directory_part", r.error());
    Measurement m = run.measurement("directory_part");
    m.ops = p.listings;
    m.seconds = ns_to_s(now_ns() - t0);
    m.latency = latency_of(d.latency());
    meter.finish(m);
    m.set("children", static_cast<std::int64_t>(run.plan.children()));
    m.set("requests_per_listing", static_cast<double>(d.requests()) / static_cast<double>(p.listings));
    m.set("restarts", static_cast<std::int64_t>(d.restarts()));
    ctx.emit(std::move(m));
}

// Time `count` WRITEs (one in flight) of the children of `dir`.
Checked<BatchResult> timed_writes(Context& ctx, const std::string& dir, std::uint64_t children, std::uint64_t count) {
    Engine e;
    if (auto c = single_conn(ctx, e, 1); !c) return unexpected(c.error());
    auto make = [&](std::uint64_t i) {
        return BatchRequest{wire::kWrite, z(dir + "/" + BigStorePlan::child_name(i % children)) + "w" + std::to_string(i)};
    };
    return run_batch(e, count, make, ctx.deadline());
}

Measurement write_measurement(const Run& run, const std::string& what, const BatchResult& r, const Meter& meter) {
    Measurement m = run.measurement(what);
    m.ops = r.ops;
    m.seconds = ns_to_s(r.elapsed_ns);
    m.latency = latency_of(r.latency);
    meter.finish(m);
    return m;
}

Checked<std::uint32_t> start_transaction(Engine& e, Conn& c, const Context& ctx) {
    auto id = call(e, c, wire::kTransactionStart, 0, z(""), ctx.deadline());
    if (!id) return unexpected(id.error());
    std::uint32_t tx = 0;
    std::string_view text(*id);
    text = text.substr(0, text.find('\0'));
    if (std::from_chars(text.data(), text.data() + text.size(), tx).ec != std::errc())
        return unexpected(Failure{std::string(kStatusError), "TRANSACTION_START gave '" + *id + "'"});
    return tx;
}

// WRITEs beneath the big and the small directory while another connection
// holds a transaction that has read a child of the big one.
void writes_with_transaction(const Run& run) {
    Context& ctx = run.ctx;
    const BigstoreParams& p = ctx.opts().bigstore;
    Engine txe;
    if (auto c = single_conn(ctx, txe, 1); !c) return run.fail("write_big", c.error());
    Conn& txc = *txe.conns()[0];
    auto started = start_transaction(txe, txc, ctx);
    if (!started) return run.fail("write_big", started.error());
    std::uint32_t tx = *started;
    auto rd = call(txe, txc, wire::kRead, tx, z(run.plan.big_dir() + "/" + BigStorePlan::child_name(0)), ctx.deadline());
    if (!rd) return run.fail("write_big", rd.error());

    Meter big_meter(ctx);
    big_meter.start();
    auto big = timed_writes(ctx, run.plan.big_dir(), run.plan.children(), p.writes);
    if (!big) return run.fail("write_big", big.error());
    Measurement mb = write_measurement(run, "write_big", *big, big_meter);

    Meter small_meter(ctx);
    small_meter.start();
    auto small = timed_writes(ctx, run.plan.small_dir(), BigStorePlan::kSmallChildren, p.writes);
    if (!small) return run.fail("write_small", small.error());
    Measurement ms = write_measurement(run, "write_small", *small, small_meter);

    if (auto end = call(txe, txc, wire::kTransactionEnd, tx, std::string("F\0", 2), ctx.deadline()); !end)
        return run.fail("write_big", end.error());
    if (mb.latency && ms.latency && ms.latency->p50_us > 0)
        mb.set("p50_ratio_to_small", mb.latency->p50_us / ms.latency->p50_us);
    mb.set("transaction_open", true);
    ms.set("transaction_open", true);
    ctx.emit(std::move(mb));
    ctx.emit(std::move(ms));
}

// Transactions of kCommitWrites WRITEs each beneath the small directory:
// the commit's latency (TRANSACTION_END alone), which must not grow with the
// size of the store (commit replays the transaction's requests on the live
// tree: its cost follows what the transaction did).
constexpr std::uint64_t kCommitWrites = 30;
constexpr std::uint64_t kCommits = 100;

void commits(const Run& run) {
    Context& ctx = run.ctx;
    Engine e;
    if (auto c = single_conn(ctx, e, 1); !c) return run.fail("commit", c.error());
    Conn& conn = *e.conns()[0];
    Histogram latency;
    Meter meter(ctx);
    meter.start();
    std::uint64_t t0 = now_ns(), commit_ns = 0;
    for (std::uint64_t i = 0; i < kCommits; ++i) {
        auto tx = start_transaction(e, conn, ctx);
        if (!tx) return run.fail("commit", tx.error());
        for (std::uint64_t w = 0; w < kCommitWrites; ++w) {
            std::string path = run.plan.small_dir() + "/" + BigStorePlan::child_name(w % BigStorePlan::kSmallChildren) +
                               "/t" + std::to_string(w);
            if (auto r = call(e, conn, wire::kWrite, *tx, z(path) + std::to_string(i), ctx.deadline()); !r)
                return run.fail("commit", r.error());
        }
        std::uint64_t t = now_ns();
        if (auto end = call(e, conn, wire::kTransactionEnd, *tx, z("T"), ctx.deadline()); !end)
            return run.fail("commit", end.error());
        std::uint64_t took = now_ns() - t;
        latency.record(took);
        commit_ns += took;
    }
    Measurement m = run.measurement("commit");
    m.ops = kCommits;
    m.seconds = ns_to_s(commit_ns);
    m.latency = latency_of(latency);
    meter.finish(m);
    m.set("writes_per_transaction", static_cast<std::int64_t>(kCommitWrites));
    m.set("wall_s", ns_to_s(now_ns() - t0));
    ctx.emit(std::move(m));
}

void run_size(Context& ctx, std::uint64_t target) {
    const BigstoreParams& p = ctx.opts().bigstore;
    std::uint64_t children = std::min(p.children, target / 2);
    BigStorePlan plan(ctx.opts().prefix + "/big", target, children);
    Run run{ctx, plan,
            Fields{{"nodes", static_cast<std::int64_t>(target)},
                   {"children", static_cast<std::int64_t>(children)},
                   {"listings", static_cast<std::int64_t>(p.listings)},
                   {"writes", static_cast<std::int64_t>(p.writes)},
                   {"conns", static_cast<std::int64_t>(p.conns)}},
            "n=" + std::to_string(target)};
    if (auto r = ctx.remove_tree(plan.root()); !r) return run.fail("build", r.error());
    {
        // The root exists before the baseline RSS is taken.
        auto c = ctx.setup_client();
        if (!c) return run.fail("build", c.error());
        if (auto m = (*c)->mkdir(plan.root()); !m)
            return run.fail("build", Failure{std::string(kStatusError),
                                             "MKDIR " + plan.root() + ": " + std::string(wire::error_name(m.error().code))});
    }
    auto b = build(run);
    if (!b) {
        run.fail("build", b.error());
    } else {
        bool complete = b->ok();
        ctx.emit(std::move(*b));
        if (complete) {
            directory(run);
            directory_part(run);
            writes_with_transaction(run);
            commits(run);
        }
    }
    ctx.cleanup("bigstore", plan.root());
}

}  // namespace

void run_bigstore(Context& ctx) {
    for (auto n : ctx.opts().bigstore.nodes) run_size(ctx, n);
}

}  // namespace xs::bench
