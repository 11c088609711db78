// A dom0 observer of domain life: its own socket connection watching
// @introduceDomain and @releaseDomain, both plain and with depth 1 (which
// reports "@releaseDomain/<domid>"), counting every event it receives.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

#include "tests/support/guest_harness.hpp"

namespace guests {

using namespace xs::testing;

class DomainEvents {
public:
    explicit DomainEvents(GuestHarness& h) : h_(h), c_(h.connect()) {
        REQUIRE(outcome(c_->watch("@introduceDomain", "intro")) == "OK");
        REQUIRE(outcome(c_->watch("@introduceDomain", "intro-id", 1)) == "OK");
        REQUIRE(outcome(c_->watch("@releaseDomain", "release")) == "OK");
        REQUIRE(outcome(c_->watch("@releaseDomain", "release-id", 1)) == "OK");
        poll();
        counts_.clear();  // the initial events
    }

    // Take every event that has arrived (after a round trip).
    void poll() {
        for (const Event& e : take_events(*c_)) ++counts_[e.path];
    }
    // Wait until "@releaseDomain/<d>" has been seen at least once.
    bool wait_release(xs::DomId d) {
        return eventually([&] {
            poll();
            return releases(d) > 0;
        });
    }
    bool wait_introduce(xs::DomId d) {
        return eventually([&] {
            poll();
            return introduces(d) > 0;
        });
    }
    // Every domain death noticed before now has been reported: a throwaway
    // domain is introduced and destroyed, and its release awaited (the
    // daemon handles deaths in the order the hypervisor reports them).
    void barrier() {
        xs::DomId d = next_barrier_++;
        h_.create(d);
        REQUIRE(outcome(h_.introduce(d)) == "OK");
        h_.destroy(d);
        REQUIRE(wait_release(d));
    }

    int releases(xs::DomId d) { return counts_["@releaseDomain/" + std::to_string(d)]; }
    int introduces(xs::DomId d) { return counts_["@introduceDomain/" + std::to_string(d)]; }
    int plain_releases() { return counts_["@releaseDomain"]; }
    int plain_introduces() { return counts_["@introduceDomain"]; }
    void reset_counts() { counts_.clear(); }

private:
    GuestHarness& h_;
    std::unique_ptr<xs::client::Client> c_;
    std::map<std::string, int> counts_;
    xs::DomId next_barrier_ = 32600;
};

}  // namespace guests
