#include "bench/options.hpp"

#include <charconv>
#include <functional>
#include <map>

namespace xs::bench {

const std::vector<std::string>& workload_names() {
    static const std::vector<std::string> names{"ping", "pipeline", "bootstorm", "watch", "bigstore"};
    return names;
}

bool is_workload(const std::string& name) {
    if (name == "guests" || name == "liveupdate" || name == "release" || name == "pin" || name == "guestboot")
        return true;
    for (const auto& w : workload_names())
        if (w == name) return true;
    return false;
}

Checked<std::uint64_t> parse_count(const std::string& text) {
    std::uint64_t v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size())
        return failed("not a count: '" + text + "'");
    return v;
}

Checked<std::vector<std::uint64_t>> parse_list(const std::string& text) {
    std::vector<std::uint64_t> out;
    std::size_t start = 0;
    for (;;) {
        std::size_t comma = text.find(',', start);
        auto item = parse_count(text.substr(start, comma == std::string::npos ? comma : comma - start));
        if (!item) return failed("not a list of counts: '" + text + "'");
        out.push_back(*item);
        if (comma == std::string::npos) return out;
        start = comma + 1;
    }
}

namespace {

std::vector<std::string> split_words(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        std::size_t comma = text.find(',', start);
        out.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
        if (comma == std::string::npos) return out;
        start = comma + 1;
    }
}

using Setter = std::function<Checked<>(Options&, const std::string&)>;

template <class P>
Setter count_of(P Options::*part, std::uint64_t P::*field) {
    return [=](Options& o, const std::string& v) -> Checked<> {
        auto n = parse_count(v);
        if (!n) return unexpected(n.error());
        (o.*part).*field = *n;
        return {};
    };
}

template <class P>
Setter list_of(P Options::*part, std::vector<std::uint64_t> P::*field) {
    return [=](Options& o, const std::string& v) -> Checked<> {
        auto n = parse_list(v);
        if (!n) return unexpected(n.error());
        (o.*part).*field = *n;
        return {};
    };
}

// Options that take a value, common ones first. --ops and --value-size
// apply to ping and pipeline alike.
std::map<std::string, Setter> common_setters() {
    return {
        {"socket", [](Options& o, const std::string& v) -> Checked<> { o.socket = v; return {}; }},
        {"daemon-pid", [](Options& o, const std::string& v) -> Checked<> {
             auto n = parse_count(v);
             if (!n || *n == 0) return failed("bad --daemon-pid '" + v + "'");
             o.daemon_pid = static_cast<pid_t>(*n);
             return {};
         }},
        {"daemon-name", [](Options& o, const std::string& v) -> Checked<> { o.daemon_name = v; return {}; }},
        {"placement", [](Options& o, const std::string& v) -> Checked<> { o.placement = v; return {}; }},
        {"fakexen", [](Options& o, const std::string& v) -> Checked<> {
             if (v.empty()) return failed("--fakexen needs a directory");
             o.fakexen = v;
             o.fakexen_given = true;
             return {};
         }},
        {"prefix", [](Options& o, const std::string& v) -> Checked<> {
             if (v.size() < 2 || v[0] != '/' || v.back() == '/') return failed("bad --prefix '" + v + "'");
             o.prefix = v;
             return {};
         }},
        {"format", [](Options& o, const std::string& v) -> Checked<> {
             if (v == "table") o.format = Format::kTable;
             else if (v == "json") o.format = Format::kJson;
             else if (v == "both") o.format = Format::kBoth;
             else return failed("--format is table, json or both");
             return {};
         }},
        {"timeout", [](Options& o, const std::string& v) -> Checked<> {
             auto n = parse_count(v);
             if (!n || *n == 0) return failed("bad --timeout '" + v + "'");
             o.timeout_s = static_cast<double>(*n);
             return {};
         }},
        {"ops", [](Options& o, const std::string& v) -> Checked<> {
             auto n = parse_count(v);
             if (!n || *n == 0) return failed("bad --ops '" + v + "'");
             o.ping.ops = o.pipeline.ops = *n;
             return {};
         }},
        {"value-size", [](Options& o, const std::string& v) -> Checked<> {
             auto n = parse_count(v);
             if (!n || *n < 12 || *n > 2048) return failed("--value-size is 12..2048");
             o.ping.value_size = o.pipeline.value_size = *n;
             return {};
         }},
    };
}

