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

namespace {

Reply message(std::uint32_t type, std::string payload) {
    Reply r = Reply::with(Reply::Status::Message);
    r.type = type;
    r.payload = std::move(payload);
    return r;
}

Reply error(std::string_view name) { return message(xs::wire::kError, std::string(name) + '\0'); }

// The rule that explains the step's reply difference, if any.
std::string reply_rule(const Step& s, const Reply& x, const Reply& c, const Episode& ep) {
    Outcome ox{x, {}, {}}, oc{c, {}, {}};
    Finding f = compare_replies(View{s, ox, oc, ep});
    if (!f.differences.empty()) return "<unexplained>";
    return f.filtered.empty() ? "" : std::string(f.filtered[0]->name);
}

Episode with_host(std::initializer_list<xs::DomId> hosted, std::initializer_list<xs::DomId> introduced = {}) {
    Episode ep;
    ep.hosted = hosted;
    ep.introduced = introduced;
    return ep;
}

}  // namespace

TEST_CASE("newer-message-types: 4.17's ENOSYS is filtered only when xstored answers as upstream 4.22") {
    Episode ep = with_host({1, 2}, {1});
    Reply enosys = error("ENOSYS");
    auto check = [&](std::string_view line, const Reply& x) { return reply_rule(parsed(line), x, enosys, ep); };
    // A domain the hypervisor does not have: ENOENT, for every message naming one.
    CHECK(check(R"(req s0 GET_FEATURE - "7\0")", error("ENOENT")) == "newer-message-types");
    CHECK(check(R"(req s0 GET_FEATURE - "7\0")", error("EINVAL")) == "<unexplained>");
    CHECK(check(R"(req s0 SET_FEATURE - "7\0x\0")", error("ENOENT")) == "newer-message-types");
    CHECK(check(R"(req s0 GET_QUOTA - "7\0bogus\0")", error("ENOENT")) == "newer-message-types");
    CHECK(check(R"(req s0 SET_QUOTA - "7\0nodes\05\0")", error("ENOENT")) == "newer-message-types");
    CHECK(check(R"(req s0 SET_QUOTA - "7\0nodes\05\0")", message(xs::wire::kSetQuota, "OK\0"s)) == "<unexplained>");
    // Unknown names: EINVAL; known ones work.
    CHECK(check(R"(req s0 GET_QUOTA - "2\0bogus\0")", error("EINVAL")) == "newer-message-types");
    CHECK(check(R"(req s0 GET_QUOTA - "soft-nodes\0")", error("EINVAL")) == "newer-message-types");
    CHECK(check(R"(req s0 GET_QUOTA - "2\0nodes\0")", error("EINVAL")) == "<unexplained>");
    CHECK(check(R"(req s0 SET_QUOTA - "bogus\05\0")", error("EINVAL")) == "newer-message-types");
    // Introduced domains are EBUSY for SET_FEATURE; guests may not ask.
    CHECK(check(R"(req s0 SET_FEATURE - "1\02\0")", error("EBUSY")) == "newer-message-types");
    CHECK(check(R"(req s0 SET_FEATURE - "2\02\0")", message(xs::wire::kSetFeature, "OK\0"s)) == "newer-message-types");
    CHECK(check(R"(req g1 GET_QUOTA - "nodes\0")", error("EACCES")) == "newer-message-types");
    CHECK(check(R"(req g1 GET_FEATURE - "1\0")", error("EACCES")) == "newer-message-types");
    CHECK(check(R"(req g1 GET_FEATURE - "")", message(xs::wire::kGetFeature, "15\0"s)) == "newer-message-types");
}

TEST_CASE("release-event-order: RELEASE's events may come after 4.17's reply, nothing else may") {
    Episode ep;
    Step rel = parsed(R"(req s0 RELEASE - "1\0")");
    Outcome x{message(xs::wire::kRelease, "OK\0"s), {Event{"@releaseDomain", "t"}}, {}};
    Outcome c{message(xs::wire::kRelease, "OK\0"s), {}, {}};
    std::map<ConnRef, Events> x_after, c_after{{rel.conn, {Event{"@releaseDomain", "t"}}}};
    View v{rel, x, c, ep};
    Finding f = compare_replies(v);
    compare_events(v, x_after, c_after, f);
    CHECK(f.differences.empty());
    REQUIRE(f.filtered.size() == 1);
    CHECK(f.filtered[0]->name == "release-event-order");
    // The same order on a WRITE is a difference.
    Step w = parsed(R"(req s0 WRITE - "/a\0v")");
    View vw{w, x, c, ep};
    Finding fw = compare_replies(vw);
    compare_events(vw, x_after, c_after, fw);
    CHECK(!fw.differences.empty());
}
