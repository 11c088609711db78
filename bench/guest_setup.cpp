#include "bench/guest_setup.hpp"

#include <cerrno>
#include <cstring>

#include "transport/wire.hpp"

namespace xs::bench {

namespace {

std::string errno_text(int code) { return std::strerror(code); }

// The domain on the fake host, created when the hypervisor does not know it.
Checked<fakexen::DomainInfo> ensure_domain(fakexen::Host& host, DomId d) {
    auto info = fakexen::domain_info(host, d);
    if (!info) {
        if (info.error().code != ESRCH)
            return failed("fake-Xen domain " + std::to_string(d) + ": " + errno_text(info.error().code));
        info = fakexen::create_domain(host, d);
        if (!info) return failed("create fake-Xen domain " + std::to_string(d) + ": " + errno_text(info.error().code));
    }
    if (info->record.state != fakexen::DomainState::kRunning)
        return failed("fake-Xen domain " + std::to_string(d) + " is not running");
    return *info;
}

// A home the guest owns entirely, then INTRODUCE unless already done.
Checked<> introduce(client::Client& xs, const fakexen::DomainInfo& info) {
    std::string id = std::to_string(info.domid);
    auto step = [&](const char* what, const Result<>& r) -> Checked<> {
        if (!r) return failed(std::string(what) + " for domain " + id + ": " + std::string(wire::error_name(r.error().code)));
        return {};
    };
    auto known = xs.request_string(wire::kIsDomainIntroduced, {id});
    if (!known) return failed("IS_DOMAIN_INTRODUCED " + id + ": " + std::string(wire::error_name(known.error().code)));
    std::string home = guest_home(info.domid);
    if (auto r = step("WRITE home", xs.write(home, "")); !r) return r;
    if (auto r = step("SET_PERMS home", xs.set_perms(home, {"n" + id})); !r) return r;
    if (*known == "T") return {};
    auto r = xs.request_string(wire::kIntroduce,
                               {id, std::to_string(info.record.ring_gfn), std::to_string(info.record.store_port)});
    if (!r) return failed("INTRODUCE " + id + ": " + std::string(wire::error_name(r.error().code)));
    return {};
}

}  // namespace

std::vector<DomId> guest_domids(std::uint64_t first, std::uint64_t count) {
    std::vector<DomId> out;
    for (std::uint64_t i = 0; i < count; ++i) out.push_back(static_cast<DomId>(first + i));
    return out;
}

std::string guest_home(DomId domid) { return "/local/domain/" + std::to_string(domid); }

Checked<std::vector<fakexen::DomainInfo>> ensure_domains(Context& ctx, const std::vector<DomId>& domids) {
    auto host = fakexen::Host::open(ctx.opts().fakexen);
    if (!host) return failed("open fake-Xen host " + ctx.opts().fakexen + ": " + errno_text(host.error().code));
    std::vector<fakexen::DomainInfo> out;
    for (DomId d : domids) {
        auto info = ensure_domain(**host, d);
        if (!info) return unexpected(info.error());
        out.push_back(*info);
    }
    return out;
}

Checked<> prepare_guests(Context& ctx, const std::vector<DomId>& domids) {
    auto host = fakexen::Host::open(ctx.opts().fakexen);
    if (!host) return failed("open fake-Xen host " + ctx.opts().fakexen + ": " + errno_text(host.error().code));
    auto xs = ctx.setup_client();
    if (!xs) return unexpected(xs.error());
    for (DomId d : domids) {
        auto info = ensure_domain(**host, d);
        if (!info) return unexpected(info.error());
        if (auto r = introduce(**xs, *info); !r) return r;
    }
    return {};
}

}  // namespace xs::bench
