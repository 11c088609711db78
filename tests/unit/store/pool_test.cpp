#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "store/pool.hpp"

using xs::store::Pool;

TEST_CASE("pool: sizes round to 8 bytes, a freed chunk is reused by its size only") {
    Pool pool;
    void* a = pool.allocate(19);
    CHECK(pool.stats().small_bytes == 24);
    CHECK(reinterpret_cast<std::uintptr_t>(a) % 8 == 0);
    pool.deallocate(a, 19);
    CHECK(pool.stats().small_bytes == 0);
    void* b = pool.allocate(40);  // another size: not a's chunk
    CHECK(b != a);
    void* c = pool.allocate(24);  // a's size (19 and 24 both take 24)
    CHECK(c == a);
    pool.deallocate(b, 40);
    pool.deallocate(c, 24);
    CHECK(pool.stats().slab_bytes == Pool::kSlabBytes);
}

TEST_CASE("pool: large requests pass through and are counted apart") {
    Pool pool;
    void* big = pool.allocate(Pool::kMaxSmall + 1);
    std::memset(big, 0xab, Pool::kMaxSmall + 1);
    CHECK(pool.stats().large_bytes == Pool::kMaxSmall + 1);
    CHECK(pool.stats().slab_bytes == 0);
    pool.deallocate(big, Pool::kMaxSmall + 1);
    CHECK(pool.stats().large_bytes == 0);
}

TEST_CASE("pool: random traffic never hands out overlapping chunks, and slabs are used tightly") {
    Pool pool;
    std::mt19937 rng(7);
    struct Live {
        char* p;
        std::size_t n;
        unsigned char tag;
    };
    std::vector<Live> live;
    std::size_t peak_small = 0;
    auto intact = [](const Live& l) {
        return std::all_of(l.p, l.p + l.n, [&](char ch) { return static_cast<unsigned char>(ch) == l.tag; });
    };
    std::size_t damaged = 0;
    for (int step = 0; step < 200000; ++step) {
        if (live.empty() || rng() % 3) {
            std::size_t n = 1 + rng() % 600;
            auto tag = static_cast<unsigned char>(rng());
            char* p = static_cast<char*>(pool.allocate(n));
            std::memset(p, tag, n);
            live.push_back({p, n, tag});
        } else {
            std::size_t i = rng() % live.size();
            Live l = live[i];
            // Its bytes are still its own: nothing else was given them.
            if (!intact(l)) ++damaged;
            pool.deallocate(l.p, l.n);
            live[i] = live.back();
            live.pop_back();
        }
        peak_small = std::max(peak_small, pool.stats().small_bytes);
    }
    std::sort(live.begin(), live.end(), [](const Live& a, const Live& b) { return a.p < b.p; });
    std::size_t overlaps = 0;
    for (std::size_t i = 1; i < live.size(); ++i)
        if (live[i - 1].p + live[i - 1].n > live[i].p) ++overlaps;
    for (const Live& l : live)
        if (!intact(l)) ++damaged;
    CHECK(overlaps == 0);
    CHECK(damaged == 0);
    // Freed chunks are reused, so the slabs stay near the peak in use.
    CHECK(pool.stats().slab_bytes < peak_small * 2 + 16 * Pool::kSlabBytes);
    for (const Live& l : live) pool.deallocate(l.p, l.n);
    CHECK(pool.stats().small_bytes == 0);
    CHECK(pool.stats().large_bytes == 0);
}
