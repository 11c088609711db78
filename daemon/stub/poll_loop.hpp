// The stub-domain build's event loop: ring connections only, so all it does
// is wait for the watched fds (event channels) and deadlines and tell the
// daemon. It has no sockets: the socket calls of EventLoop are never made by
// a daemon without a listener, and abort if they are. The waiting itself is
// the platform's (Platform::wait).
#pragma once

#include <memory>

#include "daemon/loop/loop.hpp"
#include "daemon/stub/platform.hpp"

namespace xs::daemon::stub {

std::unique_ptr<EventLoop> make_poll_loop(Platform& platform);

}  // namespace xs::daemon::stub
