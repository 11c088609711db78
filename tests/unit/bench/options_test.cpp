#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "bench/options.hpp"

using namespace xs::bench;

namespace {

Checked<Options> parse(std::vector<std::string> args) { return parse_options(args, "/default/socket"); }

}  // namespace

TEST_CASE("count lists") {
    auto l = parse_list("1,4,16,64");
    REQUIRE(l.has_value());
    CHECK(*l == std::vector<std::uint64_t>{1, 4, 16, 64});
    CHECK(parse_list("7").value() == std::vector<std::uint64_t>{7});
    CHECK_FALSE(parse_list("").has_value());
    CHECK_FALSE(parse_list("1,,2").has_value());
    CHECK_FALSE(parse_list("1,2,").has_value());
    CHECK_FALSE(parse_list("-1").has_value());
    CHECK_FALSE(parse_list("1x").has_value());
}

TEST_CASE("defaults, the socket fallback and the workload name") {
    auto o = parse({"ping"});
    REQUIRE(o.has_value());
    CHECK(o->command == "ping");
    CHECK(o->socket == "/default/socket");
    CHECK(o->format == Format::kBoth);
    CHECK_FALSE(o->echo);
    CHECK(o->ping.ops == 20000);
    CHECK(o->ping.warmup_ops() == 2000);
    CHECK(o->pipeline.clients == std::vector<std::uint64_t>{1, 4, 16, 64});
}

TEST_CASE("options before and after the workload, with = or a separate value") {
    auto o = parse({"--socket", "/s", "pipeline", "--clients=2,8", "--window", "32", "--echo", "--format=json"});
    REQUIRE(o.has_value());
    CHECK(o->socket == "/s");
    CHECK(o->command == "pipeline");
    CHECK(o->pipeline.clients == std::vector<std::uint64_t>{2, 8});
    CHECK(o->pipeline.window == 32);
    CHECK(o->echo);
    CHECK(o->format == Format::kJson);
}

TEST_CASE("--smoke sets tiny sizes and explicit options still win, in any order") {
    auto o = parse({"--ops", "5000", "all", "--smoke"});
    REQUIRE(o.has_value());
    CHECK(o->smoke);
    CHECK(o->ping.ops == 5000);              // explicit, although given before --smoke
    CHECK(o->pipeline.ops == 5000);
    CHECK(o->ping.warmup_ops() == 500);
    CHECK(o->bootstorm.toolstacks == 2);     // from --smoke
    CHECK(o->watch.watches == std::vector<std::uint64_t>{0, 100});
    CHECK(o->bigstore.nodes == std::vector<std::uint64_t>{2000});
}

TEST_CASE("mistakes are refused with a reason") {
    CHECK_FALSE(parse({}).has_value());
    CHECK_FALSE(parse({"nosuch"}).has_value());
    CHECK_FALSE(parse({"ping", "extra"}).has_value());
    CHECK_FALSE(parse({"ping", "--nosuch", "1"}).has_value());
    CHECK_FALSE(parse({"ping", "--ops"}).has_value());
    CHECK_FALSE(parse({"ping", "--ops", "0"}).has_value());
    CHECK_FALSE(parse({"ping", "--format", "xml"}).has_value());
    CHECK_FALSE(parse({"ping", "--echo=1"}).has_value());
    CHECK_FALSE(parse({"ping", "--prefix", "relative"}).has_value());
    CHECK_FALSE(parse({"pipeline", "--mix", "read,delete"}).has_value());
    CHECK_FALSE(parse({"pipeline", "--clients", "0"}).has_value());
    CHECK_FALSE(parse({"bootstorm", "--tx-writes", "2"}).has_value());
    CHECK_FALSE(parse({"bootstorm", "--first-domid", "32750"}).has_value());
    auto bad = parse({"ping", "--nosuch"});
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message.find("--nosuch") != std::string::npos);
}

TEST_CASE("help") {
    auto o = parse({"ping", "--help"});
    REQUIRE(o.has_value());
    CHECK(o->command == "help");
    CHECK(usage().find("bootstorm") != std::string::npos);
}
