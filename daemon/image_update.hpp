// Live update in the stub-domain build: there is no file system to name a
// new binary in and no exec. The new image arrives in chunks over CONTROL
// (live-update -b <size>, then -d <n> <bytes>, as xenstore-control sends
// them when /tool/xenstored/domid exists), the migration stream stays in
// memory, and the platform starts the image (kexec on MiniOS). This is the
// daemon's side of that; docs/stubdom.md the whole picture.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xs::daemon {

class ImageUpdate {
public:
    virtual ~ImageUpdate() = default;
    // The largest image -b accepts ("Allocation failure." above it).
    virtual std::size_t max_image() const = 0;
    // Start `image` in place of this one, with `argv` (its argv[0] is this
    // program's) and `stream`, the migration stream it restores from.
    // Returns only when that failed, with the reason; this image then serves
    // on as before.
    virtual std::string activate(std::string_view image, std::string stream, const std::vector<std::string>& argv) = 0;
};

// The chunk of a "live-update -d" request: the CONTROL payload is
// "live-update\0-d\0<n>\0" then n bytes (which may hold NULs) and a NUL.
// nullopt when it is not that shape.
std::optional<std::string_view> image_chunk(std::string_view payload);

}  // namespace xs::daemon
