// Live update under load: 20 socket clients and 20 guests over their rings
// keep issuing pipelined requests while the daemon updates itself; every
// request gets exactly one reply, in order, with the right content; watch
// events fired between updates arrive once each with their tokens; open
// transactions survive. Once, then 100 times in a row.
#include <doctest/doctest.h>

#include "lu_load.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs;
using namespace xs::testing;

TEST_CASE("an update under load answers every request once, in order") {
    GuestHarness h;
    Load load(h, 20, 20);
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
    Load load(h, 20, 20);
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
