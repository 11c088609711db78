#include "store/pool.hpp"

#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define XS_POOL_PASSTHROUGH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XS_POOL_PASSTHROUGH 1
#endif
#endif

namespace xs::store {

namespace {

void* checked_malloc(std::size_t bytes) {
    void* p = std::malloc(bytes);
    if (!p) throw std::bad_alloc();
    return p;
}

}  // namespace

Pool::~Pool() {
    for (void* s : slabs_) std::free(s);
}

void* Pool::allocate(std::size_t bytes) {
    if (bytes > kMaxSmall) {
        stats_.large_bytes += bytes;
        return checked_malloc(bytes);
    }
    std::size_t size = bytes ? rounded(bytes) : kGrain;
    stats_.small_bytes += size;
    FreeChunk*& head = free_[size / kGrain];
    if (FreeChunk* f = head) {
        head = f->next;
        return f;
    }
    return carve(size);
}

void Pool::deallocate(void* p, std::size_t bytes) {
    if (!p) return;
    if (bytes > kMaxSmall) {
        stats_.large_bytes -= bytes;
        std::free(p);
        return;
    }
    std::size_t size = bytes ? rounded(bytes) : kGrain;
    stats_.small_bytes -= size;
    auto* f = static_cast<FreeChunk*>(p);
    FreeChunk*& head = free_[size / kGrain];
    f->next = head;
    head = f;
}

void* Pool::carve(std::size_t size) {
    if (static_cast<std::size_t>(end_ - cur_) < size) new_slab();
    void* p = cur_;
    cur_ += size;
    return p;
}

// The old slab's tail joins the free list of its size, so nothing is lost.
void Pool::new_slab() {
    if (std::size_t tail = static_cast<std::size_t>(end_ - cur_); tail >= kGrain) {
        auto* f = reinterpret_cast<FreeChunk*>(cur_);
        f->next = free_[tail / kGrain];
        free_[tail / kGrain] = f;
    }
    slabs_.push_back(nullptr);  // room first, so a throw leaves no slab unrecorded
    cur_ = static_cast<char*>(checked_malloc(kSlabBytes));
    slabs_.back() = cur_;
    end_ = cur_ + kSlabBytes;
    stats_.slab_bytes += kSlabBytes;
}

#ifdef XS_POOL_PASSTHROUGH

void* pool_allocate(std::size_t bytes) { return checked_malloc(bytes); }
void pool_deallocate(void* p, std::size_t) { std::free(p); }
Pool::Stats pool_stats() { return {}; }

#else

namespace {

// Never destroyed: a chunk may outlive the thread that carved it (a store
// built on one thread and dropped on another), so its slab must too. The
// store is linked into programs, never loaded at run time: the initial-exec
// model reaches the variable without a call into the dynamic linker.
[[gnu::tls_model("initial-exec")]] thread_local Pool* t_pool = nullptr;

Pool& thread_pool() {
    if (!t_pool) t_pool = new Pool();
    return *t_pool;
}

}  // namespace

void* pool_allocate(std::size_t bytes) { return thread_pool().allocate(bytes); }
void pool_deallocate(void* p, std::size_t bytes) { thread_pool().deallocate(p, bytes); }
Pool::Stats pool_stats() { return thread_pool().stats(); }

#endif

}  // namespace xs::store
