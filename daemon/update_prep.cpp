#include "daemon/update_prep.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/prefault.hpp"

namespace xs::daemon {

namespace {

// A store may grow between -f and -s: a quarter more, and 1 MiB.
std::size_t with_headroom(std::size_t bytes) { return bytes + bytes / 4 + (std::size_t{1} << 20); }

}  // namespace

UpdatePrep::UpdatePrep(std::string path, std::size_t bytes) : path_(std::move(path)), size_(with_headroom(bytes)) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    // A mapping must not reach past the end of its file: sized first, its
    // space allocated by the helper before anything is written into it.
    if (fd_ >= 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) == 0) {
        void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
        if (p != MAP_FAILED) map_ = static_cast<char*>(p);
    }
    helper_ = std::thread([this] {
        // Written into, a page the file system cannot supply would kill the
        // daemon (SIGBUS): only allocated space is used.
        allocated_ = map_ && ::posix_fallocate(fd_, 0, static_cast<off_t>(size_)) == 0;
        allocation_done_.count_down();
        if (allocated_) populate(map_, size_);
    });
}

std::span<char> UpdatePrep::room() {
    allocation_done_.wait();
    if (!allocated_) return {};
    return {map_, size_};
}

void UpdatePrep::unmap() {
    if (map_) ::munmap(map_, size_);
    map_ = nullptr;
}

int UpdatePrep::take_file(std::size_t used) {
    if (helper_.joinable()) helper_.join();
    unmap();
    file_taken_ = true;
    if (fd_ >= 0 && ::ftruncate(fd_, static_cast<off_t>(used)) != 0) {
        ::close(fd_);
        fd_ = -1;
    }
    return fd_;
}

UpdatePrep::~UpdatePrep() {
    if (helper_.joinable()) helper_.join();
    unmap();
    if (!file_taken_ && fd_ >= 0) {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
}

}  // namespace xs::daemon
