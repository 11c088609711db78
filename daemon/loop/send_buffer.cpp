#include "daemon/loop/send_buffer.hpp"

#include <climits>

namespace xs::daemon::loop {

void SendBuffer::assign(std::span<const iovec> iov) {
    if (iov.size() > IOV_MAX) iov = iov.first(IOV_MAX);
    iov_.assign(iov.begin(), iov.end());
    first_ = 0;
    written_ = 0;
    while (first_ < iov_.size() && iov_[first_].iov_len == 0) ++first_;
}

void SendBuffer::clear() {
    iov_.clear();
    first_ = 0;
    written_ = 0;
}

void SendBuffer::advance(std::size_t n) {
    written_ += n;
    while (n > 0 && first_ < iov_.size()) {
        iovec& v = iov_[first_];
        std::size_t step = n < v.iov_len ? n : v.iov_len;
        v.iov_base = static_cast<char*>(v.iov_base) + step;
        v.iov_len -= step;
        n -= step;
        if (v.iov_len == 0) ++first_;
    }
    while (first_ < iov_.size() && iov_[first_].iov_len == 0) ++first_;
}

std::size_t SendBuffer::remaining_bytes() const {
    std::size_t total = 0;
    for (std::size_t i = first_; i < iov_.size(); ++i) total += iov_[i].iov_len;
    return total;
}

msghdr* SendBuffer::message() {
    msg_ = msghdr{};
    msg_.msg_iov = iov_.data() + first_;
    msg_.msg_iovlen = iov_.size() - first_;
    return &msg_;
}

}  // namespace xs::daemon::loop
