// Workload 9: open transactions while a subtree is rewritten. A holder
// connection starts a transaction (reads one node in it, writes another)
// before each round; each round rewrites every node of a subtree of
// --pin-nodes nodes with --pin-value-bytes values. A daemon whose transactions keep the tree
// they started from alive ends the rounds with one old version of the
// subtree per transaction; one that bounds it (xstored's --transaction-pin)
// keeps about the bound. The figure is the daemon's RssAnon growth.
#include "bench/clock.hpp"
#include "bench/proc_stats.hpp"
#include "bench/workloads.hpp"

namespace xs::bench {

namespace {

std::string errname(const Error& e) { return std::string(wire::error_name(e.code)); }

// Every node of the subtree set to `value`, pipelined on one connection.
Checked<> rewrite(client::Client& xs, const std::string& root, std::uint64_t nodes, const std::string& value) {
    constexpr std::uint64_t kWindow = 64;
    std::vector<std::uint32_t> ids;
    for (std::uint64_t i = 0; i < nodes; ++i) {
        std::string payload = root + "/n" + std::to_string(i);
        payload.push_back('\0');
        payload += value;
        ids.push_back(xs.send(wire::kWrite, payload));
        if (ids.size() == kWindow || i + 1 == nodes) {
            for (auto id : ids) {
                auto r = xs.wait_reply(id);
                if (!r || r->is_error()) return failed("WRITE beneath " + root + " failed");
            }
            ids.clear();
        }
    }
    return {};
}

Checked<Measurement> measure(Context& ctx, const Fields& params) {
    const PinParams& p = ctx.opts().pin;
    std::string root = ctx.opts().prefix + "/pin";
    if (auto r = ctx.remove_tree(root); !r) return unexpected(r.error());
    auto writer = ctx.setup_client();
    auto holder = ctx.setup_client();
    if (!writer) return unexpected(writer.error());
    if (!holder) return unexpected(holder.error());
    if (auto r = rewrite(**writer, root, p.nodes, std::string(p.value_bytes, '0')); !r) return unexpected(r.error());
    auto pid = ctx.daemon_pid();
    std::int64_t anon0 = pid ? anon_rss_kib(*pid).value_or(-1) : -1;
    std::vector<std::uint32_t> open;
    Meter meter(ctx);
    meter.start();
    std::uint64_t t0 = now_ns();
    for (std::uint64_t round = 0; round < p.rounds; ++round) {
        auto t = (*holder)->transaction_start();
        if (!t) return failed("TRANSACTION_START: " + errname(t.error()));
        open.push_back(*t);
        if (auto r = (*holder)->read(root + "/n0", *t); !r) return failed("READ in a transaction: " + errname(r.error()));
        // Not read-only (those always commit): its commit must fail.
        if (auto r = (*holder)->write(root + "/h" + std::to_string(round), "h", *t); !r)
            return failed("WRITE in a transaction: " + errname(r.error()));
        std::string value(p.value_bytes, static_cast<char>('a' + round % 26));
        if (auto r = rewrite(**writer, root, p.nodes, value); !r) return unexpected(r.error());
    }
    std::uint64_t took = now_ns() - t0;
    std::int64_t anon1 = pid ? anon_rss_kib(*pid).value_or(-1) : -1;
    Measurement m = ctx.measurement("pin", "n=" + std::to_string(p.nodes), params);
    m.ops = p.rounds * p.nodes;
    m.seconds = ns_to_s(took);
    meter.finish(m);
    // Each transaction read a node every round rewrote: all must fail.
    std::int64_t eagain = 0;
    for (auto t : open) {
        auto r = (*holder)->transaction_end(t, true);
        if (!r && r.error().code == EAGAIN) ++eagain;
    }
    m.set("transactions", static_cast<std::int64_t>(open.size()));
    m.set("eagain", eagain);
    m.set("subtree_kib", static_cast<std::int64_t>(p.nodes * p.value_bytes / 1024));
    bool known = anon0 >= 0 && anon1 >= 0;
    m.set("rss_anon_before_kib", known ? Value(anon0) : Value());
    m.set("rss_anon_after_kib", known ? Value(anon1) : Value());
    m.set("rss_anon_growth_kib", known ? Value(anon1 - anon0) : Value());
    if (eagain != static_cast<std::int64_t>(open.size()))
        return failed("a transaction that read a rewritten node committed");
    return m;
}

}  // namespace

void run_pin(Context& ctx) {
    const PinParams& p = ctx.opts().pin;
    Fields params{{"nodes", static_cast<std::int64_t>(p.nodes)},
                  {"value_bytes", static_cast<std::int64_t>(p.value_bytes)},
                  {"rounds", static_cast<std::int64_t>(p.rounds)}};
    auto m = measure(ctx, params);
    if (m) ctx.emit(std::move(*m));
    else emit_failure(ctx, "pin", "n=" + std::to_string(p.nodes), params, m.error());
    ctx.cleanup("pin", ctx.opts().prefix + "/pin");
}

}  // namespace xs::bench
