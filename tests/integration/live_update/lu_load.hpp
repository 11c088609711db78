// Clients that keep a daemon busy through live updates, and watchers that
// check each event arrives once: shared by the live-update load tests and
// the tests that move between the C daemon and xstored.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "lu_support.hpp"

namespace xs::testing {

using namespace std::chrono_literals;

// `sockets` socket clients and `guests` guests (domids 1, 2, ...) issuing
// requests from their own threads until stop().
class Load {
public:
    Load(GuestHarness& h, int sockets, int guests) {
        for (int i = 0; i < guests; ++i) guests_.push_back(h.add_guest(static_cast<DomId>(1 + i)));
        for (int i = 0; i < sockets; ++i) sockets_.push_back(h.connect());
    }
    ~Load() { stop(); }

    void start() {
        for (std::size_t i = 0; i < sockets_.size(); ++i)
            threads_.emplace_back([this, i] { run(*sockets_[i], "/load/s" + std::to_string(i)); });
        for (std::size_t i = 0; i < guests_.size(); ++i)
            threads_.emplace_back([this, i] { run(*guests_[i], "data/load"); });
    }
    void stop() {
        stop_ = true;
        for (auto& t : threads_) t.join();
        threads_.clear();
    }
    // Wait until every worker has completed `rounds` more batches.
    void progress(std::uint64_t rounds) {
        std::uint64_t target = batches_ + rounds * (sockets_.size() + guests_.size());
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

inline void check_load(Load& load) {
    for (const auto& p : load.problems()) FAIL_CHECK(p);
    CHECK(load.requests() > 0);
    CHECK(load.replies() == load.requests());
}

}  // namespace xs::testing
