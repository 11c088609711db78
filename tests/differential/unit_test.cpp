// The differential run's pure parts, without daemons: the reproducer text
// form, the comparison, and every filtering rule on made-up outcomes (each
// rule must filter the difference it stands for, and only that).
#include <doctest/doctest.h>

#include "tests/differential/compare.hpp"
#include "tests/differential/rules.hpp"
#include "tests/differential/step.hpp"
#include "transport/wire.hpp"

using namespace xs::diff;
using namespace std::string_literals;

namespace {

Step parsed(std::string_view line) {
    std::string why;
    auto s = parse_step(line, why);
    INFO(line << ": " << why);
    REQUIRE(s.has_value());
    return *s;
}

}  // namespace

TEST_CASE("steps: the text form reads back what it wrote") {
    const char* lines[] = {
        R"(req g3 WRITE h1 "data/x\0v\x01\xff\"\\")",
        R"(req s0 INTRODUCE - "5\0\g5;\0\p5;\0")",
        R"(req s0 TRANSACTION_START - "\0" bind=h7)",
        R"(req r0 #99 #4294967295 "")",
        "oversize s1 5000",
        "host create 4",
        "host shutdown 4 crash",
        "host destroy 4 dying",
        "host destroy 4",
        "conn open s2",
        "conn close s2",
    };
    for (const char* line : lines) {
        Step s = parsed(line);
        CHECK(to_text(s) == line);
        CHECK(parsed(to_text(s)) == s);
    }
    Step w = parsed(R"(req g3 WRITE h1 "data/x\0v\x01\xff\"\\")");
    CHECK(w.payload.literal() == "data/x\0v\x01\xff\"\\"s);
    CHECK(w.tx == TxRef{TxRef::Kind::Handle, 1});
    Step i = parsed(R"(req s0 INTRODUCE - "5\0\g5;\0\p5;\0")");
    REQUIRE(i.payload.pieces.size() == 5);
    CHECK(i.payload.pieces[3].kind == Payload::Piece::Kind::Port);
    CHECK(i.payload.pieces[3].domid == 5);
}

TEST_CASE("steps: malformed lines are refused with a reason") {
    const char* bad[] = {
        R"(req g3 WRITE h1 "unterminated)", R"(req g0 READ - "x\0")",  R"(req s0 NOSUCH - "")",
        R"(req s0 READ h "")",              R"(req s0 READ - "\q")",   "host create 40000",
        "host shutdown 3 sideways",          "conn open g3",            "frobnicate",
        R"(req s0 READ - "" extra)",
    };
    for (const char* line : bad) {
        std::string why;
        CHECK_MESSAGE(!parse_step(line, why).has_value(), line);
        CHECK_MESSAGE(!why.empty(), line);
    }
    std::string why;
    auto script = parse_script("# a comment\n\nhost create 3\nreq g3 READ - \"data\\0\"\n", why);
    REQUIRE(script.has_value());
    CHECK(script->comments == std::vector<std::string>{"a comment"});
    CHECK(script->steps.size() == 2);
    CHECK(!parse_script("host create 3\nnonsense\n", why).has_value());
    CHECK(why.starts_with("line 2:"));
}
