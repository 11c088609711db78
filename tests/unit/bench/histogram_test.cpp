#include <doctest/doctest.h>

#include <cstdint>

#include "bench/histogram.hpp"

using xs::bench::Histogram;

TEST_CASE("histogram buckets are exact below 128 and contiguous above") {
    for (std::uint64_t v = 0; v < Histogram::kSub; ++v) {
        CHECK(Histogram::bucket_of(v) == v);
        CHECK(Histogram::bucket_low(v) == v);
        CHECK(Histogram::bucket_high(v) == v);
    }
    for (std::size_t b = 0; b + 1 < Histogram::bucket_count(); ++b)
        REQUIRE(Histogram::bucket_high(b) + 1 == Histogram::bucket_low(b + 1));
}

TEST_CASE("every value falls in its bucket, within 1/128 of the bucket's bounds") {
    for (std::uint64_t v : {128ull, 129ull, 255ull, 256ull, 1000ull, 12345ull, 999999ull, 123456789ull,
                            (1ull << 39) + 12345}) {
        std::size_t b = Histogram::bucket_of(v);
        CHECK(Histogram::bucket_low(b) <= v);
        CHECK(v <= Histogram::bucket_high(b));
        double width = static_cast<double>(Histogram::bucket_high(b) - Histogram::bucket_low(b) + 1);
        CHECK(width / static_cast<double>(Histogram::bucket_low(b)) <= 1.0 / 128.0);
    }
}

TEST_CASE("huge values are clamped into the last bucket") {
    Histogram h;
    h.record(~0ull);
    CHECK(Histogram::bucket_of(~0ull) == Histogram::bucket_count() - 1);
    CHECK(h.count() == 1);
    CHECK(h.max() == ~0ull);
}

TEST_CASE("nearest-rank quantiles of exactly representable samples") {
    Histogram h;
    for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
    CHECK(h.count() == 100);
    CHECK(h.min() == 1);
    CHECK(h.max() == 100);
    CHECK(h.quantile(0.50) == 50);
    CHECK(h.quantile(0.99) == 99);
    CHECK(h.quantile(0.999) == 100);
    CHECK(h.quantile(0.0) == 1);
    CHECK(h.quantile(1.0) == 100);
    CHECK(h.mean() == doctest::Approx(50.5));
}

TEST_CASE("quantiles of large samples are within the bucket precision") {
    Histogram h;
    for (std::uint64_t v = 1; v <= 1'000'000; ++v) h.record(v * 10);  // 10 ns .. 10 ms
    auto near = [](std::uint64_t got, double want) {
        return static_cast<double>(got) >= want && static_cast<double>(got) <= want * (1.0 + 1.0 / 128.0);
    };
    CHECK(near(h.quantile(0.50), 5'000'000));
    CHECK(near(h.quantile(0.99), 9'900'000));
    CHECK(near(h.quantile(0.999), 9'990'000));
    CHECK(h.quantile(0.999) <= h.max());
}

TEST_CASE("a tail of slow samples shows in p99.9 but not in p50") {
    Histogram h;
    for (int i = 0; i < 9990; ++i) h.record(10'000);
    for (int i = 0; i < 10; ++i) h.record(5'000'000);
    CHECK(h.quantile(0.50) <= 10'100);
    CHECK(h.quantile(0.99) <= 10'100);
    CHECK(h.quantile(0.999) <= 10'100);  // rank 9990 is still fast
    CHECK(h.quantile(0.9995) >= 5'000'000);
}

TEST_CASE("an empty histogram reports zeros") {
    Histogram h;
    CHECK(h.count() == 0);
    CHECK(h.quantile(0.5) == 0);
    CHECK(h.min() == 0);
    CHECK(h.mean() == 0.0);
}

TEST_CASE("merging equals recording everything in one histogram") {
    Histogram a, b, all;
    for (std::uint64_t v = 1; v < 5000; v += 7) {
        (v % 2 ? a : b).record(v * 3);
        all.record(v * 3);
    }
    a.merge(b);
    CHECK(a.count() == all.count());
    CHECK(a.min() == all.min());
    CHECK(a.max() == all.max());
    for (double q : {0.1, 0.5, 0.9, 0.99, 0.999}) CHECK(a.quantile(q) == all.quantile(q));
    a.clear();
    CHECK(a.count() == 0);
    CHECK(a.quantile(0.5) == 0);
}
