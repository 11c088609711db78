// The transport seam: how the benchmark reaches a daemon. A Stream is one
// non-blocking byte stream (a unix socket connection, or a guest's ring
// through the fake-Xen guest library, bench/ring_stream.hpp, whose
// event-channel fd is the poll fd). A Transport opens measured streams.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "bench/failure.hpp"

namespace xs::bench {

class Stream {
public:
    virtual ~Stream() = default;
    // Becomes readable (epoll) when read_some() may have data, or when a
    // stalled write_some() may progress.
    virtual int poll_fd() const = 0;
    // Never blocks. Bytes read (> 0), 0 when nothing is available now,
    // -1 at end of stream or on error.
    virtual long read_some(char* buf, std::size_t cap) = 0;
    // Never blocks. Bytes taken (0 when full), -1 on error.
    virtual long write_some(const char* buf, std::size_t len) = 0;
    // The daemon process at the other end, when the transport can tell.
    virtual std::optional<pid_t> peer_pid() const { return std::nullopt; }
    // True when room to write is signalled by the poll fd becoming readable
    // (a ring's event channel kicks for both directions) rather than by
    // EPOLLOUT, which such an fd would report all the time.
    virtual bool write_ready_is_readable() const { return false; }
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual std::string name() const = 0;
    virtual Checked<std::unique_ptr<Stream>> open() = 0;
};

// Connections to a unix socket path (the daemon's dom0 socket).
class UnixTransport final : public Transport {
public:
    explicit UnixTransport(std::string path) : path_(std::move(path)) {}
    std::string name() const override { return "unix"; }
    Checked<std::unique_ptr<Stream>> open() override;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A Stream over a connected stream socket (takes the fd; made non-blocking
// per call, so the fd's own flags do not matter).
std::unique_ptr<Stream> unix_stream(int fd);

// Connect a blocking stream socket to `path`; the fd or -1 with `err` set.
int connect_unix_fd(const std::string& path, std::string& err);

}  // namespace xs::bench
