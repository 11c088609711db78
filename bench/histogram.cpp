#include "bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace xs::bench {

namespace {

constexpr std::uint64_t kClamp = (std::uint64_t{1} << Histogram::kMaxBits) - 1;

}  // namespace

// Layout: bucket b < kSub holds exactly the value b. Above, range r >= 1
// covers [kSub << (r-1), kSub << r) in kSub buckets of width 2^(r-1).
std::size_t Histogram::bucket_count() { return (kMaxBits - kSubBits + 1) * kSub; }

std::size_t Histogram::bucket_of(std::uint64_t v) {
    v = std::min(v, kClamp);
    if (v < kSub) return static_cast<std::size_t>(v);
    unsigned top = 63u - static_cast<unsigned>(std::countl_zero(v));  // v in [2^top, 2^(top+1))
    unsigned range = top - kSubBits + 1;                              // buckets 2^(range-1) wide
    std::uint64_t sub = (v >> (range - 1)) - kSub;                    // 0 .. kSub-1
    return static_cast<std::size_t>(range * kSub + sub);
}

std::uint64_t Histogram::bucket_low(std::size_t b) {
    if (b < kSub) return b;
    std::size_t range = b / kSub;
    std::uint64_t sub = b % kSub;
    return (kSub + sub) << (range - 1);
}

std::uint64_t Histogram::bucket_high(std::size_t b) {
    if (b < kSub) return b;
    std::size_t range = b / kSub;
    return bucket_low(b) + (std::uint64_t{1} << (range - 1)) - 1;
}

Histogram::Histogram() : counts_(bucket_count(), 0) {}

void Histogram::record(std::uint64_t value) {
    ++counts_[bucket_of(value)];
    if (count_ == 0 || value < min_) min_ = value;
    if (value > max_) max_ = value;
    ++count_;
    sum_ += value;
}

void Histogram::merge(const Histogram& other) {
    if (other.count_ == 0) return;
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    if (count_ == 0 || other.min_ < min_) min_ = other.min_;
    max_ = std::max(max_, other.max_);
    count_ += other.count_;
    sum_ += other.sum_;
}

void Histogram::clear() {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = min_ = max_ = 0;
    sum_ = 0;
}

double Histogram::mean() const {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
}

std::uint64_t Histogram::quantile(double q) const {
    if (count_ == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < counts_.size(); ++b) {
        seen += counts_[b];
        if (seen >= rank) return std::clamp(bucket_high(b), min_, max_);
    }
    return max_;
}

}  // namespace xs::bench
