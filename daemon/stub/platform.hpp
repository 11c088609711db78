// Everything the stub-domain build needs from the system it runs on, beyond
// the Xen libraries (transport/hypervisor.hpp) and plain C++: a MiniOS or
// Unikraft port implements this interface and nothing else of the daemon
// changes. harness_platform.cpp implements it on Linux for the fake-Xen
// harness. docs/stubdom.md lists every platform function the core uses.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/image_update.hpp"
#include "daemon/loop/loop.hpp"

namespace xs::daemon::stub {

class Platform : public ImageUpdate {
public:
    // Block until one of `fds` (event-channel fds) is readable or `until`
    // has passed (nullopt: no limit). ready[i] tells whether fds[i] is.
    virtual void wait(std::span<const int> fds, std::optional<Clock::time_point> until, std::vector<bool>& ready) = 0;
    // The domain is asked to stop (the harness: SIGTERM or SIGINT, which
    // end a wait early). A real stub domain is destroyed instead: false.
    virtual bool stop_requested() const = 0;
    // The migration stream a previous image handed over (ImageUpdate::
    // activate), or nullopt with `why`.
    virtual std::optional<std::string> take_handover(std::string& why) = 0;
};

// The Linux implementation used on the fake-Xen harness: poll(2), and a
// memfd holding the image started with fexecve(3), the stream in a second
// memfd the new process finds by its number in the environment.
std::unique_ptr<Platform> make_harness_platform();

}  // namespace xs::daemon::stub