// Workload parameters; names are unique across workloads so `all` takes them all.
std::map<std::string, Setter> workload_setters() {
    return {
        {"warmup", [](Options& o, const std::string& v) -> Checked<> {
             auto n = parse_count(v);
             if (!n) return unexpected(n.error());
             o.ping.warmup = *n;
             return {};
         }},
        {"clients", list_of(&Options::pipeline, &PipelineParams::clients)},
        {"window", count_of(&Options::pipeline, &PipelineParams::window)},
        {"keys", count_of(&Options::pipeline, &PipelineParams::keys)},
        {"mix", [](Options& o, const std::string& v) -> Checked<> {
             auto words = split_words(v);
             for (const auto& w : words)
                 if (w != "read" && w != "write") return failed("--mix items are read and write");
             o.pipeline.mixes = words;
             return {};
         }},
        {"toolstacks", count_of(&Options::bootstorm, &BootstormParams::toolstacks)},
        {"domains", count_of(&Options::bootstorm, &BootstormParams::domains)},
        {"tx-writes", count_of(&Options::bootstorm, &BootstormParams::writes)},
        {"devices", count_of(&Options::bootstorm, &BootstormParams::devices)},
        {"first-domid", count_of(&Options::bootstorm, &BootstormParams::first_domid)},
        {"watches", list_of(&Options::watch, &WatchParams::watches)},
        {"watch-writes", count_of(&Options::watch, &WatchParams::writes)},
        {"watch-conns", count_of(&Options::watch, &WatchParams::conns)},
        {"nodes", list_of(&Options::bigstore, &BigstoreParams::nodes)},
        {"children", count_of(&Options::bigstore, &BigstoreParams::children)},
        {"listings", count_of(&Options::bigstore, &BigstoreParams::listings)},
        {"big-writes", count_of(&Options::bigstore, &BigstoreParams::writes)},
        {"build-conns", count_of(&Options::bigstore, &BigstoreParams::conns)},
        {"guests", count_of(&Options::guests, &GuestsParams::guests)},
        {"first-guest", count_of(&Options::guests, &GuestsParams::first_domid)},
        {"guest-rounds", count_of(&Options::guests, &GuestsParams::rounds)},
        {"gb-guests", list_of(&Options::guestboot, &GuestBootParams::guests)},
        {"gb-first-domid", count_of(&Options::guestboot, &GuestBootParams::first_domid)},
        {"gb-toolstacks", count_of(&Options::guestboot, &GuestBootParams::toolstacks)},
        {"gb-backend-domains", count_of(&Options::guestboot, &GuestBootParams::backend_domains)},
        {"gb-idle-ms", count_of(&Options::guestboot, &GuestBootParams::idle_ms)},
        {"gb-requests", count_of(&Options::guestboot, &GuestBootParams::requests)},
        {"gb-stall", count_of(&Options::guestboot, &GuestBootParams::stall_s)},
        {"rel-nodes", count_of(&Options::release, &ReleaseParams::nodes)},
        {"rel-owned", count_of(&Options::release, &ReleaseParams::owned)},
        {"rel-named", count_of(&Options::release, &ReleaseParams::named)},
        {"rel-rounds", count_of(&Options::release, &ReleaseParams::rounds)},
        {"rel-first-domid", count_of(&Options::release, &ReleaseParams::first_domid)},
        {"pin-nodes", count_of(&Options::pin, &PinParams::nodes)},
        {"pin-value-bytes", count_of(&Options::pin, &PinParams::value_bytes)},
        {"pin-rounds", count_of(&Options::pin, &PinParams::rounds)},
        {"lu-nodes", count_of(&Options::liveupdate, &LiveUpdateParams::nodes)},
        {"lu-conns", count_of(&Options::liveupdate, &LiveUpdateParams::conns)},
        {"lu-guests", [](Options& o, const std::string& v) -> Checked<> {
             auto n = parse_count(v);
             if (!n) return unexpected(n.error());
             o.liveupdate.guests = *n;
             return {};
         }},
        {"lu-first-guest", count_of(&Options::liveupdate, &LiveUpdateParams::first_domid)},
        {"lu-watches", count_of(&Options::liveupdate, &LiveUpdateParams::watches)},
        {"lu-updates", count_of(&Options::liveupdate, &LiveUpdateParams::updates)},
        {"lu-interval", count_of(&Options::liveupdate, &LiveUpdateParams::interval_ms)},
        {"lu-binary", [](Options& o, const std::string& v) -> Checked<> {
             if (v.empty() || v[0] != '/') return failed("--lu-binary needs an absolute path");
             o.liveupdate.binary = v;
             return {};
         }},
        {"lu-version", [](Options& o, const std::string& v) -> Checked<> {
             auto n = parse_count(v);
             if (!n || *n == 0 || *n > 0xFFFFFFFFu) return failed("bad --lu-version '" + v + "'");
             o.liveupdate.version = *n;
             return {};
         }},
    };
}

