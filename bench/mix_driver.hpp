// The closed-loop request mix behind ping-pong and pipelined throughput:
// every connection keeps its window of READs and WRITEs in flight on its own
// keys, so the answer to each READ is known exactly (a connection's requests
// are handled in order) and checked. The first `warmup` completions are not
// measured.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/context.hpp"
#include "bench/engine.hpp"
#include "bench/histogram.hpp"

namespace xs::bench {

struct MixSpec {
    std::string root;  // keys are <root>/c<conn>/k<key>
    unsigned write_pct = 0;
    std::uint64_t keys = 1;  // per connection
    std::uint64_t warmup = 0;
    std::uint64_t ops = 0;   // measured completions, all connections together
    std::size_t value_size = 16;
    bool check = true;
};

class MixDriver final : public Driver {
public:
    MixDriver(MixSpec spec, std::size_t conns, Meter& meter);

    static std::string key_path(const std::string& root, std::size_t conn, std::uint64_t key);
    // The value of generation `gen`: "v<gen>" padded with 'x' to `size` bytes.
    static void value_of(std::uint64_t gen, std::size_t size, std::string& out);

    void start(Engine& e) override;
    void on_reply(Engine& e, Conn& c, const Reply& r) override;
    void pump(Engine& e, Conn& c) override;
    bool finished() const override { return done_ == spec_.warmup + spec_.ops; }

    const Histogram& latency() const { return latency_; }
    std::uint64_t measured_ns() const { return t1_ - t0_; }

private:
    void begin_measuring(Engine& e);
    std::uint64_t random();

    MixSpec spec_;
    Meter& meter_;
    std::vector<std::vector<std::string>> paths_;       // [conn][key] "path\0"
    std::vector<std::vector<std::uint32_t>> gens_;      // [conn][key] last written
    std::string scratch_;
    std::uint64_t rng_ = 0x9E3779B97F4A7C15ull;
    std::uint64_t sent_ = 0;
    std::uint64_t done_ = 0;
    std::uint64_t t0_ = 0;
    std::uint64_t t1_ = 0;
    bool measuring_ = false;
    Histogram latency_;
};

}  // namespace xs::bench
