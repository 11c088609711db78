#include "daemon/state_bytes.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>

namespace xs::daemon {

namespace {

constexpr std::size_t kLargePage = std::size_t{2} << 20;

std::size_t round_up(std::size_t n, std::size_t unit) { return (n + unit - 1) / unit * unit; }

// Every byte of fd into [to, to + n): a short read is a file that changed
// under us, reported as EIO.
Result<> read_exactly(int fd, char* to, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::read(fd, to + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return fail(errno);
        if (r == 0) return fail(EIO);
        got += static_cast<std::size_t>(r);
    }
    return {};
}

// Closes the fd on every path out of read(), keeping errno.
struct FdCloser {
    int fd;
    ~FdCloser() {
        int e = errno;
        ::close(fd);
        errno = e;
    }
};

}  // namespace

Result<StateBytes> StateBytes::read(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno);
    FdCloser closer{fd};
    struct stat st;
    if (::fstat(fd, &st) < 0) return fail(errno);
    auto size = static_cast<std::size_t>(st.st_size);
    std::size_t used = round_up(size ? size : 1, kLargePage);
    std::size_t region_size = used + kLargePage;  // room to align the start
    void* region = ::mmap(nullptr, region_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) return fail(errno);
    auto aligned = round_up(reinterpret_cast<std::uintptr_t>(region), kLargePage);
    char* data = reinterpret_cast<char*>(aligned);
    ::madvise(data, used, MADV_HUGEPAGE);  // advice: refused or ignored is fine
    StateBytes out(region, region_size, data, size);
    if (auto ok = read_exactly(fd, data, size); !ok) return fail(ok.error());
    return out;
}

StateBytes::StateBytes(StateBytes&& o) noexcept
    : region_(std::exchange(o.region_, nullptr)), region_size_(o.region_size_), data_(o.data_), size_(o.size_) {}

StateBytes::~StateBytes() {
    if (region_) ::munmap(region_, region_size_);
}

}  // namespace xs::daemon
