// The daemon's listening unix socket.
#pragma once

#include <string>

#include "base/result.hpp"

namespace xs::transport {

// Create a listening stream socket at `path`: any old socket file there is
// removed first; the socket is made 0600 (dom0 tools only). The fd is
// non-blocking and close-on-exec.
Result<int> listen_unix(const std::string& path, int backlog = 128);

}  // namespace xs::transport
