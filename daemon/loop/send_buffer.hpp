// The loop's copy of a send(): the daemon's iovec list (the bytes stay in
// the daemon's buffers), how much of it has been written, and the msghdr
// sendmsg() needs. The copy lets the daemon pass a temporary iovec array.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <span>
#include <vector>

namespace xs::daemon::loop {

class SendBuffer {
public:
    // At most IOV_MAX entries are taken: sendmsg() refuses more. The daemon
    // learns through on_sent() that the rest is still to be sent.
    void assign(std::span<const iovec> iov);
    void clear();

    // Drops `n` written bytes from the front.
    void advance(std::size_t n);

    bool empty() const { return first_ == iov_.size(); }
    std::size_t written() const { return written_; }
    std::size_t remaining_bytes() const;

    // A msghdr for the unwritten part. It points into this object, which
    // must not move or change while a kernel operation uses it.
    msghdr* message();

private:
    std::vector<iovec> iov_;
    std::size_t first_ = 0;    // first entry with unwritten bytes
    std::size_t written_ = 0;  // bytes written since assign()
    msghdr msg_{};
};

}  // namespace xs::daemon::loop
