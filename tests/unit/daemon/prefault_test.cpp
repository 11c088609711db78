// Faulting memory in ahead of need (live update): a helper populating
// pages never changes what another thread writes into them, and the heap
// grows in one step when asked.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "daemon/prefault.hpp"

using namespace xs::daemon;

TEST_CASE("populating pages while another thread fills them keeps what it wrote") {
    for (int round = 0; round < 5; ++round) {
        std::string buf;
        buf.reserve(16 << 20);
        char* p = buf.data();
        std::size_t n = buf.capacity();
        std::thread helper([p, n] { populate(p, n); });
        for (std::size_t i = 0; i < n; i += 512) p[i] = static_cast<char>(i / 512 + round);
        helper.join();
        bool same = true;
        for (std::size_t i = 0; i < n; i += 512) same &= p[i] == static_cast<char>(i / 512 + round);
        CHECK(same);
    }
}

#if defined(__SANITIZE_ADDRESS__)
TEST_CASE("the heap grows in one step (not with the sanitizer's allocator)") {}
#else
TEST_CASE("the heap grows in one step, and stays grown while the helper runs") {
    char* before = static_cast<char*>(::sbrk(0));
    std::thread helper = grow_heap(8 << 20);
    char* after = static_cast<char*>(::sbrk(0));
    CHECK(after - before >= (8 << 20));
    // Small allocations now come from the grown heap, while the helper runs.
    std::vector<char*> blocks;
    for (int i = 0; i < 20000; ++i) {
        blocks.push_back(new char[48]);
        std::memset(blocks.back(), i & 0x7F, 48);
    }
    helper.join();
    heap_back_to_normal();
    bool same = true;
    for (int i = 0; i < 20000; ++i) {
        same &= blocks[static_cast<std::size_t>(i)][47] == static_cast<char>(i & 0x7F);
        delete[] blocks[static_cast<std::size_t>(i)];
    }
    CHECK(same);
    char* top = static_cast<char*>(::sbrk(0));
    std::thread none = grow_heap(1000);  // small: nothing to grow, an empty helper
    none.join();
    heap_back_to_normal();
    CHECK(static_cast<char*>(::sbrk(0)) - top < (1 << 20));
}
#endif
