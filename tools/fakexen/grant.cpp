#include "tools/fakexen/grant.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "transport/ring_layout.hpp"

namespace xs::fakexen {

Result<void*> map_page_file(const std::string& path, int prot) {
    int fd = ::open(path.c_str(), (prot & PROT_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) return fail(errno);
    void* p = ::mmap(nullptr, kPageSize, prot, MAP_SHARED, fd, 0);
    int e = errno;
    ::close(fd);
    if (p == MAP_FAILED) return fail(e);
    return p;
}

Result<void*> map_grant(Host& host, DomId domid, std::uint32_t ref, int prot) {
    std::string path;
    {
        auto lock = host.lock();
        if (domid >= kMaxDomains) return fail(EINVAL);
        const DomainRecord& d = host.domain(domid);
        bool grants = d.state == DomainState::kRunning || d.state == DomainState::kShutdown;
        // dom0 shares its page through xsd_kva, not through a grant.
        if (!grants || domid == 0 || ref != ring::kGrantRefXenstore) return fail(EINVAL);
        path = host.ring_path(domid);
    }
    return map_page_file(path, prot);
}

Result<void*> map_foreign_frame(Host& host, DomId domid, std::uint64_t gfn, std::size_t size,
                                int prot) {
    std::string path;
    {
        auto lock = host.lock();
        if (domid >= kMaxDomains || !domain_exists(host.domain(domid).state)) return fail(ESRCH);
        if (gfn != host.domain(domid).ring_gfn || size == 0 || size > kPageSize) return fail(EINVAL);
        path = host.ring_path(domid);
    }
    return map_page_file(path, prot);
}

}  // namespace xs::fakexen