const std::map<std::string, Setter>& value_options() {
    static const std::map<std::string, Setter> m = [] {
        auto all = common_setters();
        all.merge(workload_setters());
        return all;
    }();
    return m;
}

Checked<> validate_liveupdate(const Options& o) {
    const LiveUpdateParams& p = o.liveupdate;
    if (p.conns == 0 || p.conns > 4096) return failed("--lu-conns is 1..4096");
    if (p.updates == 0) return failed("--lu-updates must be at least 1");
    if (p.nodes < 200) return failed("--lu-nodes must be at least 200");
    if (p.watches > 128 * p.conns) return failed("--lu-watches: at most 128 per connection (a guest's quota)");
    std::uint64_t guests = p.guests_for(!o.fakexen.empty());
    if (guests > p.conns) return failed("--lu-guests cannot exceed --lu-conns");
    if (guests > 0 && (p.first_domid == 0 || p.first_domid + guests >= 0x7FF0))
        return failed("--lu-first-guest: the guests' domids must lie in 1..32751");
    if (o.command == "liveupdate" && p.guests && *p.guests > 0 && o.fakexen.empty())
        return failed("--lu-guests needs a fake-Xen host: --fakexen DIR or $XSTORE_FAKEXEN");
    return {};
}

Checked<> validate_guestboot(const Options& o) {
    const GuestBootParams& p = o.guestboot;
    std::uint64_t total = 0;
    for (auto n : p.guests) {
        if (n == 0) return failed("--gb-guests items must be at least 1");
        total += n;
    }
    if (p.first_domid == 0 || p.first_domid + total >= 0x7FF0)
        return failed("--gb-first-domid: the guests' domids (every size's) must lie in 1..32751");
    if (p.toolstacks == 0 || p.backend_domains == 0 || p.requests == 0 || p.stall_s == 0)
        return failed("--gb-toolstacks, --gb-backend-domains, --gb-requests and --gb-stall must be at least 1");
    if (o.command == "guestboot" && o.fakexen.empty() && !o.echo)
        return failed("guestboot needs a fake-Xen host: --fakexen DIR or $XSTORE_FAKEXEN");
    return {};
}

