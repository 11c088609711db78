#include "tests/fuzz/fake_loop.hpp"

#include <algorithm>
#include <cstdlib>

namespace xs::fuzz {

void FakeLoop::send(daemon::ConnId id, std::span<const iovec> iov) {
    // The loop contract: one send in flight per connection. Breaking it is
    // a daemon bug the fuzzer must report. A send on a closed one is dropped.
    if (sends_.count(id)) std::abort();
    if (closed_.count(id)) return;
    Send s;
    s.iov.assign(iov.begin(), iov.end());
    for (const iovec& v : iov) s.bytes += v.iov_len;
    sends_[id] = std::move(s);
}

void FakeLoop::close_socket(daemon::ConnId id) {
    sends_.erase(id);
    not_reading_.erase(id);
    closed_.insert(id);
}

std::string FakeLoop::Send::head(std::size_t n) const {
    std::string out;
    for (const iovec& v : iov) {
        if (out.size() >= n) break;
        out.append(static_cast<const char*>(v.iov_base), std::min(v.iov_len, n - out.size()));
    }
    return out;
}

bool FakeLoop::take_send(daemon::ConnId id, Send& out) {
    auto it = sends_.find(id);
    if (it == sends_.end()) return false;
    out = std::move(it->second);
    sends_.erase(it);
    return true;
}

std::vector<int> FakeLoop::watched() const {
    std::vector<int> tokens;
    for (auto [fd, token] : watched_) tokens.push_back(token);
    return tokens;
}

}  // namespace xs::fuzz
