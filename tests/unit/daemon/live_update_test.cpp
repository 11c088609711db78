// The pure rules of live update: the options of "-s" and the new process's
// command line (cxenstored.md §8.2, §8.3).
#include <doctest/doctest.h>

#include "daemon/live_update.hpp"

using namespace xs::daemon;

namespace {

Strings strings(std::initializer_list<std::string_view> list) {
    Strings s;
    for (std::string_view v : list) s.s[s.count++] = v;
    return s;
}

}  // namespace

TEST_CASE("-s options in any order, with the daemon's default version") {
    auto o = parse_start(strings({"-s"}), 2);
    REQUIRE(o);
    CHECK(!o->force);
    CHECK(o->timeout_s == 0);
    CHECK(o->version == 2);
    o = parse_start(strings({"-s", "-v", "1", "-F", "-t", "60"}), 2);
    REQUIRE(o);
    CHECK(o->force);
    CHECK(o->timeout_s == 60);
    CHECK(o->version == 1);
    CHECK(parse_start(strings({"-s"}), 1)->version == 1);
    for (auto bad : {strings({"-s", "-t"}), strings({"-s", "-v"}), strings({"-s", "-x"}), strings({"-s", "-t", "1x"}),
                     strings({"-s", "60"})})
        CHECK(!parse_start(bad, 2));
}

TEST_CASE("the new command line: -c replaces the arguments, -U is added once") {
    std::vector<std::string> argv{"/old/xstored", "-N", "-T", "/t"};
    CHECK(update_argv("/new", std::nullopt, argv) == std::vector<std::string>{"/new", "-N", "-T", "/t", "-U"});
    CHECK(update_argv("/new", std::string("  -N\t--socket  /s "), argv) ==
          std::vector<std::string>{"/new", "-N", "--socket", "/s", "-U"});
    CHECK(update_argv("/new", std::string("-U -N"), argv) == std::vector<std::string>{"/new", "-U", "-N"});
    argv.push_back("--live-update");
    CHECK(update_argv("/new", std::nullopt, argv) ==
          std::vector<std::string>{"/new", "-N", "-T", "/t", "--live-update"});
    CHECK(update_argv("/new", std::string(""), argv) == std::vector<std::string>{"/new", "-U"});
}
