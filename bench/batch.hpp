// A pipelined batch: `count` independent requests spread over every
// connection of an engine, each connection's window kept full. Used to
// build trees, register watches and time bulk phases.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "bench/engine.hpp"
#include "bench/histogram.hpp"

namespace xs::bench {

struct BatchRequest {
    std::uint32_t type;
    std::string payload;
};

struct BatchResult {
    std::uint64_t ops = 0;
    std::uint64_t elapsed_ns = 0;
    std::uint64_t events = 0;  // watch events seen meanwhile (WATCH's initial events)
    Histogram latency;
};

// An error reply fails the batch unless `allow_error` accepts its name.
// When the batch fails and `partial` is given, it receives what was done
// until then (how far a build got before the time limit).
Checked<BatchResult> run_batch(Engine& engine, std::uint64_t count,
                               const std::function<BatchRequest(std::uint64_t)>& make, std::uint64_t deadline_ns,
                               const std::function<bool(std::string_view)>& allow_error = {},
                               BatchResult* partial = nullptr);

// One request on `conn`, waiting for its reply: the payload, or a failure
// naming the error reply. Watch events meanwhile are ignored.
Checked<std::string> call(Engine& engine, Conn& conn, std::uint32_t type, std::uint32_t tx, std::string payload,
                          std::uint64_t deadline_ns);

// Keep running `engine` until `seen` (counted by the caller's on_event)
// reaches `want`, e.g. to collect initial watch events after a batch.
Checked<> run_until_events(Engine& engine, std::uint64_t want, std::uint64_t& seen, std::uint64_t deadline_ns);

}  // namespace xs::bench
