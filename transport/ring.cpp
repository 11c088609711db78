#include "transport/ring.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace xs::ring {

namespace {

// The three fields of one direction, as pointers into the shared page.
struct View {
    char* data;
    std::uint32_t* cons;
    std::uint32_t* prod;
};

View view(Interface& page, Direction dir) {
    if (dir == Direction::kRequest) return {page.req, &page.req_cons, &page.req_prod};
    return {page.rsp, &page.rsp_cons, &page.rsp_prod};
}

// The page is shared with another domain: every index load and store is
// atomic, so the compiler reads each index exactly once and orders the data
// copies against it.
std::uint32_t load_acquire(const std::uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
std::uint32_t load_relaxed(const std::uint32_t* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
void store_release(std::uint32_t* p, std::uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

// Bytes between the two indices, or the index error. Unsigned subtraction
// makes the free-running counters wrap at 2^32 correctly; a consumer ahead
// of the producer shows up as a huge distance.
Result<std::uint32_t> distance(std::uint32_t cons, std::uint32_t prod) {
    std::uint32_t used = prod - cons;
    if (used > kRingSize) return fail(kRingIndexError);
    return used;
}

}  // namespace

Result<std::size_t> readable(const Interface& page, Direction dir) {
    View v = view(const_cast<Interface&>(page), dir);
    // The producer index is acquired so a following read() never sees a count
    // larger than the data that is visible.
    return distance(load_relaxed(v.cons), load_acquire(v.prod));
}

Result<std::size_t> writable(const Interface& page, Direction dir) {
    View v = view(const_cast<Interface&>(page), dir);
    auto used = distance(load_acquire(v.cons), load_relaxed(v.prod));
    if (!used) return fail(used.error());
    return kRingSize - *used;
}

Result<std::size_t> read(Interface& page, Direction dir, char* dst, std::size_t cap) {
    View v = view(page, dir);
    std::uint32_t cons = load_relaxed(v.cons);  // ours: only we advance it
    // Acquire: the bytes the producer wrote before publishing prod are
    // visible before we copy them.
    std::uint32_t prod = load_acquire(v.prod);
    auto used = distance(cons, prod);
    if (!used) return fail(used.error());

    std::size_t n = std::min<std::size_t>(*used, cap);
    if (n == 0) return 0;
    std::size_t start = mask(cons);
    std::size_t first = std::min(n, kRingSize - start);
    std::memcpy(dst, v.data + start, first);
    std::memcpy(dst + first, v.data, n - first);  // the part wrapped to offset 0

    // Release: our copies are finished before the producer may reuse the space.
    store_release(v.cons, cons + static_cast<std::uint32_t>(n));
    return n;
}

Result<std::size_t> write(Interface& page, Direction dir, const char* src, std::size_t len) {
    View v = view(page, dir);
    std::uint32_t prod = load_relaxed(v.prod);  // ours: only we advance it
    // Acquire: the consumer finished reading the space it released.
    std::uint32_t cons = load_acquire(v.cons);
    auto used = distance(cons, prod);
    if (!used) return fail(used.error());

    std::size_t n = std::min<std::size_t>(kRingSize - *used, len);
    if (n == 0) return 0;
    std::size_t start = mask(prod);
    std::size_t first = std::min(n, kRingSize - start);
    std::memcpy(v.data + start, src, first);
    std::memcpy(v.data, src + first, n - first);

    // Release: the bytes are in place before the consumer can see the index.
    store_release(v.prod, prod + static_cast<std::uint32_t>(n));
    return n;
}

}  // namespace xs::ring
