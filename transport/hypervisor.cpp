#include "transport/hypervisor.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

extern "C" {  // these headers declare C functions without saying so
#include <xenevtchn.h>
#include <xengnttab.h>
}

#include <cerrno>
#include <cstring>

#include "transport/xenctrl_shim.h"

namespace xs::transport {

namespace {
constexpr unsigned kVirqDomExc = 3;
constexpr unsigned kMaxDomains = 1024;
}  // namespace

struct Hypervisor::Impl {
    xenevtchn_handle* evtchn = nullptr;
    xengnttab_handle* gnttab = nullptr;
    void* xc = nullptr;
    // The domain list's buffers, made at the first call and kept: a fresh
    // 128 KiB each time was a mapping and 32 page faults per domain death.
    std::vector<std::uint64_t> scratch;
    std::vector<xs_dominfo> list;
    void* scratch_for(unsigned max) {
        std::size_t words = (xs_xc_scratch_size(max) + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);
        if (scratch.size() < words) scratch.resize(words);
        return scratch.data();
    }
};

std::unique_ptr<Hypervisor> Hypervisor::open(std::string& why) {
    // Kept across exec (no close-on-exec) so a live update keeps the bindings.
    xenevtchn_handle* evtchn = xenevtchn_open(nullptr, XENEVTCHN_NO_CLOEXEC);
    if (!evtchn) {
        why = std::string("cannot open event channels: ") + std::strerror(errno);
        return nullptr;
    }
    return with_event_channels(evtchn, false, why);
}

std::unique_ptr<Hypervisor> Hypervisor::adopt(int evtchn_fd, std::string& why) {
    xenevtchn_handle* evtchn = xenevtchn_fdopen(nullptr, evtchn_fd, 0);
    if (!evtchn) {
        why = "cannot adopt the event-channel fd " + std::to_string(evtchn_fd) + ": " + std::strerror(errno);
        return nullptr;
    }
    return with_event_channels(evtchn, true, why);
}

// `adopted`: a failure must leave the inherited fd, and with it every
// binding, to whoever comes next (a live update's way back).
std::unique_ptr<Hypervisor> Hypervisor::with_event_channels(void* evtchn, bool adopted, std::string& why) {
    std::unique_ptr<Hypervisor> hv(new Hypervisor());
    hv->impl_ = std::make_unique<Impl>();
    hv->impl_->evtchn = static_cast<xenevtchn_handle*>(evtchn);
    hv->impl_->gnttab = xengnttab_open(nullptr, 0);
    if (hv->impl_->gnttab) hv->impl_->xc = xs_xc_open();
    if (!hv->impl_->gnttab || !hv->impl_->xc) {
        why = std::string(hv->impl_->gnttab ? "cannot open the hypervisor control interface: "
                                            : "cannot open grant tables: ") +
              std::strerror(errno);
        if (adopted) hv->impl_->evtchn = nullptr;  // left open on purpose
        return nullptr;
    }
    return hv;
}

Hypervisor::~Hypervisor() {
    if (!impl_) return;
    if (impl_->xc) xs_xc_close(impl_->xc);
    if (impl_->gnttab) xengnttab_close(impl_->gnttab);
    if (impl_->evtchn) xenevtchn_close(impl_->evtchn);
}

namespace {

DomainInfo convert(const xs_dominfo& d) {
    return DomainInfo{static_cast<DomId>(d.domid), d.dying != 0, d.shutdown != 0, d.crashed != 0, d.unique};
}

}  // namespace

Result<std::optional<DomainInfo>> Hypervisor::domain(DomId id) {
    xs_dominfo d{};
    int n = xs_xc_domains(impl_->xc, id, 1, impl_->scratch_for(1), &d);
    if (n < 0) return fail(errno ? errno : EIO);
    if (n == 0 || d.domid != id) return std::optional<DomainInfo>();
    return std::optional<DomainInfo>(convert(d));
}

Result<std::vector<DomainInfo>> Hypervisor::domains() {
    std::vector<DomainInfo> out;
    std::vector<xs_dominfo>& buf = impl_->list;
    buf.resize(kMaxDomains);
    void* scratch = impl_->scratch_for(kMaxDomains);
    std::uint32_t first = 0;
    for (;;) {
        int n = xs_xc_domains(impl_->xc, first, kMaxDomains, scratch, buf.data());
        if (n < 0) return fail(errno ? errno : EIO);
        for (int i = 0; i < n; ++i) out.push_back(convert(buf[static_cast<std::size_t>(i)]));
        if (n < static_cast<int>(kMaxDomains)) return out;
        first = buf[kMaxDomains - 1].domid + 1;
    }
}

int Hypervisor::event_fd() const { return xenevtchn_fd(impl_->evtchn); }

Result<std::uint32_t> Hypervisor::bind_interdomain(DomId remote, std::uint32_t remote_port) {
    xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(impl_->evtchn, remote, remote_port);
    if (p < 0) return fail(errno ? errno : EINVAL);
    return static_cast<std::uint32_t>(p);
}

Result<std::uint32_t> Hypervisor::bind_dom_exc() {
    xenevtchn_port_or_error_t p = xenevtchn_bind_virq(impl_->evtchn, kVirqDomExc);
    if (p < 0) return fail(errno ? errno : EINVAL);
    return static_cast<std::uint32_t>(p);
}

void Hypervisor::unbind(std::uint32_t local_port) { xenevtchn_unbind(impl_->evtchn, local_port); }

void Hypervisor::notify(std::uint32_t local_port) { xenevtchn_notify(impl_->evtchn, local_port); }

std::optional<std::uint32_t> Hypervisor::pending() {
    xenevtchn_port_or_error_t p = xenevtchn_pending(impl_->evtchn);
    if (p < 0) return std::nullopt;
    return static_cast<std::uint32_t>(p);
}

void Hypervisor::unmask(std::uint32_t local_port) { xenevtchn_unmask(impl_->evtchn, local_port); }

Result<ring::Interface*> Hypervisor::map_guest_ring(DomId domid) {
    void* p = xengnttab_map_grant_ref(impl_->gnttab, domid, ring::kGrantRefXenstore, PROT_READ | PROT_WRITE);
    if (!p) return fail(errno ? errno : ENOENT);
    return static_cast<ring::Interface*>(p);
}

Result<ring::Interface*> Hypervisor::map_file_ring(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return fail(errno);
    void* p = ::mmap(nullptr, ring::kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    ::close(fd);
    if (p == MAP_FAILED) return fail(e);
    return static_cast<ring::Interface*>(p);
}

void Hypervisor::unmap_ring(ring::Interface* page, bool from_file) {
    if (!page) return;
    if (from_file) ::munmap(page, ring::kPageSize);
    else xengnttab_unmap(impl_->gnttab, page, 1);
}

}  // namespace xs::transport
