// xstore-top's JSON reader and screen.
#include <doctest/doctest.h>

#include <string>

#include "tools/top/json.hpp"
#include "tools/top/screen.hpp"

using namespace xs::top;

namespace {

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

const char* kStats =
    "{\"schema\":1,\"version\":\"0.1.0\",\"pid\":42,\"uptime_s\":3661.5,\"live_updates\":3,\"event_loop\":\"epoll\","
    "\"connections\":{\"sockets\":2,\"rings\":1},\"domains\":2,\"nodes\":77,\"memory\":{\"accounted\":2048,"
    "\"resident\":5242880},\"watches\":4,\"transactions\":1,\"events_queued\":0,\"output_queued_bytes\":0,"
    "\"requests\":{\"total\":600,\"per_s_since_start\":0.164,\"per_s_last_minute\":1.500},\"quota_refusals\":9,"
    "\"per_domain\":[{\"domid\":1,\"nodes\":50,\"memory\":1536,\"watches\":2,\"transactions\":1,\"outstanding\":0},"
    "{\"domid\":0,\"nodes\":27,\"memory\":512,\"watches\":2,\"transactions\":0,\"outstanding\":0}],"
    "\"per_domain_omitted\":5}\n";

}  // namespace

TEST_CASE("JSON: values, nesting, paths") {
    auto j = parse_json(R"( {"a": [1, -2.5e1, "x\"y", true, false, null], "b": {"c": 7}} )");
    REQUIRE(j);
    REQUIRE(j->at("a"));
    CHECK(j->at("a")->items.size() == 6);
    CHECK(j->at("a")->items[1].number == -25);
    CHECK(j->at("a")->items[2].text == "x\"y");
    CHECK(j->at("a")->items[3].number == 1);
    CHECK(j->at("a")->items[4].number == 0);
    CHECK(j->num("b.c") == 7);
    CHECK(j->num("b.missing", -1) == -1);
    CHECK(j->at("nope.deeper") == nullptr);
}

TEST_CASE("JSON: what is not JSON is refused") {
    for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "\"open", "{} x", "[[[[[[[[[[[[[[[[[[[[[[[["
                                                                                     "[[[[[[[[[[[[[[[[1]]"}) {
        CAPTURE(bad);
        CHECK(!parse_json(bad));
    }
}

TEST_CASE("the screen shows the figures of stats -j") {
    auto now = parse_json(kStats);
    REQUIRE(now);
    std::string s = render(*now, std::nullopt, 2, 0);
    CHECK(s.rfind("xstored 0.1.0  pid 42  up 1h01m01s  live updates 3  epoll loop\n", 0) == 0);
    CHECK(has(s, "connections 3 (sockets 2, rings 1)  domains 2  nodes 77  watches 4\n"));
    CHECK(has(s, "memory 2.0 KiB accounted, 5.0 MiB resident  transactions 1"));
    CHECK(has(s, "requests 600  0.2/s since start  1.5/s last minute  quota refusals 9\n"));
    CHECK(has(s, "\n     1        50    1.5 KiB        2      1      0\n"));
    CHECK(has(s, "(5 more domains)\n"));
    auto before = parse_json(std::string(kStats).replace(std::string(kStats).find("\"total\":600"), 11, "\"total\":500"));
    REQUIRE(before);
    CHECK(has(render(*now, before, 2, 0), "  50.0/s now"));
    CHECK(has(render(*now, before, 2, 1), "(6 more domains)\n"));  // one row shown
}

TEST_CASE("byte sizes for people") {
    CHECK(human_bytes(0) == "0 B");
    CHECK(human_bytes(1023) == "1023 B");
    CHECK(human_bytes(1536) == "1.5 KiB");
    CHECK(human_bytes(5 << 20) == "5.0 MiB");
}