Checked<> validate(const Options& o) {
    auto positive = [](std::uint64_t v, const char* name) -> Checked<> {
        if (v == 0) return failed(std::string("--") + name + " must be at least 1");
        return {};
    };
    for (auto c : o.pipeline.clients)
        if (c == 0 || c > 1024) return failed("--clients items are 1..1024");
    if (o.pipeline.window == 0 || o.pipeline.window > 4096) return failed("--window is 1..4096");
    if (o.bootstorm.writes < 4) return failed("--tx-writes must be at least 4");
    if (o.bootstorm.first_domid == 0 || o.bootstorm.first_domid + o.bootstorm.toolstacks * o.bootstorm.domains >= 0x7FF0)
        return failed("--first-domid: the domains must lie in 1..32751");
    for (auto w : o.watch.watches)
        if (w > 10'000'000) return failed("--watches items are at most 10000000");
    for (auto n : o.bigstore.nodes)
        if (n < 200) return failed("--nodes items are at least 200");
    if (o.guests.first_domid == 0 || o.guests.first_domid + o.guests.guests >= 0x7FF0)
        return failed("--first-guest: the guests' domids must lie in 1..32751");
    if (o.command == "guests" && o.fakexen.empty() && !o.echo)
        return failed("guests needs a fake-Xen host: --fakexen DIR or $XSTORE_FAKEXEN");
    if (auto r = validate_liveupdate(o); !r) return r;
    if (auto r = validate_guestboot(o); !r) return r;
    const ReleaseParams& rel = o.release;
    if (rel.nodes < 200) return failed("--rel-nodes must be at least 200");
    if (rel.owned < 2 || rel.named < 2) return failed("--rel-owned and --rel-named must be at least 2");
    if (rel.rounds == 0) return failed("--rel-rounds must be at least 1");
    if (rel.first_domid == 0 || rel.first_domid + rel.rounds >= 0x7FF0)
        return failed("--rel-first-domid: the domains must lie in 1..32751");
    if (o.command == "release" && o.fakexen.empty() && !o.echo)
        return failed("release needs a fake-Xen host: --fakexen DIR or $XSTORE_FAKEXEN");
    if (o.pin.nodes == 0 || o.pin.rounds == 0) return failed("--pin-nodes and --pin-rounds must be at least 1");
    if (o.pin.value_bytes > 4000) return failed("--pin-value-bytes is at most 4000");
    Checked<> r;
    for (auto [v, name] : {std::pair{o.ping.ops, "ops"}, {o.pipeline.keys, "keys"},
                           {o.bootstorm.toolstacks, "toolstacks"}, {o.bootstorm.domains, "domains"},
                           {o.watch.writes, "watch-writes"}, {o.watch.conns, "watch-conns"},
                           {o.bigstore.listings, "listings"}, {o.bigstore.writes, "big-writes"},
                           {o.bigstore.conns, "build-conns"}, {o.bigstore.children, "children"},
                           {o.guests.guests, "guests"}, {o.guests.rounds, "guest-rounds"}})
        if (!(r = positive(v, name))) return r;
    return {};
}

}  // namespace

void apply_smoke(Options& o) {
    o.ping.ops = 300;
    o.pipeline.clients = {1, 4};
    o.pipeline.window = 8;
    o.pipeline.ops = 400;
    o.pipeline.keys = 4;
    o.bootstorm.toolstacks = 2;
    o.bootstorm.domains = 2;
    o.bootstorm.writes = 10;
    o.bootstorm.devices = 2;
    o.watch.watches = {0, 100};
    o.watch.writes = 100;
    o.watch.conns = 2;
    o.bigstore.nodes = {2000};
    o.bigstore.children = 1000;
    o.bigstore.listings = 3;
    o.bigstore.writes = 100;
    o.bigstore.conns = 2;
    o.guests.guests = 2;
    o.guests.rounds = 50;
    o.release.nodes = 2000;
    o.release.owned = 20;
    o.release.named = 4;
    o.release.rounds = 2;
    o.pin.nodes = 100;
    o.pin.rounds = 3;
    o.guestboot.guests = {2, 5};
    o.guestboot.idle_ms = 100;
    o.guestboot.requests = 200;
    o.liveupdate.nodes = 300;
    o.liveupdate.conns = 4;
    o.liveupdate.watches = 8;
    o.liveupdate.updates = 2;
    o.liveupdate.interval_ms = 200;
}

