// The provided-buffer ring shared by every multishot receive: the kernel
// picks a free buffer for each chunk it receives and names it in the CQE;
// the loop hands the buffer back as soon as the daemon has seen the bytes.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <optional>
#include <string>

namespace xs::daemon::loop {

class ProvidedBuffers {
public:
    ProvidedBuffers() = default;
    ProvidedBuffers(const ProvidedBuffers&) = delete;
    ProvidedBuffers& operator=(const ProvidedBuffers&) = delete;
    ~ProvidedBuffers();

    // Maps `count` buffers of `size` bytes and registers them with `ring`
    // as buffer group `group`. Returns why it failed, or nullopt.
    std::optional<std::string> setup(io_uring& ring, unsigned count, unsigned size,
                                     std::uint16_t group);

    std::uint16_t group() const { return group_; }
    unsigned size() const { return size_; }
    const char* data(std::uint16_t bid) const { return base_ + std::size_t(bid) * size_; }

    // Makes buffer `bid` available to the kernel again.
    void give_back(std::uint16_t bid);

private:
    io_uring_buf_ring* ring_ = nullptr;
    std::size_t ring_bytes_ = 0;
    char* base_ = nullptr;
    std::size_t base_bytes_ = 0;
    unsigned size_ = 0;
    unsigned count_ = 0;
    int mask_ = 0;
    std::uint16_t group_ = 0;
};

}  // namespace xs::daemon::loop
