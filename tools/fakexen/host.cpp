#include "tools/fakexen/host.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "tools/fakexen/wakeup.hpp"

namespace xs::fakexen {

namespace {

Result<> init_robust_mutex(pthread_mutex_t* m) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    int rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    if (rc != 0) return fail(rc);
    return {};
}

std::uint64_t random_id() {
    std::uint64_t id = 0;
    if (::getrandom(&id, sizeof id, 0) != static_cast<ssize_t>(sizeof id)) {
        id = static_cast<std::uint64_t>(::getpid()) * 0x9E3779B97F4A7C15ull ^
             static_cast<std::uint64_t>(::time(nullptr));
    }
    return id;
}

}  // namespace

Host::~Host() { ::munmap(base_, kHostFileSize); }

Result<char*> Host::map_host_file(const std::string& path, bool create) {
    int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
    int fd = ::open(path.c_str(), flags, 0666);
    if (fd < 0) return fail(errno);
    if (create && ::ftruncate(fd, static_cast<off_t>(kHostFileSize)) != 0) {
        int e = errno;
        ::close(fd);
        return fail(e);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) != kHostFileSize) {
        ::close(fd);
        return fail(EINVAL);  // not a host file of this layout
    }
    void* p = ::mmap(nullptr, kHostFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    ::close(fd);
    if (p == MAP_FAILED) return fail(e);
    return static_cast<char*>(p);
}

Result<std::shared_ptr<Host>> Host::create(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return fail(errno);
    std::string rings = dir + "/" + kRingsDir;
    if (::mkdir(rings.c_str(), 0755) != 0 && errno != EEXIST) return fail(errno);
    auto base = map_host_file(dir + "/" + kHostFile, true);
    if (!base) return fail(base.error());
    std::shared_ptr<Host> host(new Host(dir, *base));
    HostHeader& h = host->header();
    h.version = kLayoutVersion;
    h.host_id = random_id();
    if (auto r = init_robust_mutex(&h.lock); !r) return fail(r.error());
    // The magic goes in last: a half-initialised file is not a host.
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    return host;
}

Result<std::shared_ptr<Host>> Host::open(const std::string& dir) {
    auto base = map_host_file(dir + "/" + kHostFile, false);
    if (!base) return fail(base.error());
    std::shared_ptr<Host> host(new Host(dir, *base));
    const HostHeader& h = host->header();
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.version != kLayoutVersion)
        return fail(EINVAL);
    return host;
}

Result<std::shared_ptr<Host>> Host::from_env() {
    static std::mutex m;
    static std::shared_ptr<Host> cached;
    std::lock_guard g(m);
    if (cached) return cached;
    const char* dir = std::getenv(kEnvHost);
    if (dir == nullptr || *dir == '\0') return fail(ENOENT);  // as if there were no Xen
    auto h = open(dir);
    if (!h) return h;
    cached = *h;
    return cached;
}

Result<DomId> Host::self_domid_from_env() {
    const char* s = std::getenv(kEnvDomid);
    if (s == nullptr || *s == '\0') return DomId{0};
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v >= kMaxDomains) return fail(EINVAL);
    return static_cast<DomId>(v);
}

std::string Host::ring_path(DomId domid) const {
    if (domid == 0) return xsd_kva_path();
    return dir_ + "/" + kRingsDir + "/" + std::to_string(domid);
}

std::string Host::xsd_kva_path() const { return dir_ + "/" + kXsdKvaFile; }
std::string Host::xsd_port_path() const { return dir_ + "/" + kXsdPortFile; }

DomainRecord& Host::domain(DomId domid) {
    return reinterpret_cast<DomainRecord*>(base_ + kDomainsOffset)[domid];
}

PortRecord& Host::port(std::uint32_t port) {
    return reinterpret_cast<PortRecord*>(base_ + kPortsOffset)[port];
}

HandleRecord& Host::handle(std::uint32_t slot) {
    return reinterpret_cast<HandleRecord*>(base_ + kHandlesOffset)[slot];
}

namespace {

thread_local bool t_idle_outside_lock = false;
thread_local int t_locks_held = 0;  // of every host (a thread may hold two)
struct DeferredRing {
    Host* host;
    HandleRef ref;
};
thread_local std::vector<DeferredRing> t_deferred_rings;

// Every kick passes here: the list keeps its capacity (ring() takes no lock,
// so nothing is added while it runs).
void ring_deferred() {
    for (const DeferredRing& r : t_deferred_rings) wakeup::ring(*r.host, r.ref);
    t_deferred_rings.clear();
}

// A spinning CPU's hint to its sibling threads and the hypervisor.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Xen's event-channel and domain locks are spinlocks held for a few
// instructions by code that is never descheduled. This lock is held about
// as briefly, but a waiter that sleeps on it is woken by the holder's CPU,
// which on a virtual machine costs tens of microseconds per critical
// section: spin a little first, as a hypervisor's waiter would.
int lock_spinning(pthread_mutex_t* m) {
    constexpr auto kSpin = std::chrono::microseconds(20);
    auto until = std::chrono::steady_clock::now() + kSpin;
    for (int round = 0;; ++round) {
        int rc = pthread_mutex_trylock(m);
        if (rc != EBUSY) return rc;
        if ((round & 15) == 15 && std::chrono::steady_clock::now() >= until) break;
        for (int i = 0; i < 32; ++i) cpu_relax();
    }
    return pthread_mutex_lock(m);
}

void set_policy(int policy) {
    sched_param p{};
    (void)pthread_setschedparam(pthread_self(), policy, &p);
}

// An idle thread entering a critical section: real-time when the process
// may (nothing in dom0 preempts a hypercall; a holder preempted by the
// toolstack on its CPU kept the daemon waiting for the lock), else normal.
void enter_section_policy() {
    thread_local bool realtime_refused = false;
    if (!realtime_refused) {
        sched_param p{};
        p.sched_priority = 1;
        if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &p) == 0) return;
        realtime_refused = true;
    }
    set_policy(SCHED_OTHER);
}

}  // namespace

void Host::idle_outside_lock(bool on) { t_idle_outside_lock = on; }
bool Host::idle_outside_lock() { return t_idle_outside_lock; }

void Host::ring_after_unlock(HandleRef ref) {
    if (t_locks_held == 0) return wakeup::ring(*this, ref);
    t_deferred_rings.push_back({this, ref});
}

Host::Lock::Lock(Host& h) : m_(&h.header().lock) {
    if (t_locks_held++ == 0 && t_idle_outside_lock) enter_section_policy();
    int rc = lock_spinning(m_);
    // The previous holder died inside its critical section. Every critical
    // section leaves the tables usable at each step, so carry on.
    if (rc == EOWNERDEAD) pthread_mutex_consistent(m_);
}

Host::Lock::~Lock() {
    pthread_mutex_unlock(m_);
    if (--t_locks_held > 0) return;
    // Still at the section's priority: an idle thread preempted before its
    // doorbells would leave their listeners asleep.
    ring_deferred();
    if (t_idle_outside_lock) set_policy(SCHED_IDLE);
}

Result<> write_zero_file(const std::string& path, std::size_t size) {
    std::string tmp = path + ".new." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return fail(errno);
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        int e = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return fail(e);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return fail(e);
    }
    return {};
}

}  // namespace xs::fakexen