Checked<Options> parse_options(const std::vector<std::string>& args, const std::string& default_socket,
                               const std::string& default_fakexen) {
    Options o;
    o.socket = default_socket;
    o.fakexen = default_fakexen;
    // First pass: flags and the command; collect valued options so that
    // --smoke applies before them whatever the order.
    std::vector<std::pair<std::string, std::string>> values;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "-h" || a == "--help") {
            o.command = "help";
            return o;
        }
        if (a.rfind("--", 0) != 0) {
            if (!o.command.empty()) return failed("unexpected argument '" + a + "'");
            o.command = a;
            continue;
        }
        std::string name = a.substr(2), value;
        bool has_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
            has_value = true;
        }
        if (name == "echo" || name == "smoke" || name == "keep") {
            if (has_value) return failed("--" + name + " takes no value");
            (name == "echo" ? o.echo : name == "smoke" ? o.smoke : o.keep) = true;
            continue;
        }
        if (!value_options().contains(name)) return failed("unknown option --" + name);
        if (!has_value) {
            if (i + 1 >= args.size()) return failed("--" + name + " needs a value");
            value = args[++i];
        }
        values.emplace_back(name, value);
    }
    if (o.command.empty()) return failed("no workload given");
    if (o.command != "all" && !is_workload(o.command)) return failed("unknown workload '" + o.command + "'");
    if (o.smoke) apply_smoke(o);
    for (const auto& [name, value] : values) {
        auto r = value_options().at(name)(o, value);
        if (!r) return unexpected(r.error());
    }
    auto v = validate(o);
    if (!v) return unexpected(v.error());
    return o;
}

std::string usage() {
    return R"(usage: xstore-bench [options] WORKLOAD [options]

Workloads: ping, pipeline, bootstorm, watch, bigstore, guests, all (every one in
that order; guests only when --fakexen is given), liveupdate (only when
named: it live-updates the daemon), release and guestboot (only when named;
both need --fakexen) and pin (only when named).

Common options:
  --socket PATH        daemon socket (default $XENSTORED_PATH or /run/xenstored/socket)
  --daemon-pid PID     daemon process (default: the socket peer, SO_PEERCRED)
  --daemon-name NAME   label in the report (default: the process name)
  --placement LABEL    label in the report (default: same-cpu/split/unpinned from affinities)
  --echo               the daemon is xstore-echo: do not check answers
  --smoke              tiny sizes (a few hundred operations per workload)
  --format F           table, json or both (default both: JSON lines, then the table)
  --timeout SECONDS    time limit of each measured phase (default 120)
  --prefix PATH        where the workloads put their nodes (default /bench)
  --keep               leave the workloads' nodes in place (no cleanup)
  --fakexen DIR        the fake-Xen host the daemon runs on (default $XSTORE_FAKEXEN;
                       needed by guests)

ping:       --ops N (20000) --warmup N (ops/10) --value-size B (16)
pipeline:   --clients LIST (1,4,16,64) --window N (16) --mix LIST (read,write)
            --ops N per configuration (200000) --keys N per client (16)
bootstorm:  --toolstacks N (16) --domains N per toolstack (4) --tx-writes N (30)
            --devices N (3) --first-domid N (1000)
watch:      --watches LIST (0,1000,10000) --watch-writes N (2000) --watch-conns N (4)
bigstore:   --nodes LIST (10000,100000) --children N (10000) --listings N (20)
            --big-writes N (2000) --build-conns N (4)
guests:     --guests N (8) --first-guest DOMID (1) --guest-rounds N per guest (1000)
liveupdate: --lu-nodes N (100000) --lu-conns N (100) --lu-guests N of them (half
            with --fakexen, else 0) --lu-first-guest DOMID (1) --lu-watches N (1000)
            --lu-updates N (5) --lu-interval MS of load before each (1000)
            --lu-binary PATH (the daemon's own) --lu-version N (-v N on -s; none)
guestboot:  --gb-guests LIST (10,100) --gb-first-domid DOMID (1) --gb-toolstacks N (16)
            --gb-backend-domains N per backend connection (64) --gb-idle-ms MS (10000)
            --gb-requests N of the CPU comparison (20000) --gb-stall SECONDS (10)
release:    --rel-nodes N (1000000) --rel-owned N (100) --rel-named N (10)
            --rel-rounds N (5) --rel-first-domid DOMID (2000)
pin:        --pin-nodes N (2000) --pin-value-bytes B (1500) --pin-rounds N (10)
)";
}

}  // namespace xs::bench
