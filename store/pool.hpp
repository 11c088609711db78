// The small-object pool that nodes and child-map leaf blocks come from.
//
// A million-node store is a million small allocations (most of them 19 to
// 40 bytes). malloc adds an 8-byte header to each and rounds to 16, about
// 13 bytes a node; the pool rounds to 8 and adds nothing. It carves chunks
// from 64 KiB slabs and keeps a free list per size (8-byte steps up to
// kMaxSmall); larger requests go to malloc. The caller gives the size back
// on deallocate (a node's size follows from its header), so a chunk needs
// no header.
//
// Slabs are never given back: a freed chunk waits for the next allocation
// of its size. A pool is per thread (the store lives on one thread; a
// chunk freed on another thread joins that thread's lists, which is safe as
// slabs are never freed). Under AddressSanitizer every request goes to
// malloc, so use-after-free and leaks of nodes are still caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace xs::store {

class Pool {
public:
    static constexpr std::size_t kGrain = 8;
    static constexpr std::size_t kMaxSmall = 512;
    static constexpr std::size_t kSlabBytes = 64 * 1024;

    struct Stats {
        std::size_t slab_bytes = 0;   // taken from malloc for slabs
        std::size_t small_bytes = 0;  // in chunks handed out
        std::size_t large_bytes = 0;  // passed through to malloc
    };

    Pool() = default;
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    ~Pool();

    void* allocate(std::size_t bytes);
    void deallocate(void* p, std::size_t bytes);
    const Stats& stats() const { return stats_; }

    // What allocate(bytes) really takes.
    static std::size_t rounded(std::size_t bytes) { return (bytes + kGrain - 1) / kGrain * kGrain; }

private:
    struct FreeChunk {
        FreeChunk* next;
    };
    static constexpr std::size_t kClasses = kMaxSmall / kGrain + 1;

    void* carve(std::size_t bytes);
    void new_slab();

    FreeChunk* free_[kClasses] = {};
    char* cur_ = nullptr;
    char* end_ = nullptr;
    std::vector<void*> slabs_;
    Stats stats_;
};

// The calling thread's pool (a pass-through to malloc under AddressSanitizer).
void* pool_allocate(std::size_t bytes);
void pool_deallocate(void* p, std::size_t bytes);
// The calling thread's figures (all zero under AddressSanitizer).
Pool::Stats pool_stats();

}  // namespace xs::store
