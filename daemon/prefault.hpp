// Touching memory ahead of need. A live update moves a whole store through
// memory nobody touched before: the stream buffer and the state file in the
// old process, the file's mapping and the new nodes in the new one. The
// first touch of each page costs a fault (microseconds on a virtual
// machine; a big store has tens of thousands of pages), so these helpers
// fault pages in bulk, from a helper thread while the daemon still works.
#pragma once

#include <cstddef>
#include <thread>

namespace xs::daemon {

// Make every page of [p, p + n) present and writable (MADV_POPULATE_WRITE;
// nothing where the kernel lacks it). Never writes: another thread may be
// filling those pages.
void populate(void* p, std::size_t n);

// The heap is about to grow by about `bytes` of small allocations (a
// restored tree): grow it in one step and fault its new pages in from a
// helper thread while the caller starts allocating. The returned thread
// must be joined; call heap_back_to_normal() after.
std::thread grow_heap(std::size_t bytes);
void heap_back_to_normal();
// Once the restored state is built: give back what the grown heap did not
// need (the stream is larger than the tree it holds), which glibc would
// otherwise keep until a free() next to the top of the heap.
void give_back_unused_heap();

}  // namespace xs::daemon
