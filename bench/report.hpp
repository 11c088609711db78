// Measurement records and their two renderings: one JSON object per line
// (for scripts) and a readable table (for people). Pure code: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bench/histogram.hpp"

namespace xs::bench {

// A JSON scalar; monostate is null.
using Value = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

struct Field {
    std::string key;
    Value value;
};
using Fields = std::vector<Field>;

struct Latency {
    double p50_us = 0;
    double p99_us = 0;
    double p999_us = 0;
};

// p50/p99/p99.9 of a histogram of nanosecond samples, in microseconds;
// nullopt when it holds no sample.
std::optional<Latency> latency_of(const Histogram& h);

// Status values of a measurement.
inline constexpr std::string_view kStatusOk = "ok";
inline constexpr std::string_view kStatusError = "error";              // wrong answer, lost connection
inline constexpr std::string_view kStatusUnsupported = "unsupported";  // daemon lacks the message type
inline constexpr std::string_view kStatusTimeout = "timeout";

struct Measurement {
    std::string workload;  // "ping", "pipeline", "bootstorm", "watch", "bigstore"
    std::string variant;   // what distinguishes rows of one workload: "read c=16 w=16"
    Fields params;
    std::string daemon;     // label: "xstored", "xenstored", "oxenstored", "xstore-echo"
    std::string placement;  // "same-cpu", "split", "unpinned"
    std::string status = std::string(kStatusOk);
    std::string error;      // why, when status is not ok
    std::uint64_t ops = 0;
    double seconds = 0;
    std::optional<Latency> latency;
    std::optional<double> daemon_cpu_s;
    std::optional<std::int64_t> daemon_peak_rss_kib;
    std::optional<bool> peak_rss_reset;  // false: VmHWM is the process lifetime peak
    std::optional<double> client_cpu_s;
    Fields extra;  // workload-specific fields

    double ops_per_s() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0.0; }
    bool ok() const { return status == kStatusOk; }
    // Set a workload-specific field (replacing one of the same key).
    void set(std::string key, Value v);
    // A workload-specific field, or nullptr.
    const Value* get(std::string_view key) const;
};

std::string json_escape(std::string_view s);
// JSON text of a scalar; non-finite doubles become null.
std::string to_json(const Value& v);
// One measurement as a single-line JSON object, without a newline.
std::string to_json_line(const Measurement& m);

// Compact human forms: 4312345 -> "4.31M", 12.345 -> "12.3".
std::string format_rate(double per_s);
std::string format_number(double v);
// The table of measurements, one heading per daemon/placement group.
std::string format_table(const std::vector<Measurement>& ms);

}  // namespace xs::bench
