#include <doctest/doctest.h>

#include "daemon/write_limit.hpp"

using xs::daemon::WriteCredit;
using namespace std::chrono_literals;

TEST_CASE("a burst is allowed, then changes wait for the rate to pay the debt back") {
    WriteCredit w;
    w.configure(200, 10);  // 200 per second, 10 at once
    auto t0 = WriteCredit::Clock::now();
    for (int i = 0; i < 10; ++i) CHECK(w.charge(t0));
    CHECK_FALSE(w.charge(t0));  // the 11th at the same instant
    CHECK(w.in_debt(t0));
    // One change of debt at 200/s is paid back after 5 ms.
    auto ready = w.ready_at();
    CHECK(ready - t0 >= 4ms);
    CHECK(ready - t0 <= 6ms);
    CHECK(w.in_debt(t0 + 4ms));
    CHECK_FALSE(w.in_debt(t0 + 6ms));
}

TEST_CASE("credit never grows beyond the burst") {
    WriteCredit w;
    w.configure(200, 10);
    auto t0 = WriteCredit::Clock::now();
    CHECK(w.charge(t0));
    auto later = t0 + 1h;
    for (int i = 0; i < 10; ++i) CHECK(w.charge(later));
    CHECK_FALSE(w.charge(later));
}
