#include "daemon/loop/uring_buffers.hpp"

#include <sys/mman.h>

#include <cstring>

namespace xs::daemon::loop {

namespace {

unsigned round_up_pow2(unsigned n) {
    unsigned p = 1;
    while (p < n) p <<= 1;
    return p;
}

void* map_anonymous(std::size_t bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

ProvidedBuffers::~ProvidedBuffers() {
    // The ring is torn down before this runs (see UringLoop's member order),
    // so the kernel no longer writes into these pages.
    if (ring_) ::munmap(ring_, ring_bytes_);
    if (base_) ::munmap(base_, base_bytes_);
}

std::optional<std::string> ProvidedBuffers::setup(io_uring& ring, unsigned count, unsigned size,
                                                  std::uint16_t group) {
    unsigned entries = round_up_pow2(count);
    ring_bytes_ = entries * sizeof(io_uring_buf);
    base_bytes_ = std::size_t(count) * size;
    ring_ = static_cast<io_uring_buf_ring*>(map_anonymous(ring_bytes_));
    base_ = static_cast<char*>(map_anonymous(base_bytes_));
    if (!ring_ || !base_) return std::string("cannot map receive buffers: ") + std::strerror(errno);

    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uintptr_t>(ring_);
    reg.ring_entries = entries;
    reg.bgid = group;
    int r = io_uring_register_buf_ring(&ring, &reg, 0);
    if (r < 0)
        return std::string("provided buffer rings unavailable (Linux 5.19 or later needed): ") +
               std::strerror(-r);

    size_ = size;
    count_ = count;
    mask_ = io_uring_buf_ring_mask(entries);
    group_ = group;
    io_uring_buf_ring_init(ring_);
    for (unsigned bid = 0; bid < count; ++bid)
        io_uring_buf_ring_add(ring_, base_ + std::size_t(bid) * size, size,
                              static_cast<unsigned short>(bid), mask_, static_cast<int>(bid));
    io_uring_buf_ring_advance(ring_, static_cast<int>(count));
    return std::nullopt;
}

void ProvidedBuffers::give_back(std::uint16_t bid) {
    if (bid >= count_) return;
    io_uring_buf_ring_add(ring_, base_ + std::size_t(bid) * size_, size_, bid, mask_, 0);
    io_uring_buf_ring_advance(ring_, 1);
}

}  // namespace xs::daemon::loop
