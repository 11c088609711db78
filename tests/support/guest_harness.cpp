#include "tests/support/guest_harness.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <set>
#include <thread>

#include "tests/support/tree_count.hpp"
#include "tools/fakexen/domains.hpp"
#include "transport/wire.hpp"

namespace xs::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : std::string(fallback);
}

// Sets environment variables for as long as it lives: the daemon is
// started with the fake host in its environment, and only the daemon (the
// support library's Daemon passes our environment on to it).
class ScopedEnv {
public:
    void set(const std::string& name, const std::string& value) {
        const char* old = std::getenv(name.c_str());
        saved_.push_back({name, old ? std::optional<std::string>(old) : std::nullopt});
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~ScopedEnv() {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
            else ::unsetenv(it->first.c_str());
        }
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

std::unique_ptr<Daemon> start_daemon(const std::string& host_dir, DaemonOptions opts) {
    ScopedEnv env;
    env.set(fakexen::kEnvHost, host_dir);
    std::string libs = fakexen_libdir();
    if (const char* old = std::getenv("LD_LIBRARY_PATH"); old && *old) libs += std::string(":") + old;
    env.set("LD_LIBRARY_PATH", libs);
    // Through a launcher (xstore-fakexen exec) the daemon finds dom0's ring
    // at the usual /proc/xen paths; started directly, it is told where.
    if (opts.launcher.empty()) {
        std::vector<std::string> args = {"--xsd-kva", host_dir + "/" + fakexen::kXsdKvaFile, "--xsd-port",
                                         host_dir + "/" + fakexen::kXsdPortFile};
        args.insert(args.end(), opts.args.begin(), opts.args.end());
        opts.args = std::move(args);
    }
    return std::make_unique<Daemon>(std::move(opts));
}

std::string describe(const Result<>& r) { return outcome(r); }

}  // namespace

std::string fakexen_libdir() { return env_or("XSTORE_FAKEXEN_LIBDIR", ""); }

std::string fakexen_cli() { return env_or("XSTORE_FAKEXEN_CLI", "xstore-fakexen"); }

GuestHarness::GuestHarness(DaemonOptions opts) : dir_(std::make_unique<TempDir>("xstored-guests")) {
    auto host = fakexen::init_host(dir_->file("host"));
    if (!host) throw std::runtime_error("cannot create a fake host: errno " + std::to_string(host.error().code));
    host_ = *host;
    daemon_ = start_daemon(host_->dir(), std::move(opts));
    dom0_ = daemon_->connect();
    // Its socket listens before the daemon has set up dom0's own ring: a
    // first answer means start-up is over.
    if (!sync(*dom0_)) throw std::runtime_error("xstored did not answer its first request");
}

GuestHarness::~GuestHarness() {
    try {
        if (daemon_->alive()) {
            check_service();
            check_accounting();
        }
    } catch (const std::exception& e) {
        FAIL_CHECK("end-of-test checks failed: " << std::string(e.what()));
    }
    dom0_.reset();
    for (const auto& problem : daemon_->stop()) FAIL_CHECK(problem);
}

// ---------------------------------------------------------------- toolstack

void GuestHarness::create(DomId d, std::uint32_t flags) {
    auto r = fakexen::create_domain(*host_, d, flags);
    INFO("create domain " << d << ": errno " << (r ? 0 : r.error().code));
    REQUIRE(r.has_value());
    created_.push_back(d);
}

Result<> GuestHarness::introduce(DomId d, std::optional<std::uint32_t> port) {
    auto info = fakexen::domain_info(*host_, d);
    if (!info) return fail(info.error());
    std::uint32_t p = port.value_or(info->record.store_port);
    auto r = dom0_->request_string(wire::kIntroduce, {std::to_string(d), std::to_string(info->record.ring_gfn),
                                                      std::to_string(p)});
    if (!r) return fail(r.error());
    return {};
}

void GuestHarness::make_home(DomId d, Home how) {
    if (how == Home::None) return;
    std::string home = "/local/domain/" + std::to_string(d);
    std::string id = std::to_string(d);
    std::vector<std::string> perms =
        how == Home::Guest ? std::vector<std::string>{"n" + id} : std::vector<std::string>{"n0", "r" + id};
    REQUIRE(describe(dom0_->write(home, "")) == "OK");
    REQUIRE(describe(dom0_->set_perms(home, perms)) == "OK");
    REQUIRE(describe(dom0_->write(home + "/domid", id)) == "OK");
    REQUIRE(describe(dom0_->write(home + "/data", "")) == "OK");
    REQUIRE(describe(dom0_->set_perms(home + "/data", {"n" + id})) == "OK");
}

GuestConn GuestHarness::attach(DomId d) {
    auto g = fakexen::Guest::attach(host_, d);
    INFO("attach to domain " << d << ": errno " << (g ? 0 : g.error().code));
    REQUIRE(g.has_value());
    GuestConn conn;
    conn.domid = d;
    conn.ring = *g;
    conn.client = std::make_unique<client::Client>(fakexen::ring_channel(*g));
    conn.client->timeout = scaled(std::chrono::milliseconds(10000));
    return conn;
}

GuestConn GuestHarness::add_guest(DomId d, Home how) {
    create(d);
    make_home(d, how);
    auto r = introduce(d);
    INFO("INTRODUCE " << d << ": " << describe(r));
    REQUIRE(r.has_value());
    return attach(d);
}

void GuestHarness::shutdown(DomId d, std::uint32_t reason) {
    auto r = fakexen::shutdown_domain(*host_, d, reason);
    REQUIRE(r.has_value());
}

void GuestHarness::destroy(DomId d, bool stop_at_dying) {
    auto r = fakexen::destroy_domain(*host_, d, stop_at_dying);
    REQUIRE(r.has_value());
}

std::uint32_t GuestHarness::store_port(DomId d) {
    auto info = fakexen::domain_info(*host_, d);
    REQUIRE(info.has_value());
    return info->record.store_port;
}

fakexen::DomainState GuestHarness::state(DomId d) {
    auto info = fakexen::domain_info(*host_, d);
    return info ? info->record.state : fakexen::DomainState::kNone;
}

// ---------------------------------------------------------------- accounting

std::map<DomId, std::uint64_t> GuestHarness::owned_nodes() {
    TreeCount t = count_tree(*dom0_);
    for (const auto& p : t.problems) FAIL_CHECK("tree walk: " << p);
    return t.nodes_by_owner;
}

std::optional<std::uint64_t> GuestHarness::accounted(DomId d, std::string_view item) {
    auto text = dom0_->control({"quota", std::to_string(d)});
    if (!text) return std::nullopt;
    return quota_row(*text, item);
}

void GuestHarness::check_accounting() {
    std::map<DomId, std::uint64_t> real = owned_nodes();
    std::set<DomId> domains(created_.begin(), created_.end());
    domains.insert(0);
    for (const auto& [d, n] : real) domains.insert(d);
    for (DomId d : domains) {
        std::uint64_t expected = real.count(d) ? real[d] : 0;
        auto acc = accounted(d);
        INFO("domain " << d << ": the tree holds " << expected << " nodes it owns");
        if (acc) CHECK(*acc == expected);
        else CHECK(expected == 0);  // no record: it must own nothing
    }
    auto check = dom0_->control({"check"});
    CHECK(value(check) == "OK");
}

void GuestHarness::check_service() {
    auto r = dom0_->call(wire::kRead, std::string_view("/tool/xenstored\0", 16));
    CHECK_MESSAGE(r.has_value(), "xstored did not answer dom0's socket");
    auto fresh = daemon_->connect();
    CHECK_MESSAGE(fresh->call(wire::kRead, std::string_view("/tool/xenstored\0", 16)).has_value(),
                  "xstored did not answer a new dom0 connection");
    // A guest introduced now is served.
    if (state(kWitness) == fakexen::DomainState::kNone || state(kWitness) == fakexen::DomainState::kDestroyed) {
        create(kWitness);
        make_home(kWitness, Home::Toolstack);
        auto intro = introduce(kWitness);
        CHECK_MESSAGE(intro.has_value(), "INTRODUCE of a fresh guest failed at the end of the test");
        if (!intro) return;
    }
    GuestConn w = attach(kWitness);
    CHECK(describe(w->write("data", "witness")) == "OK");
    CHECK(value(w->read("data")) == "witness");
}

// ---------------------------------------------------------------- waiting

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    auto deadline = Clock::now() + scaled(limit);
    for (;;) {
        if (pred()) return true;
        if (Clock::now() >= deadline) return pred();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

std::optional<Event> wait_event(client::Client& c, std::chrono::milliseconds wait) {
    auto m = c.next_event(scaled(wait));
    if (!m) return std::nullopt;
    return parse_event(*m);
}

}  // namespace xs::testing
