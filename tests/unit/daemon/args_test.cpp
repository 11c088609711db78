#include <doctest/doctest.h>

#include <string>

#include "daemon/args.hpp"

using namespace xs::daemon;
using namespace std::string_literals;

TEST_CASE("one argument: non-empty, exactly one NUL, at the end") {
    CHECK(one_arg("/a\0"s).value() == "/a");
    CHECK(one_arg("\0"s).value().empty());
    CHECK_FALSE(one_arg("").has_value());
    CHECK_FALSE(one_arg("/a").has_value());
    CHECK_FALSE(one_arg("/a\0\0"s).has_value());
    CHECK_FALSE(one_arg("/a\0b"s).has_value());
}

TEST_CASE("strings: counted up to the last NUL, trailing bytes ignored") {
    const std::string payload = "a\0bc\0\0tail"s;  // the views point into it
    Strings s = split_strings(payload);
    CHECK(s.count == 3);
    CHECK(s[0] == "a");
    CHECK(s[1] == "bc");
    CHECK(s[2].empty());
    CHECK(split_strings("").count == 0);
    CHECK(split_strings("no nul").count == 0);
    std::string many;
    for (int i = 0; i < 20; ++i) many += "x"s + '\0';
    CHECK(split_strings(many).count == 20);
    CHECK(count_nuls("a\0b\0c"s) == 2);
}

TEST_CASE("strict numbers") {
    CHECK(parse_u32("0").value() == 0);
    CHECK(parse_u32("4294967295").value() == 4294967295u);
    CHECK_FALSE(parse_u32("4294967296").has_value());
    for (const char* bad : {"", "-1", "+1", " 1", "1 ", "0x10", "1a", "99999999999"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_u32(bad).has_value());
    }
    CHECK(parse_domid("65535").value() == 65535);
    CHECK_FALSE(parse_domid("65536").has_value());
    CHECK_FALSE(parse_domid("abc").has_value());
}
