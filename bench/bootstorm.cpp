// Workload 3: VM boot storm. K toolstacks, each on its own connection with
// one request in flight (as libxenstore callers are), create and destroy
// domains following make_domain_plan(); a transaction that fails with
// EAGAIN at commit is retried whole and counted.
#include <algorithm>
#include <charconv>

#include "bench/bootstorm_plan.hpp"
#include "bench/clock.hpp"
#include "bench/engine.hpp"
#include "bench/workloads.hpp"

namespace xs::bench {

namespace {

struct Toolstack {
    std::uint32_t first_domid = 0;
    std::uint64_t domains_done = 0;
    DomainPlan plan;
    std::size_t group = 0;
    long step = 0;  // -1: TRANSACTION_START; requests.size(): TRANSACTION_END
    std::uint32_t tx = 0;
    std::uint64_t domain_start_ns = 0;
    bool active = false;
};

class BootDriver final : public Driver {
public:
    BootDriver(const BootstormParams& p, bool check) : p_(p), check_(check), toolstacks_(p.toolstacks) {
        for (std::size_t i = 0; i < toolstacks_.size(); ++i)
            toolstacks_[i].first_domid = static_cast<std::uint32_t>(p.first_domid + i * p.domains);
    }

    void start(Engine& e) override {
        t0_ = e.now();
        for (auto& c : e.conns()) begin_domain(e, *c);
    }

    void on_reply(Engine& e, Conn& c, const Reply& r) override;
    void on_event(Engine&, Conn&, const Event&) override { ++events_; }
    bool finished() const override { return domains_done_ == p_.toolstacks * p_.domains; }

    const Histogram& create_latency() const { return create_; }
    std::uint64_t elapsed_ns() const { return t1_ - t0_; }
    std::uint64_t retries() const { return retries_; }
    std::uint64_t commits() const { return commits_; }
    std::uint64_t requests() const { return requests_; }

private:
    void begin_domain(Engine& e, Conn& c);
    void enter_group(Engine& e, Conn& c, Toolstack& t);
    void send_step(Engine& e, Conn& c, Toolstack& t);
    bool check(Engine& e, const PlanRequest& req, const Reply& r);
    void next_group(Engine& e, Conn& c, Toolstack& t);

