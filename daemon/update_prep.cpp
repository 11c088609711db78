#include "daemon/update_prep.hpp"

#include <fcntl.h>
#include <unistd.h>


#include "daemon/prefault.hpp"

namespace xs::daemon {

UpdatePrep::UpdatePrep(std::string path, std::size_t bytes) : path_(std::move(path)) {
    buffer_.reserve(bytes);
    char* mem = buffer_.data();
    std::size_t room = buffer_.capacity();
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int fd = fd_;
    helper_ = std::thread([mem, room, fd, bytes] {
        // The file first: writing it is the step after encoding.
        if (fd >= 0) ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
        populate(mem, room);
    });
}

int UpdatePrep::take_file() {
    // The buffer's pages may still be coming in: only the file must be
    // ready (both are done in one helper, so wait for it).
    if (helper_.joinable()) helper_.join();
    file_taken_ = true;
    return fd_;
}

UpdatePrep::~UpdatePrep() {
    if (helper_.joinable()) helper_.join();
    if (!file_taken_ && fd_ >= 0) {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
}

}  // namespace xs::daemon
