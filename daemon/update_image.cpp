// Live update in the stub-domain build (image_update.hpp): the image
// arrives in chunks (-b, -d, the C daemon's replies), the state is encoded
// into memory and the platform starts the image with it.
#include <cerrno>
#include <cstring>
#include <new>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"

namespace xs::daemon {

std::optional<std::string_view> image_chunk(std::string_view payload) {
    std::string_view rest = payload;
    std::string_view fields[3];
    for (std::string_view& f : fields) {
        std::size_t nul = rest.find('\0');
        if (nul == std::string_view::npos) return std::nullopt;
        f = rest.substr(0, nul);
        rest.remove_prefix(nul + 1);
    }
    auto n = parse_u32(fields[2]);
    if (fields[1] != "-d" || !n || rest.size() != std::size_t{*n} + 1 || rest.back() != '\0') return std::nullopt;
    return rest.substr(0, *n);
}

// -b <size>: a session owned by this connection, with room for the image.
std::string Daemon::lu_begin_image(const Connection& c, std::string_view size) {
    auto n = parse_u32(size);
    log::info("live update: image of %.*s bytes", static_cast<int>(size.size()), size.data());
    if (lu_) return "live-update session already active.";
    if (!n || *n == 0 || *n > image_update_->max_image()) return "Allocation failure.";
    lu_.emplace();
    lu_->owner = c.id();
    lu_->image_size = *n;
    try {
        lu_->image.reserve(*n);
    } catch (const std::bad_alloc&) {
        lu_.reset();
        return "Allocation failure.";
    }
    return "OK";
}

// -d <n> <bytes>: the next chunk, in order.
std::string Daemon::lu_save_chunk(const Connection& c, std::string_view payload) {
    if (!lu_ || lu_->owner != c.id() || lu_->image_size == 0) return "Not in live-update session.";
    std::optional<std::string_view> chunk = image_chunk(payload);
    if (!chunk) return "Invalid kernel data.";
    if (lu_->image.size() + chunk->size() > lu_->image_size) return "Too much kernel data.";
    lu_->image.append(*chunk);
    return "OK";
}

// The state into memory, then the platform's activate. Returns only on
// failure, with the reply that says why; the daemon then serves on.
std::string Daemon::lu_exec_image() {
    if (lu_->start.version < migration::kVersion2) lu_drain_input();
    auto t0 = Clock::now();
    std::uint32_t version = lu_->start.version;
    auto bytes = migration::encode(export_state(version), migration::WriterOptions{version}, std::string());
    if (!bytes) return "Dump error: " + bytes.error();
    log::info("live update: state encoded in memory (%zu bytes, stream version %u) in %.1f ms", bytes->size(),
              version, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    std::string self = cfg_.argv.empty() ? std::string("xstored-stubdom") : cfg_.argv[0];
    std::vector<std::string> argv = update_argv(self, lu_->cmdline, cfg_.argv);
    // The new image binds VIRQ_DOM_EXC itself (one binding per domain).
    if (hv_ && virq_port_ != ~0u) hv_->unbind(virq_port_);
    log::info("live update: starting the new image (%zu bytes)", lu_->image.size());
    std::string why = image_update_->activate(lu_->image, std::move(*bytes), argv);
    if (hv_ && virq_port_ != ~0u) {
        auto port = hv_->bind_dom_exc();
        if (!port) log::error("live update: cannot bind VIRQ_DOM_EXC again: %s", std::strerror(port.error().code));
        virq_port_ = port ? *port : ~0u;
    }
    return "Error activating new binary.\n" + why;
}

}  // namespace xs::daemon
