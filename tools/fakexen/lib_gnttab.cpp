// Drop-in libxengnttab.so.1 on a fake host: grant ref 1 of a domain is its
// xenstore ring page file, mapped MAP_SHARED. Sharing pages (xengntshr),
// grant copy and dma-bufs are not faked and fail with ENOSYS.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <mutex>

extern "C" {
#include <xengnttab.h>
}

#include "tools/fakexen/domains.hpp"
#include "tools/fakexen/evtchn.hpp"
#include "tools/fakexen/grant.hpp"

using xs::fakexen::Host;

namespace {

// What to do when a mapping made with map_grant_ref_notify goes away.
struct UnmapNotify {
    std::uint32_t offset = static_cast<std::uint32_t>(-1);  // byte to clear, -1: none
    evtchn_port_t port = static_cast<evtchn_port_t>(-1);    // port to notify, -1: none
};

struct Mapping {
    std::uint32_t pages;
    UnmapNotify notify;
};

}  // namespace

struct xengntdev_handle {
    std::shared_ptr<Host> host;
    int fd = -1;  // stands in for the gntdev fd
    std::mutex m;
    std::map<void*, Mapping> maps;
};

namespace {

// Map `count` grants as one contiguous area: reserve it, then put each page
// in place.
void* map_many(xengnttab_handle* xgt, std::uint32_t count, const std::uint32_t* domids,
               std::uint32_t one_domid, const std::uint32_t* refs, int prot, UnmapNotify n = {}) {
    if (count == 0) {
        errno = EINVAL;
        return nullptr;
    }
    std::size_t len = static_cast<std::size_t>(count) * xs::fakexen::kPageSize;
    void* area = ::mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) return nullptr;
    for (std::uint32_t i = 0; i < count; ++i) {
        std::uint32_t domid = domids ? domids[i] : one_domid;
        auto page = domid > 0xFFFF ? xs::fail(EINVAL)
                                   : xs::fakexen::map_grant(*xgt->host, static_cast<xs::DomId>(domid),
                                                            refs[i], prot);
        char* where = static_cast<char*>(area) + i * xs::fakexen::kPageSize;
        if (!page || ::mremap(*page, xs::fakexen::kPageSize, xs::fakexen::kPageSize,
                              MREMAP_MAYMOVE | MREMAP_FIXED, where) == MAP_FAILED) {
            int e = page ? errno : page.error().code;
            if (page) ::munmap(*page, xs::fakexen::kPageSize);
            ::munmap(area, len);
            errno = e;
            return nullptr;
        }
    }
    std::lock_guard g(xgt->m);
    xgt->maps[area] = Mapping{count, n};
    return area;
}

void send_unmap_notify(xengnttab_handle* xgt, void* start, const Mapping& m) {
    if (m.notify.offset != static_cast<std::uint32_t>(-1) &&
        m.notify.offset < m.pages * xs::fakexen::kPageSize)
        static_cast<char*>(start)[m.notify.offset] = 0;
    if (m.notify.port != static_cast<evtchn_port_t>(-1)) {
        auto self = Host::self_domid_from_env();
        if (!self) return;
        (void)xs::fakexen::send_as_domain(*xgt->host, *self, m.notify.port);
    }
}

}  // namespace

extern "C" {

xengnttab_handle* xengnttab_open(struct xentoollog_logger*, unsigned) {
    auto host = Host::from_env();
    if (!host) {
        errno = host.error().code;
        return nullptr;
    }
    auto* xgt = new xengnttab_handle;
    xgt->host = *host;
    xgt->fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    return xgt;
}

int xengnttab_close(xengnttab_handle* xgt) {
    if (xgt == nullptr) return 0;
    // As with gntdev, mappings outlive the handle (until munmap).
    if (xgt->fd >= 0) ::close(xgt->fd);
    delete xgt;
    return 0;
}

int xengnttab_fd(xengnttab_handle* xgt) { return xgt->fd; }

void* xengnttab_map_grant_ref(xengnttab_handle* xgt, uint32_t domid, uint32_t ref, int prot) {
    return map_many(xgt, 1, nullptr, domid, &ref, prot);
}

void* xengnttab_map_grant_refs(xengnttab_handle* xgt, uint32_t count, uint32_t* domids,
                               uint32_t* refs, int prot) {
    return map_many(xgt, count, domids, 0, refs, prot);
}

void* xengnttab_map_domain_grant_refs(xengnttab_handle* xgt, uint32_t count, uint32_t domid,
                                      uint32_t* refs, int prot) {
    return map_many(xgt, count, nullptr, domid, refs, prot);
}

void* xengnttab_map_grant_ref_notify(xengnttab_handle* xgt, uint32_t domid, uint32_t ref, int prot,
                                     uint32_t notify_offset, evtchn_port_t notify_port) {
    return map_many(xgt, 1, nullptr, domid, &ref, prot, UnmapNotify{notify_offset, notify_port});
}

int xengnttab_unmap(xengnttab_handle* xgt, void* start_address, uint32_t count) {
    Mapping m;
    {
        std::lock_guard g(xgt->m);
        auto it = xgt->maps.find(start_address);
        if (it == xgt->maps.end() || it->second.pages != count) {
            errno = EINVAL;
            return -1;
        }
        m = it->second;
        xgt->maps.erase(it);
    }
    send_unmap_notify(xgt, start_address, m);
    return ::munmap(start_address, count * xs::fakexen::kPageSize);
}

int xengnttab_set_max_grants(xengnttab_handle*, uint32_t) { return 0; }

int xengnttab_grant_copy(xengnttab_handle*, uint32_t, xengnttab_grant_copy_segment_t*) {
    errno = ENOSYS;
    return -1;
}

int xengnttab_dmabuf_exp_from_refs(xengnttab_handle*, uint32_t, uint32_t, uint32_t,
                                   const uint32_t*, uint32_t*) {
    errno = ENOSYS;
    return -1;
}

int xengnttab_dmabuf_exp_wait_released(xengnttab_handle*, uint32_t, uint32_t) {
    errno = ENOSYS;
    return -1;
}

int xengnttab_dmabuf_imp_to_refs(xengnttab_handle*, uint32_t, uint32_t, uint32_t, uint32_t*) {
    errno = ENOSYS;
    return -1;
}

int xengnttab_dmabuf_imp_release(xengnttab_handle*, uint32_t) {
    errno = ENOSYS;
    return -1;
}

xengntshr_handle* xengntshr_open(struct xentoollog_logger*, unsigned) {
    errno = ENOSYS;
    return nullptr;
}

int xengntshr_close(xengntshr_handle*) { return 0; }

int xengntshr_fd(xengntshr_handle*) {
    errno = ENOSYS;
    return -1;
}

void* xengntshr_share_pages(xengntshr_handle*, uint32_t, int, uint32_t*, int) {
    errno = ENOSYS;
    return nullptr;
}

void* xengntshr_share_page_notify(xengntshr_handle*, uint32_t, uint32_t*, int, uint32_t,
                                  evtchn_port_t) {
    errno = ENOSYS;
    return nullptr;
}

int xengntshr_unshare(xengntshr_handle*, void*, uint32_t) {
    errno = ENOSYS;
    return -1;
}

}  // extern "C"
