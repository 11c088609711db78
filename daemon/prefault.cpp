#include "daemon/prefault.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace xs::daemon {

namespace {

constexpr int kPopulateWrite = 23;           // MADV_POPULATE_WRITE (Linux 5.14), not in every libc header
constexpr int kDefaultPad = 128 * 1024;      // glibc's M_TOP_PAD and M_TRIM_THRESHOLD defaults
constexpr std::size_t kSmall = 64 * 1024;    // below the mmap threshold: served from the heap
constexpr std::size_t kWorthIt = 1 << 20;    // below this, faults on first use cost little

std::uintptr_t page_up(std::uintptr_t a) {
    std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    return (a + page - 1) & ~(page - 1);
}

}  // namespace

void populate(void* p, std::size_t n) {
    auto begin = page_up(reinterpret_cast<std::uintptr_t>(p));
    auto end = reinterpret_cast<std::uintptr_t>(p) + n;
    if (end <= begin) return;
    void* start = reinterpret_cast<void*>(begin);
    std::size_t len = end - begin;
    // Large pages where the kernel offers them: fewer faults still. A
    // kernel without MADV_POPULATE_WRITE (before 5.14) faults the pages on
    // first use instead: touching them from here would race with the
    // thread that is filling them.
    ::madvise(start, len, MADV_HUGEPAGE);
    ::madvise(start, len, kPopulateWrite);
}

std::thread grow_heap(std::size_t bytes) {
    if (bytes < kWorthIt) return std::thread([] {});
    // The next growth of the heap takes `bytes` more at once, and nothing is
    // given back meanwhile (not even when the probe below is freed); a
    // small allocation that needs the heap to grow makes it happen now.
    ::mallopt(M_TRIM_THRESHOLD, INT32_MAX);
    ::mallopt(M_TOP_PAD, static_cast<int>(std::min<std::size_t>(bytes, INT32_MAX)));
    // Bigger than the free room at the top of the heap, and served from the
    // heap (not mmap): then it must grow.
    std::size_t probe_size = ::mallinfo2().keepcost + kSmall;
    ::mallopt(M_MMAP_THRESHOLD, static_cast<int>(probe_size + kSmall));
    void* old_top = ::sbrk(0);
    void* probe = std::malloc(probe_size);
    asm volatile("" : : "r"(probe) : "memory");  // the compiler may not drop this malloc/free pair
    void* new_top = ::sbrk(0);
    std::free(probe);
    if (new_top <= old_top) return std::thread([] {});
    return std::thread([old_top, new_top] {
        populate(old_top, static_cast<std::size_t>(static_cast<char*>(new_top) - static_cast<char*>(old_top)));
    });
}

void give_back_unused_heap() { ::malloc_trim(0); }

void heap_back_to_normal() {
    ::mallopt(M_MMAP_THRESHOLD, kDefaultPad);
    ::mallopt(M_TOP_PAD, kDefaultPad);
    ::mallopt(M_TRIM_THRESHOLD, kDefaultPad);
}

}  // namespace xs::daemon
