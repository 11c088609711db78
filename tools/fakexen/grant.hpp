// Fake grant mapping: the only page a fake domain grants is its xenstore
// ring page, under grant reference 1 (GNTTAB_RESERVED_XENSTORE), and the
// only foreign frame it has is that page's gfn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/domid.hpp"
#include "base/result.hpp"
#include "tools/fakexen/host.hpp"

namespace xs::fakexen {

// Map grant `ref` of domain `domid` (one page, MAP_SHARED) like gntdev.
// EINVAL when the domain does not exist or is dying, or grants no such ref
// (what the kernel reports for a failed GNTTABOP_map_grant_ref).
Result<void*> map_grant(Host& host, DomId domid, std::uint32_t ref, int prot);

// Map `size` bytes at frame `gfn` of domain `domid` (xc_map_foreign_range).
// ESRCH for an unknown domain, EINVAL for a frame other than the ring's.
Result<void*> map_foreign_frame(Host& host, DomId domid, std::uint64_t gfn, std::size_t size,
                                int prot);

// mmap one page of a file (the ring page files, xsd_kva).
Result<void*> map_page_file(const std::string& path, int prot);

}  // namespace xs::fakexen
