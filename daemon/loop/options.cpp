#include "daemon/loop/options.hpp"

namespace xs::daemon::loop {

namespace {

std::optional<std::string> out_of_range(const char* name, unsigned value, unsigned max) {
    return std::string(name) + " is " + std::to_string(value) + ", must be 1.." +
           std::to_string(max);
}

}  // namespace

std::optional<std::string> check_options(const LoopOptions& opts) {
    if (opts.queue_depth == 0 || opts.queue_depth > kMaxQueueDepth)
        return out_of_range("queue_depth", opts.queue_depth, kMaxQueueDepth);
    if (opts.recv_buffers == 0 || opts.recv_buffers > kMaxRecvBuffers)
        return out_of_range("recv_buffers", opts.recv_buffers, kMaxRecvBuffers);
    if (opts.recv_buffer_size == 0 || opts.recv_buffer_size > kMaxRecvBufferSize)
        return out_of_range("recv_buffer_size", opts.recv_buffer_size, kMaxRecvBufferSize);
    return std::nullopt;
}

}  // namespace xs::daemon::loop
