// Live update under load: 20 socket clients and 20 guests over their rings
// keep issuing pipelined requests while the daemon updates itself; every
// request gets exactly one reply, in order, with the right content; watch
// events fired between updates arrive once each with their tokens; open
// transactions survive. Once, then 100 times in a row.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "lu_support.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs;
using namespace xs::testing;

namespace {

constexpr int kSockets = 20;
constexpr int kGuests = 20;
constexpr DomId kFirstGuest = 1;

class Load {
public:
    explicit Load(GuestHarness& h) : h_(h) {
        for (int i = 0; i < kGuests; ++i) guests_.push_back(h.add_guest(static_cast<DomId>(kFirstGuest + i)));
        for (int i = 0; i < kSockets; ++i) sockets_.push_back(h.connect());
    }
    ~Load() { stop(); }

    void start() {
        for (int i = 0; i < kSockets; ++i)
            threads_.emplace_back([this, i] { run(*sockets_[static_cast<std::size_t>(i)], "/load/s" + std::to_string(i)); });
        for (int i = 0; i < kGuests; ++i)
            threads_.emplace_back([this, i] { run(*guests_[static_cast<std::size_t>(i)], "data/load"); });
    }
    void stop() {
        stop_ = true;
        for (auto& t : threads_) t.join();
        threads_.clear();
    }
    // Wait until every worker has completed `rounds` more batches.
    void progress(std::uint64_t rounds) {
        std::uint64_t target = batches_ + rounds * (kSockets + kGuests);
        CHECK(eventually([&] { return batches_ >= target || !problems().empty(); }, scaled(30s)));
    }
    std::vector<std::string> problems() {
        std::lock_guard<std::mutex> l(m_);
        return problems_;
    }
    std::uint64_t requests() const { return requests_; }
    std::uint64_t replies() const { return replies_; }

private:
    void problem(std::string what) {
        std::lock_guard<std::mutex> l(m_);
        if (problems_.size() < 20) problems_.push_back(std::move(what));
    }
    // Batches of three pipelined requests: each reply must be the next one,
    // for the right request, with the right answer.
    void run(client::Client& c, const std::string& base) {
        const std::string key = base + "/k";
        for (std::uint64_t seq = 1; !stop_; ++seq) {
            std::string v = std::to_string(seq);
            std::uint32_t ids[3] = {c.send(wire::kWrite, key + '\0' + v), c.send(wire::kRead, key + '\0'),
                                    c.send(wire::kDirectory, base + '\0')};
            requests_ += 3;
            for (int i = 0; i < 3; ++i) {
                auto m = c.receive(scaled(20s));
                if (!m) return problem(base + ": no reply to request " + std::to_string(ids[i]));
                if (m->header.req_id != ids[i])
                    return problem(base + ": got a reply to " + std::to_string(m->header.req_id) + ", expected " +
                                   std::to_string(ids[i]));
                ++replies_;
                std::string t = text(*m);
                bool right = i == 0 ? t == "OK" : i == 1 ? t == v : t.find('k') != std::string::npos;
                if (!right) return problem(base + ": reply " + std::to_string(i) + " is \"" + t + "\"");
            }
            ++batches_;
        }
        // Nothing more may come: a duplicated reply would show here.
        if (auto extra = c.receive(scaled(100ms))) problem(base + ": an extra message after the last reply");
    }

    GuestHarness& h_;
    std::vector<GuestConn> guests_;
    std::vector<std::unique_ptr<client::Client>> sockets_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> requests_{0}, replies_{0}, batches_{0};
    std::mutex m_;
    std::vector<std::string> problems_;
};

// A watcher on a socket and one on a guest's ring: each write fires exactly
// one event on each.
struct Watchers {
    std::unique_ptr<client::Client> sock;
    GuestConn guest;
    Watchers(GuestHarness& h, DomId d) : sock(h.connect()), guest(h.add_guest(d)) {
        REQUIRE(outcome(sock->watch("/load/watched", "sock-token", 1)) == "OK");
        REQUIRE(outcome(h.dom0().write("/local/domain/" + std::to_string(d) + "/data/watched", "")) == "OK");
        REQUIRE(outcome(guest->watch("data/watched", "guest-token")) == "OK");
        take_events(*sock);
        REQUIRE(wait_event(*guest));
    }
    void fire_and_check(GuestHarness& h, int n) {
        std::string name = "e" + std::to_string(n);
        REQUIRE(outcome(h.dom0().write("/load/watched/" + name, "")) == "OK");
        REQUIRE(outcome(h.dom0().write("/load/watched/" + name + "/too-deep", "")) == "OK");
        REQUIRE(outcome(h.dom0().write("/local/domain/" + std::to_string(guest.domid) + "/data/watched/" + name, "")) ==
                "OK");
        CHECK(take_events(*sock) == std::vector<Event>{{"/load/watched/" + name, "sock-token"}});
        auto e = wait_event(*guest);
        REQUIRE(e);
        CHECK(*e == Event{"data/watched/" + name, "guest-token"});
    }
};

void check_load(Load& load) {
    for (const auto& p : load.problems()) FAIL_CHECK(p);
    CHECK(load.requests() > 0);
    CHECK(load.replies() == load.requests());
}

}  // namespace

TEST_CASE("an update under load answers every request once, in order") {
    GuestHarness h;
    Load load(h);
    Watchers w(h, 60);
    auto tx_client = h.connect();
    auto tx = tx_client->transaction_start();
    REQUIRE(tx);
    REQUIRE(outcome(tx_client->write("/load/tx", "1", *tx)) == "OK");
    load.start();
    load.progress(3);
    update_with_xenstore_control(h.daemon());
    load.progress(3);
    w.fire_and_check(h, 0);
    load.stop();
    check_load(load);
    CHECK(outcome(tx_client->transaction_end(*tx, true)) == "OK");
    CHECK(value(h.dom0().read("/load/tx")) == "1");
}

TEST_CASE("100 updates in a row under load lose and duplicate nothing") {
    GuestHarness h;
    Load load(h);
    Watchers w(h, 61);
    auto tx_client = h.connect();
    auto tx = tx_client->transaction_start();
    REQUIRE(tx);
    load.start();
    constexpr int kUpdates = 100;
    for (int i = 0; i < kUpdates && load.problems().empty(); ++i) {
        CAPTURE(i);
        REQUIRE(outcome(tx_client->write("/load/tx/" + std::to_string(i), "v", *tx)) == "OK");
        update_with_xenstore_control(h.daemon());
        w.fire_and_check(h, i);
        load.progress(1);
    }
    load.stop();
    check_load(load);
    CHECK(updates_logged(h.daemon()) == kUpdates);
    REQUIRE(outcome(tx_client->transaction_end(*tx, true)) == "OK");
    auto kids = h.dom0().directory("/load/tx");
    REQUIRE(kids);
    CHECK(kids->size() == kUpdates);
    MESSAGE("requests answered across " << kUpdates << " updates: " << load.replies());
}
