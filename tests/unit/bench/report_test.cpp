#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "bench/report.hpp"

using namespace xs::bench;

namespace {

Measurement sample() {
    Measurement m;
    m.workload = "ping";
    m.variant = "read c=1 w=1";
    m.params = {{"ops", std::int64_t{1000}}, {"mix", std::string("read")}};
    m.daemon = "xstore-echo";
    m.placement = "same-cpu";
    m.ops = 1000;
    m.seconds = 0.5;
    m.latency = Latency{10.5, 20.25, 30.125};
    m.daemon_cpu_s = 0.25;
    m.daemon_peak_rss_kib = 2048;
    m.peak_rss_reset = true;
    m.client_cpu_s = 0.125;
    m.set("watches", std::int64_t{0});
    return m;
}

}  // namespace

TEST_CASE("json strings are escaped") {
    CHECK(json_escape("plain") == "\"plain\"");
    CHECK(json_escape("a\"b\\c") == "\"a\\\"b\\\\c\"");
    CHECK(json_escape("line\nnext\t") == "\"line\\nnext\\t\"");
    CHECK(json_escape(std::string("nul\0x", 5)) == "\"nul\\u0000x\"");
}

TEST_CASE("json scalars") {
    CHECK(to_json(Value()) == "null");
    CHECK(to_json(Value(true)) == "true");
    CHECK(to_json(Value(std::int64_t{-42})) == "-42");
    CHECK(to_json(Value(2.5)) == "2.5");
    CHECK(to_json(Value(std::numeric_limits<double>::infinity())) == "null");
    CHECK(to_json(Value(std::nan(""))) == "null");
    CHECK(to_json(Value(std::string("x"))) == "\"x\"");
}

TEST_CASE("a measurement is one JSON object with every field in order") {
    std::string line = to_json_line(sample());
    CHECK(line ==
          "{\"workload\":\"ping\",\"variant\":\"read c=1 w=1\",\"params\":{\"ops\":1000,\"mix\":\"read\"},"
          "\"daemon\":\"xstore-echo\",\"placement\":\"same-cpu\",\"status\":\"ok\",\"ops\":1000,"
          "\"seconds\":0.5,\"ops_per_s\":2000,\"p50_us\":10.5,\"p99_us\":20.25,\"p999_us\":30.125,"
          "\"daemon_cpu_s\":0.25,\"daemon_peak_rss_kib\":2048,\"peak_rss_reset\":true,"
          "\"client_cpu_s\":0.125,\"watches\":0}");
    CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("missing figures are null and a failure carries its reason") {
    Measurement m;
    m.workload = "bigstore";
    m.status = std::string(kStatusUnsupported);
    m.error = "DIRECTORY_PART: ENOSYS";
    std::string line = to_json_line(m);
    CHECK(line.find("\"status\":\"unsupported\",\"error\":\"DIRECTORY_PART: ENOSYS\"") != std::string::npos);
    CHECK(line.find("\"p50_us\":null,\"p99_us\":null,\"p999_us\":null") != std::string::npos);
    CHECK(line.find("\"daemon_cpu_s\":null") != std::string::npos);
    CHECK(line.find("\"ops_per_s\":0") != std::string::npos);
}

TEST_CASE("set replaces a field of the same key") {
    Measurement m;
    m.set("a", std::int64_t{1});
    m.set("b", 2.0);
    m.set("a", std::int64_t{3});
    REQUIRE(m.extra.size() == 2);
    REQUIRE(m.get("a") != nullptr);
    CHECK(std::get<std::int64_t>(*m.get("a")) == 3);
    CHECK(m.get("c") == nullptr);
}

TEST_CASE("latency_of converts nanoseconds to microseconds") {
    Histogram h;
    CHECK_FALSE(latency_of(h).has_value());
    for (int i = 0; i < 100; ++i) h.record(100);
    auto l = latency_of(h);
    REQUIRE(l.has_value());
    CHECK(l->p50_us == doctest::Approx(0.1));
    CHECK(l->p999_us == doctest::Approx(0.1));
}

TEST_CASE("human number forms") {
    CHECK(format_rate(4'312'345) == "4.31M");
    CHECK(format_rate(94'000) == "94.0k");
    CHECK(format_rate(174) == "174.0");
    CHECK(format_number(12.346) == "12.35");
    CHECK(format_number(1234.4) == "1234");
    CHECK(format_number(3) == "3");
    CHECK(format_number(0.000123) == "0.000123");
}

TEST_CASE("the table has a heading per daemon and aligned columns") {
    Measurement a = sample();
    Measurement b = sample();
    b.variant = "read c=16 w=16";
    b.status = std::string(kStatusError);
    b.error = "READ returned 'x'";
    Measurement c = sample();
    c.daemon = "xenstored";
    std::string t = format_table({a, b, c});
    CHECK(t.find("daemon xstore-echo, placement same-cpu\n") == 0);
    CHECK(t.find("daemon xenstored, placement same-cpu\n") != std::string::npos);
    CHECK(t.find("error: READ returned 'x'") != std::string::npos);
    CHECK(t.find("2.0k") != std::string::npos);  // ops/s of the good rows
    // Rows of one group line up: the ops column ends at the same offset.
    auto line_of = [&](const std::string& key) {
        auto at = t.find(key);
        auto start = t.rfind('\n', at) + 1;
        return t.substr(start, t.find('\n', at) - start);
    };
    std::string header = line_of("workload  variant");
    std::string row = line_of("read c=1 w=1");
    CHECK(header.find("ops/s") + 5 == row.find("2.0k") + 4);
}
