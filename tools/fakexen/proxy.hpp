// The ring proxy: a unix socket whose clients talk to the daemon as one
// fake guest, through that guest's ring (multiplexed by Mux). It lets an
// unmodified libxenstore client (XENSTORED_PATH=<socket> xenstore-ls) act
// as the guest.
#pragma once

#include <memory>
#include <string>

#include "tools/fakexen/guest.hpp"

namespace xs::fakexen {

// Bytes a client may have waiting for it before the proxy drops it.
inline constexpr std::size_t kProxyClientBacklog = 16u << 20;
// Request bytes waiting for ring space before the proxy stops reading clients.
inline constexpr std::size_t kProxyRingBacklog = 1u << 20;

// Listen on `listen_path` and serve until SIGINT/SIGTERM (exit status 0) or
// until the ring breaks (index error, error field set, bad framing: 1).
// Prints "listening on <path>" on stdout once clients can connect.
int run_proxy(std::shared_ptr<Guest> guest, const std::string& listen_path);

}  // namespace xs::fakexen
