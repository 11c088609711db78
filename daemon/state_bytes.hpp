// A live update's state file, read whole into anonymous memory aligned to
// 2 MiB and advised onto large pages. Why not mmap the file: on the test
// machine (a VM with shadow paging) the first touch of every 4 KiB page of a
// mapping costs microseconds, and the decode of a 100k-node stream (8 MB)
// touched 2,000 of them, cold, in a process that had just started: read()
// copies from the page cache inside the kernel, and the decode then walks a
// handful of large pages (decode 15-20 -> 12-15 ms, the read 1.5-2 ms).
// Where the kernel gives no large pages this is a plain read into memory.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace xs::daemon {

class StateBytes {
public:
    // The whole file, or the errno of what failed (open, fstat, mmap, read).
    static Result<StateBytes> read(const std::string& path);
    StateBytes(StateBytes&& o) noexcept;
    StateBytes& operator=(StateBytes&&) = delete;
    StateBytes(const StateBytes&) = delete;
    ~StateBytes();
    std::string_view bytes() const { return {data_, size_}; }

private:
    StateBytes(void* region, std::size_t region_size, const char* data, std::size_t size)
        : region_(region), region_size_(region_size), data_(data), size_(size) {}
    void* region_;             // what mmap gave (unmapped as a whole)
    std::size_t region_size_;
    const char* data_;         // the aligned start inside it
    std::size_t size_;
};

}  // namespace xs::daemon
