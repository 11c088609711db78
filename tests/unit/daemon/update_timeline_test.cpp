// The live update's timeline, handed from the old process to the new one
// through the environment.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "daemon/update_timeline.hpp"

using namespace xs::daemon;

TEST_CASE("the old process's times reach the new one once, and the line gives each step after -s") {
    ::unsetenv("XSTORED_LU_TIMES");
    CHECK(!timeline::take());  // a fresh start: nothing
    Clock::time_point s = Clock::now();
    timeline::Before b{s, s + std::chrono::milliseconds(1), s + std::chrono::milliseconds(10)};
    timeline::pass(b);
    auto got = timeline::take();
    REQUIRE(got);
    CHECK(got->started == b.started);
    CHECK(got->quiet == b.quiet);
    CHECK(got->exec == b.exec);
    CHECK(!timeline::take());  // taken: the next update passes its own
    std::string line = timeline::describe(*got, s + std::chrono::milliseconds(17), s + std::chrono::milliseconds(40),
                                          s + std::chrono::milliseconds(45));
    CHECK(line == "45.0 ms from -s to served (quiet 1.0, exec 10.0, new process 17.0, state read 40.0, restored 45.0)");
}

TEST_CASE("a failed exec withdraws the times; a malformed value is ignored") {
    Clock::time_point s = Clock::now();
    timeline::pass({s, s, s});
    timeline::withdraw();
    CHECK(!timeline::take());
    ::setenv("XSTORED_LU_TIMES", "12:not-a-time", 1);
    CHECK(!timeline::take());
    ::setenv("XSTORED_LU_TIMES", "30:20:10", 1);  // out of order
    CHECK(!timeline::take());
}
