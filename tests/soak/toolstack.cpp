// The well-behaved toolstack: domains created with the usual device
// handshake (a vif's frontend and backend directories written in one
// transaction, the guest's frontend going to Connected, the backend
// following), then destroyed and cleaned up. Every request is timed.
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

// Toolstack domains are 1000 and up, reused in turn.
constexpr DomId kFirstToolstackDomain = 1000;
constexpr unsigned kToolstackDomains = 8;
constexpr int kMaxCommitRetries = 20;

class Toolstack {
public:
    Toolstack(Run& run, client::Client& c, Latencies& lat, Counts& counts)
        : run_(run), c_(c), lat_(lat), counts_(counts) {}

    void cycle(DomId d);

private:
    // One request, timed, with its outcome checked against `want`.
    template <class F>
    auto timed(const std::string& kind, F&& f) {
        auto t0 = Clock::now();
        auto r = f();
        lat_.add(kind, std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        ++counts_["toolstack " + kind];
        return r;
    }
    template <class R>
    bool expect(const std::string& what, const R& r, const std::string& want = "OK") {
        if (outcome(r) == want) return true;
        run_.violation("toolstack: " + what + ": " + outcome(r) + ", expected " + want);
        return false;
    }
    bool expect_value(const std::string& what, const Result<std::string>& r, const std::string& want) {
        if (r && *r == want) return true;
        run_.violation("toolstack: " + what + ": " + (r ? "\"" + *r + "\"" : outcome(r)) + ", expected " + want);
        return false;
    }
    bool build(DomId d);
    bool handshake(DomId d);
    void teardown(DomId d);

    Run& run_;
    client::Client& c_;
    Latencies& lat_;
    Counts& counts_;
    std::string home_, fe_, be_;
};

bool Toolstack::build(DomId d) {
    std::string id = std::to_string(d);
    for (int attempt = 0; attempt <= kMaxCommitRetries; ++attempt) {
        auto t = timed("TRANSACTION_START", [&] { return c_.transaction_start(); });
        if (!expect("TRANSACTION_START", t)) return false;
        bool ok = true;
        auto w = [&](const std::string& p, const std::string& v) {
            ok = ok && expect("WRITE " + p, timed("WRITE", [&] { return c_.write(p, v, *t); }));
        };
        auto perms = [&](const std::string& p, const std::vector<std::string>& ps) {
            ok = ok && expect("SET_PERMS " + p, timed("SET_PERMS", [&] { return c_.set_perms(p, ps, *t); }));
        };
        w(home_, "");
        perms(home_, {"n0", "r" + id});
        w(home_ + "/domid", id);
        w(home_ + "/data", "");
        perms(home_ + "/data", {"n" + id});
        // Each directory's permissions first: its children inherit them.
        w(fe_, "");
        perms(fe_, {"n" + id, "r0"});
        w(fe_ + "/backend", be_);
        w(fe_ + "/backend-id", "0");
        w(fe_ + "/state", "1");
        w(be_, "");
        perms(be_, {"n0", "r" + id});
        w(be_ + "/frontend", fe_);
        w(be_ + "/frontend-id", id);
        w(be_ + "/state", "1");
        if (!ok) return false;
        auto end = timed("TRANSACTION_END", [&] { return c_.transaction_end(*t, true); });
        if (end) return true;
        if (outcome(end) != "EAGAIN") return expect("TRANSACTION_END", end);
        ++counts_["toolstack commit retries"];
    }
    run_.violation("toolstack: the domain-build transaction of " + id + " failed " +
                   std::to_string(kMaxCommitRetries) + " times with EAGAIN");
    return false;
}

// The guest's frontend goes to Connected (4); the backend, told by its
// watch, follows.
bool Toolstack::handshake(DomId d) {
    std::string token = "fe-" + std::to_string(d);
    if (!expect("WATCH", timed("WATCH", [&] { return c_.watch(fe_ + "/state", token); }))) return false;
    auto guest = fakexen::Guest::attach(run_.shared_host(), d);
    if (!guest) {
        run_.violation("toolstack: cannot attach to domain " + std::to_string(d) + "'s ring");
        return false;
    }
    client::Client g(fakexen::ring_channel(*guest));
    g.timeout = 10000ms;
    bool ok = expect_value("guest READ backend", g.read("device/vif/0/backend"), be_) &&
              expect_value("guest READ backend state", g.read(be_ + "/state"), "1") &&
              expect("guest WRITE ring-ref", g.write("device/vif/0/ring-ref", "8")) &&
              expect("guest WRITE event-channel", g.write("device/vif/0/event-channel", "9")) &&
              expect("guest WRITE state", g.write("device/vif/0/state", "4"));
    ++counts_["toolstack guest handshakes"];
    // The backend hears the frontend's state change.
    auto deadline = Clock::now() + 10s;
    bool connected = false;
    while (ok && !connected && Clock::now() < deadline) {
        auto e = c_.next_event(100ms);
        if (!e) continue;
        auto s = timed("READ", [&] { return c_.read(fe_ + "/state"); });
        connected = s && *s == "4";
    }
    if (ok && !connected) run_.violation("toolstack: no watch event for domain " + std::to_string(d) + "'s frontend");
    ok = ok && connected && expect("WRITE backend state", timed("WRITE", [&] { return c_.write(be_ + "/state", "4"); }));
    ok = ok && expect_value("guest READ backend state", g.read(be_ + "/state"), "4");
    (void)timed("UNWATCH", [&] { return c_.unwatch(fe_ + "/state", token); });
    (void)testing::take_events(c_);
    return ok;
}

void Toolstack::teardown(DomId d) {
    std::string id = std::to_string(d);
    if (!fakexen::destroy_domain(run_.host(), d)) run_.violation("fake host: cannot destroy domain " + id);
    auto deadline = Clock::now() + 30s;
    for (;;) {
        auto r = timed("IS_DOMAIN_INTRODUCED", [&] { return c_.request_string(wire::kIsDomainIntroduced, {id}); });
        if (r && *r == "F") break;
        if (Clock::now() > deadline) {
            run_.violation("toolstack: domain " + id + " still introduced 30 s after its destruction");
            break;
        }
        std::this_thread::sleep_for(2ms);
    }
    // The frontend (the guest's) went with the guest; the rest is ours.
    expect("READ frontend after death", timed("READ", [&] { return c_.read(fe_ + "/state"); }), "ENOENT");
    expect("RM backend", timed("RM", [&] { return c_.rm("/local/domain/0/backend/vif/" + id); }));
    expect("RM home", timed("RM", [&] { return c_.rm(home_); }));
}

void Toolstack::cycle(DomId d) {
    std::string id = std::to_string(d);
    home_ = "/local/domain/" + id;
    fe_ = home_ + "/device/vif/0";
    be_ = "/local/domain/0/backend/vif/" + id + "/0";
    if (!fakexen::create_domain(run_.host(), d)) {
        run_.violation("fake host: cannot create toolstack domain " + id);
        return;
    }
    bool ok = build(d);
    if (ok) {
        auto info = fakexen::domain_info(run_.host(), d);
        ok = info && expect("INTRODUCE", timed("INTRODUCE", [&] {
                                 return c_.request_string(wire::kIntroduce,
                                                          {id, std::to_string(info->record.ring_gfn),
                                                           std::to_string(info->record.store_port)});
                             }));
    }
    if (ok) ok = handshake(d);
    teardown(d);
    ++counts_[ok ? "toolstack domains built and destroyed" : "toolstack cycles failed"];
}

}  // namespace

void toolstack_cycles(Run& run, client::Client& c, Clock::time_point until, Latencies& lat, Counts& counts) {
    Toolstack t(run, c, lat, counts);
    static unsigned next = 0;
    while (Clock::now() < until) t.cycle(static_cast<DomId>(kFirstToolstackDomain + next++ % kToolstackDomains));
}

}  // namespace xs::soak
