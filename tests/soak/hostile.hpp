// One hostile guest slot of the soak (hostile_guest.cpp: its lives and
// deaths; attacks.cpp: what it does while alive).
#pragma once

#include <atomic>
#include <memory>
#include <random>
#include <string>

#include "tests/soak/soak.hpp"
#include "tools/fakexen/guest.hpp"

namespace xs::soak {

using namespace std::string_literals;

class Hostile {
public:
    Hostile(Run& run, DomId d, std::uint64_t seed);
    ~Hostile();

    // One life: create, introduce, attack until killed or done, die,
    // check that nothing of it is left.
    void live();
    // Destroy the domain now (the first caller wins).
    void die(const char* how);

private:
    bool begin_life();
    void end_life();
    void fresh_client();
    void resync();
    void attack();

    // ---- attacks (attacks.cpp) ----
    void bad_indices();      // producer/consumer indexes set to garbage
    void bad_length();       // a header announcing more than the payload limit
    void unread_replies();   // requests whose replies it never reads
    void watch_flood();      // watches on paths it cannot read, past the quota
    void quota_probe();      // every quota to its limit and past it
    void tx_storm();         // transactions opened, filled and committed at once
    void reconnect_storm();  // the reconnection handshake again and again, mid-request
    void garbage();          // framed messages of random types and payloads
    void reset_storm();      // RESET_WATCHES with open, bogus and no transactions

    // Checks the daemon's accounting of this domain against the quotas.
    void check_accounting(const char* after);
    bool alive() const { return !dead_ && !broken_ && !run_.stop; }

    Run& run_;
    DomId d_;
    std::string home_;
    std::mt19937_64 rng_;
    std::unique_ptr<client::Client> mgr_;  // the toolstack side, on the socket
    std::shared_ptr<fakexen::Guest> ring_;
    std::unique_ptr<client::Client> c_;   // the guest's protocol client
    std::atomic<bool> dead_{false};
    std::atomic<const char*> how_{""};
    bool broken_ = false;  // the daemon ignores this ring until the domain dies
    Counts counts_;
};

}  // namespace xs::soak
