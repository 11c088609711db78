// The wake-up sockets of event-channel handles. Each open handle binds an
// abstract unix datagram socket named after the host and its HandleRef
// ("@xstore-fakexen/<host id>/<slot>/<generation>"); its fd is what the
// process polls. A doorbell datagram in it means "ports are queued for you".
// Abstract names vanish when the last fd closes, which also tells whether
// the holder of a handle is still alive.
#pragma once

#include "tools/fakexen/host.hpp"

namespace xs::fakexen::wakeup {

// A new datagram socket bound to `ref`'s name; -1 with errno on failure.
int bind_socket(Host& host, HandleRef ref, bool cloexec);
// Send one doorbell to `ref`'s socket (lost silently if nobody holds it).
// Under the host lock use Host::ring_after_unlock instead.
void ring(Host& host, HandleRef ref);
// Take every doorbell out of a handle's socket.
void drain(int fd);
// Whether some process still holds `ref`'s socket.
bool alive(Host& host, HandleRef ref);
// The handle a socket fd belongs to on this host, or 0.
HandleRef ref_of(Host& host, int fd);

}  // namespace xs::fakexen::wakeup
