// A hostile guest slot. Each life of the domain: created and introduced,
// then attacks drawn at random (garbage ring indexes, lengths past the
// payload limit, requests whose replies it never reads, watch floods on
// paths it cannot read, every quota probed to its limit and past it,
// transaction storms, reconnect storms, random framed garbage), until a
// killer thread destroys the domain at a random moment or the guest dies
// on purpose mid-request or mid-transaction. After each death nothing of
// it may be left; then the domid is used again.
#include <condition_variable>
#include <random>
#include <thread>

#include "tests/soak/hostile.hpp"
#include "tests/support/protocol.hpp"
#include "tools/fakexen/domains.hpp"
#include "transport/ring.hpp"
#include "transport/wire.hpp"

namespace xs::soak {

using namespace std::chrono_literals;
using testing::outcome;

namespace {

// Destroys the domain at `at` unless the guest dies first.
class Killer {
public:
    Killer(Hostile& h, Clock::time_point at)
        : thread_([this, &h, at, idle = fakexen::Host::idle_outside_lock()] {
        fakexen::Host::idle_outside_lock(idle);  // as its guest (the policy itself is inherited)
        std::unique_lock l(m_);
        if (!cv_.wait_until(l, at, [this] { return cancelled_; })) h.die("killed at a random moment");
    }) {}
    ~Killer() {
        {
            std::lock_guard l(m_);
            cancelled_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool cancelled_ = false;
    std::thread thread_;
};

}  // namespace

Hostile::Hostile(Run& run, DomId d, std::uint64_t seed)
    : run_(run), d_(d), home_("/local/domain/" + std::to_string(d)), rng_(seed), mgr_(run.connect()) {}

Hostile::~Hostile() { run_.add(counts_); }

// Called by the guest's thread and by its killer: the first one destroys
// the domain and names the moment.
void Hostile::die(const char* how) {
    bool alive = false;
    if (!dead_.compare_exchange_strong(alive, true)) return;
    how_ = how;
    if (!fakexen::destroy_domain(run_.host(), d_)) run_.violation("fake host: cannot destroy hostile " + std::to_string(d_));
}

bool Hostile::begin_life() {
    dead_ = false;
    broken_ = false;
    if (!fakexen::create_domain(run_.host(), d_)) {
        run_.violation("fake host: cannot create hostile domain " + std::to_string(d_));
        return false;
    }
    if (!create_and_introduce(run_, *mgr_, d_)) return false;
    auto g = fakexen::Guest::attach(run_.shared_host(), d_);
    if (!g) {
        run_.violation("cannot attach to hostile domain " + std::to_string(d_));
        return false;
    }
    ring_ = *g;
    fresh_client();
    ++counts_["hostile lives"];
    return true;
}

void Hostile::fresh_client() {
    c_ = std::make_unique<client::Client>(fakexen::ring_channel(ring_));
    c_->timeout = 1000ms;
}

// After an attack that left the stream in an unknown state: the
// reconnection handshake gives a clean ring (or, for a guest the daemon
// ignores, nothing: it waits for its death).
void Hostile::resync() {
    if (dead_ || broken_) return;
    auto r = ring_->reconnect(2000ms);
    ++counts_["hostile reconnects"];
    if (!r) {
        broken_ = true;
        return;
    }
    fresh_client();
}

void Hostile::end_life() {
    // At the end of the run its ring may still be full of requests it left
    // unread: no more requests then (each would wait for ring space).
    if (run_.stop) die("at the end of the run");
    if (!dead_ && !broken_) {
        switch (rng_() % 3) {
            case 0: {  // mid-request: half a message in the ring
                std::string m = testing::raw_message(wire::kWrite, "data/half\0value"s, 999);
                (void)ring_->write_raw(m.substr(0, 20));
                die("mid-request");
                break;
            }
            case 1: {  // mid-transaction: open ones with writes in them
                for (int i = 0; i < 3; ++i)
                    if (auto t = c_->transaction_start()) (void)c_->write("data/tx" + std::to_string(i), "v", *t);
                die("mid-transaction");
                break;
            }
            default: die("after its attacks");
        }
    }
    die("ignored by the daemon");
}

void Hostile::attack() {
    constexpr unsigned kAttacks = 9;
    // The two ring breakers (0, 1) are rarer, so that most lives get to the others.
    unsigned pick = static_cast<unsigned>(rng_() % (kAttacks + 6));
    if (pick >= kAttacks) pick = 2 + pick % (kAttacks - 2);
    switch (pick) {
        case 0: bad_indices(); break;
        case 1: bad_length(); break;
        case 2: unread_replies(); break;
        case 3: watch_flood(); break;
        case 4: quota_probe(); break;
        case 5: tx_storm(); break;
        case 6: reconnect_storm(); break;
        case 7: garbage(); break;
        default: reset_storm(); break;
    }
}

void Hostile::live() {
    if (!begin_life()) {
        die("setup failed");
        c_.reset();
        ring_.reset();
        (void)verify_released(run_, *mgr_, d_, counts_);
        return;
    }
    {
        // The killer's moment and the guest's own plan are drawn apart:
        // either may come first.
        Killer killer(*this, Clock::now() + std::chrono::milliseconds(50 + rng_() % 4000));
        auto until = Clock::now() + std::chrono::milliseconds(50 + rng_() % 4000);
        while (!dead_ && !run_.stop && Clock::now() < until) {
            if (broken_) std::this_thread::sleep_for(20ms);
            else attack();
        }
        end_life();
    }
    ++counts_[std::string("hostile deaths: ") + how_.load()];
    c_.reset();
    ring_.reset();
    (void)verify_released(run_, *mgr_, d_, counts_);
}

void hostile_guest(Run& run, DomId d, std::uint64_t seed) {
    Hostile h(run, d, seed);
    while (!run.stop) h.live();
}

}  // namespace xs::soak