    const BootstormParams& p_;
    bool check_;
    std::vector<Toolstack> toolstacks_;
    Histogram create_;
    std::uint64_t domains_done_ = 0, retries_ = 0, commits_ = 0, requests_ = 0, events_ = 0;
    std::uint64_t t0_ = 0, t1_ = 0;
};

void BootDriver::begin_domain(Engine& e, Conn& c) {
    Toolstack& t = toolstacks_[static_cast<std::size_t>(c.index())];
    t.plan = make_domain_plan(static_cast<std::uint32_t>(t.first_domid + t.domains_done),
                              BootShape{p_.writes, p_.devices});
    t.group = 0;
    t.domain_start_ns = e.now();
    t.active = true;
    enter_group(e, c, t);
}

// Start the current group, skipping empty ones (no devices: no watches).
void BootDriver::enter_group(Engine& e, Conn& c, Toolstack& t) {
    while (t.group < t.plan.groups.size() && t.plan.groups[t.group].requests.empty()) ++t.group;
    if (t.group >= t.plan.groups.size()) {
        next_group(e, c, t);
        return;
    }
    t.step = t.plan.groups[t.group].transaction ? -1 : 0;
    send_step(e, c, t);
}

void BootDriver::send_step(Engine& e, Conn& c, Toolstack& t) {
    using namespace std::string_view_literals;
    const PlanGroup& g = t.plan.groups[t.group];
    if (t.step < 0) {
        e.send(c, wire::kTransactionStart, 0, {"\0"sv});
    } else if (static_cast<std::size_t>(t.step) == g.requests.size()) {
        e.send(c, wire::kTransactionEnd, t.tx, {"T\0"sv});
    } else {
        const PlanRequest& req = g.requests[static_cast<std::size_t>(t.step)];
        e.send(c, req.type, g.transaction ? t.tx : 0, {req.payload});
    }
}

bool BootDriver::check(Engine& e, const PlanRequest& req, const Reply& r) {
    if (!check_) return true;
    bool ok = false;
    switch (req.expect) {
    case Expect::kOk: ok = !r.is_error(); break;
    case Expect::kOkOrEnoent: ok = !r.is_error() || r.error() == "ENOENT"; break;
    case Expect::kEnoent: ok = r.error() == "ENOENT"; break;
    case Expect::kValue: ok = !r.is_error() && r.payload == req.value; break;
    }
    if (!ok) {
        std::string path = req.payload.substr(0, req.payload.find('\0'));
        e.fail(std::string(wire::type_name(req.type)) + " " + path + ": unexpected " +
               (r.is_error() ? std::string(r.error()) : "'" + std::string(r.payload.substr(0, 64)) + "'"));
    }
    return ok;
}

void BootDriver::on_reply(Engine& e, Conn& c, const Reply& r) {
    Toolstack& t = toolstacks_[static_cast<std::size_t>(c.index())];
    ++requests_;
    const PlanGroup& g = t.plan.groups[t.group];
    if (t.step < 0) {
        std::string_view id = r.payload.substr(0, r.payload.find('\0'));
        auto res = std::from_chars(id.data(), id.data() + id.size(), t.tx);
        if (r.is_error() || res.ec != std::errc() || res.ptr != id.data() + id.size()) {
            e.fail("TRANSACTION_START: unexpected '" + std::string(r.payload.substr(0, 32)) + "'");
            return;
        }
        t.step = 0;
    } else if (static_cast<std::size_t>(t.step) == g.requests.size()) {
        if (r.error() == "EAGAIN") {
            ++retries_;
            t.step = -1;  // the whole transaction again, as a toolstack does
        } else if (r.is_error()) {
            e.fail("TRANSACTION_END of '" + g.label + "': " + std::string(r.error()));
            return;
        } else {
            ++commits_;
            ++t.group;
            next_group(e, c, t);
            return;
        }
    } else {
        if (!check(e, g.requests[static_cast<std::size_t>(t.step)], r)) return;
        ++t.step;
        if (!g.transaction && static_cast<std::size_t>(t.step) == g.requests.size()) {
            ++t.group;
            next_group(e, c, t);
            return;
        }
    }
    send_step(e, c, t);
}

// After a group completes: note the domain's creation time, start the next
// group, or finish the domain and begin the next one.
void BootDriver::next_group(Engine& e, Conn& c, Toolstack& t) {
    if (t.group == t.plan.create_groups) create_.record(e.now() - t.domain_start_ns);
    if (t.group < t.plan.groups.size()) {
        enter_group(e, c, t);
        return;
    }
    t.active = false;
    ++domains_done_;
    if (++t.domains_done < p_.domains) begin_domain(e, c);
    if (finished()) t1_ = e.now();
}

// Best effort after a failure: remove what the plan may have created.
void cleanup_domains(Context& ctx, const BootstormParams& p) {
    auto c = ctx.setup_client();
    if (!c) return;
    for (std::uint64_t i = 0; i < p.toolstacks * p.domains; ++i) {
        std::string dom = std::to_string(p.first_domid + i);
        (void)(*c)->rm("/local/domain/" + dom);
        (void)(*c)->rm("/libxl/" + dom);
        for (std::uint64_t k = 0; k < std::min<std::uint64_t>(p.devices, 5); ++k)
            (void)(*c)->rm("/local/domain/0/backend/" + device_kind(k) + "/" + dom);
    }
}

}  // namespace

void run_bootstorm(Context& ctx) {
    const BootstormParams& p = ctx.opts().bootstorm;
    Fields params{{"toolstacks", static_cast<std::int64_t>(p.toolstacks)},
                  {"domains_per_toolstack", static_cast<std::int64_t>(p.domains)},
                  {"writes_per_tx", static_cast<std::int64_t>(p.writes)},
                  {"devices", static_cast<std::int64_t>(p.devices)},
                  {"first_domid", static_cast<std::int64_t>(p.first_domid)}};
    std::string variant = "k=" + std::to_string(p.toolstacks) + " writes=" + std::to_string(p.writes);

    Engine e;
    for (std::uint64_t i = 0; i < p.toolstacks; ++i) {
        auto s = ctx.transport().open();
        if (!s) return emit_failure(ctx, "bootstorm", variant, params, s.error());
        e.add(std::move(*s), 1);
    }
    Meter meter(ctx);
    meter.start();
    BootDriver d(p, !ctx.echo());
    if (auto r = e.run(d, ctx.deadline()); !r) {
        emit_failure(ctx, "bootstorm", variant, params, r.error());
        cleanup_domains(ctx, p);
        return;
    }
    Measurement m = ctx.measurement("bootstorm", variant, params);
    m.ops = p.toolstacks * p.domains;
    m.seconds = ns_to_s(d.elapsed_ns());
    m.latency = latency_of(d.create_latency());
    meter.finish(m);
    m.set("domains_per_s", m.ops_per_s());
    m.set("worst_domain_ms", static_cast<double>(d.create_latency().max()) / 1e6);
    m.set("transactions", static_cast<std::int64_t>(d.commits()));
    m.set("eagain_retries", static_cast<std::int64_t>(d.retries()));
    m.set("eagain_retries_per_tx",
          d.commits() ? static_cast<double>(d.retries()) / static_cast<double>(d.commits()) : 0.0);
    m.set("requests", static_cast<std::int64_t>(d.requests()));
    ctx.emit(std::move(m));
}

}  // namespace xs::bench
