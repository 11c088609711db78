#include "bench/guestboot_plan.hpp"

#include "transport/wire.hpp"

namespace xs::bench {

namespace {

std::string z(std::string_view s) { return std::string(s) + std::string(1, '\0'); }

BootRequest write(const std::string& path, std::string_view value) {
    return {wire::kWrite, z(path) + std::string(value), "", false};
}
BootRequest mkdir(const std::string& path) { return {wire::kMkdir, z(path), "", false}; }
BootRequest perms(const std::string& path, std::initializer_list<std::string> list) {
    std::string payload = z(path);
    for (const auto& p : list) payload += z(p);
    return {wire::kSetPerms, payload, "", false};
}
BootRequest read(const std::string& path, std::string expect) { return {wire::kRead, z(path), std::move(expect), true}; }
BootRequest read_any(const std::string& path) { return {wire::kRead, z(path), "", false}; }

}  // namespace

std::string state_text(XenbusState s) { return std::to_string(static_cast<int>(s)); }

std::string guest_name(DomId d) { return "guest" + std::to_string(d); }

BootPaths boot_paths(DomId d) {
    BootPaths p;
    std::string id = std::to_string(d);
    p.domid = d;
    p.home = "/local/domain/" + id;
    p.frontend = p.home + "/device/vbd/" + std::string(kBootVdev);
    p.backend_parent = "/local/domain/0/backend/vbd/" + id;
    p.backend = p.backend_parent + "/" + std::string(kBootVdev);
    return p;
}

std::vector<BootRequest> toolstack_create(const BootPaths& p) {
    std::string id = std::to_string(p.domid), owner = "n" + id, reader = "r" + id;
    std::string init = state_text(XenbusState::kInitialising);
    return {
        mkdir(p.home), perms(p.home, {"n0", reader}),
        write(p.home + "/name", guest_name(p.domid)), write(p.home + "/domid", id),
        mkdir(p.home + "/data"), perms(p.home + "/data", {owner}),
        mkdir(p.frontend), perms(p.frontend, {owner, "r0"}),
        write(p.frontend + "/backend", p.backend), write(p.frontend + "/backend-id", "0"),
        write(p.frontend + "/virtual-device", kBootVdev), write(p.frontend + "/device-type", "disk"),
        write(p.fe_state(), init),
        mkdir(p.backend), perms(p.backend, {"n0", reader}),
        write(p.backend + "/frontend", p.frontend), write(p.backend + "/frontend-id", id),
        write(p.backend + "/online", "1"), write(p.backend + "/params", "/dev/vg/" + guest_name(p.domid)),
        write(p.backend + "/mode", "w"), write(p.be_state(), init),
    };
}

std::vector<BootRequest> backend_initwait(const BootPaths& p) {
    return {write(p.backend + "/feature-flush-cache", "1"), write(p.backend + "/feature-persistent", "1"),
            write(p.backend + "/max-ring-page-order", "4"), write(p.be_state(), state_text(XenbusState::kInitWait))};
}

std::vector<BootRequest> backend_connect(const BootPaths& p, std::uint32_t event_channel) {
    return {read(p.frontend + "/ring-ref", std::string(kRingRef)),
            read(p.frontend + "/event-channel", std::to_string(event_channel)),
            read(p.frontend + "/protocol", std::string(kProtocol)),
            write(p.backend + "/sectors", kSectors), write(p.backend + "/sector-size", kSectorSize),
            write(p.backend + "/info", "0"), write(p.be_state(), state_text(XenbusState::kConnected))};
}

std::vector<BootRequest> frontend_probe(const BootPaths& p) {
    BootRequest dir{wire::kDirectory, z(p.home + "/device/vbd"), z(kBootVdev), true};
    return {read(p.home + "/domid", std::to_string(p.domid)), read(p.home + "/name", guest_name(p.domid)), dir,
            read(p.frontend + "/backend", p.backend), read(p.frontend + "/backend-id", "0")};
}

std::vector<BootRequest> frontend_initialise(const BootPaths& p, std::uint32_t event_channel) {
    return {write(p.frontend + "/ring-ref", kRingRef), write(p.frontend + "/event-channel", std::to_string(event_channel)),
            write(p.frontend + "/protocol", kProtocol), write(p.fe_state(), state_text(XenbusState::kInitialised))};
}

std::vector<BootRequest> frontend_connect(const BootPaths& p) {
    return {read(p.backend + "/sectors", std::string(kSectors)), read(p.backend + "/sector-size", std::string(kSectorSize)),
            read_any(p.backend + "/info"), write(p.fe_state(), state_text(XenbusState::kConnected))};
}

BootMix guest_mix(const BootPaths& p, std::uint32_t event_channel) {
    BootMix m;
    m.before = frontend_probe(p);
    m.before.push_back(read(p.be_state(), state_text(XenbusState::kConnected)));
    m.inside = {write(p.frontend + "/ring-ref", kRingRef),
                write(p.frontend + "/event-channel", std::to_string(event_channel)),
                write(p.frontend + "/protocol", kProtocol)};
    return m;
}

std::vector<BootRequest> toolstack_destroy(const BootPaths& p) {
    return {{wire::kRm, z(p.home), "", false}, {wire::kRm, z(p.backend_parent), "", false}};
}

}  // namespace xs::bench
