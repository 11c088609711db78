// A fake host: the directory named by XSTORE_FAKEXEN, holding the shared
// host file (domain, port and handle tables), the ring page files and dom0's
// xsd_kva / xsd_port. Every process that plays a part (daemon through the
// fake libraries, guests, the CLI) maps the same host file.
#pragma once

#include <memory>
#include <string>

#include "base/domid.hpp"
#include "base/result.hpp"
#include "tools/fakexen/layout.hpp"

namespace xs::fakexen {

// Environment variables read by the drop-in libraries.
inline constexpr const char* kEnvHost = "XSTORE_FAKEXEN";
inline constexpr const char* kEnvDomid = "XSTORE_FAKEXEN_DOMID";

class Host {
public:
    ~Host();
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;

    // Create the host file of a new fake host in `dir` (created if missing;
    // EEXIST if it already holds a host). The tables start empty: use
    // init_host() (domains.hpp) to get a host with dom0.
    static Result<std::shared_ptr<Host>> create(const std::string& dir);
    // Open an existing fake host.
    static Result<std::shared_ptr<Host>> open(const std::string& dir);
    // The host named by $XSTORE_FAKEXEN, opened once per process and shared.
    static Result<std::shared_ptr<Host>> from_env();
    // $XSTORE_FAKEXEN_DOMID, default 0; nullopt-like error when malformed.
    static Result<DomId> self_domid_from_env();

    const std::string& dir() const { return dir_; }
    std::string ring_path(DomId domid) const;  // the domain's xenstore page file
    std::string xsd_kva_path() const;
    std::string xsd_port_path() const;

    HostHeader& header() { return *reinterpret_cast<HostHeader*>(base_); }
    DomainRecord& domain(DomId domid);
    PortRecord& port(std::uint32_t port);
    HandleRecord& handle(std::uint32_t slot);

    // Holds the host-wide lock. The lock is a robust mutex: if its holder
    // died, the next locker takes it over.
    class Lock {
    public:
        explicit Lock(Host& h);
        ~Lock();
        Lock(const Lock&) = delete;
        Lock& operator=(const Lock&) = delete;

    private:
        pthread_mutex_t* m_;
    };

    // For a load generator whose guest threads run under SCHED_IDLE, as
    // guests on CPUs of their own: the host's critical sections stand for
    // the hypervisor's, which no guest's scheduling can stall, but a guest
    // thread starved inside one would stall every other user of the host
    // (the daemon included) behind the lock. A thread that calls this with
    // true runs each critical section under SCHED_OTHER and goes back to
    // SCHED_IDLE after it. Per thread; threads it starts must call it too.
    static void idle_outside_lock(bool on);
    static bool idle_outside_lock();
    Lock lock() { return Lock(*this); }
    // The doorbell of handle `ref`, sent once this thread releases the
    // outermost host lock it holds (at once if it holds none). A doorbell is
    // a system call that wakes the listener, often on the other CPU: sent
    // inside the critical section it kept the host-wide lock held across
    // that wake-up while every other user of the host waited, the daemon's
    // pending() and unmask() included. A doorbell that arrives after its
    // port was taken is harmless: the listener finds no port and goes on.
    void ring_after_unlock(HandleRef ref);

private:
    Host(std::string dir, char* base) : dir_(std::move(dir)), base_(base) {}
    static Result<char*> map_host_file(const std::string& path, bool create);

    std::string dir_;
    char* base_;
};

// Write `size` zero bytes to a new file at `path`, replacing any old file
// atomically (existing mappings of the old file keep the old page).
Result<> write_zero_file(const std::string& path, std::size_t size);

}  // namespace xs::fakexen
