// A latency histogram with log-linear buckets (the HDR histogram idea):
// values below 2^kSubBits are exact; above, each power-of-two range is cut
// into 2^kSubBits equal buckets, so any reported value is within
// 1/2^kSubBits (0.8 %) of a recorded one. Recording is a shift, a count and
// an increment: cheap enough for every request of a multi-million ops/s run.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace xs::bench {

class Histogram {
public:
    static constexpr unsigned kSubBits = 7;
    static constexpr std::uint64_t kSub = 1u << kSubBits;
    // Values at or above 2^kMaxBits ns (about 18 minutes) are clamped.
    static constexpr unsigned kMaxBits = 40;

    Histogram();

    void record(std::uint64_t value);
    // Add every sample of `other` (histograms of parallel clients).
    void merge(const Histogram& other);
    void clear();

    std::uint64_t count() const { return count_; }
    std::uint64_t min() const { return count_ ? min_ : 0; }
    std::uint64_t max() const { return max_; }
    double mean() const;

    // The value at quantile q in [0, 1] by nearest rank: the smallest
    // recorded value v with at least ceil(q * count) samples <= v, reported
    // as the highest value of its bucket but never above max(). 0 when empty.
    std::uint64_t quantile(double q) const;

    // Bucket arithmetic, public for the unit tests.
    static std::size_t bucket_of(std::uint64_t value);
    static std::uint64_t bucket_low(std::size_t bucket);
    static std::uint64_t bucket_high(std::size_t bucket);
    static std::size_t bucket_count();

private:
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    std::uint64_t min_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t sum_ = 0;  // ns: overflows only after centuries of samples
};

}  // namespace xs::bench
