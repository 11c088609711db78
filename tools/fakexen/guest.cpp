#include "tools/fakexen/guest.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>

#include <cerrno>

#include "tools/fakexen/domains.hpp"
#include "tools/fakexen/grant.hpp"
#include "transport/ring.hpp"

namespace xs::fakexen {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds until(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(0);
}

}  // namespace

Result<std::shared_ptr<Guest>> Guest::attach(const std::string& host_dir, DomId domid) {
    auto host = Host::open(host_dir);
    if (!host) return fail(host.error());
    return attach(*host, domid);
}

Result<std::shared_ptr<Guest>> Guest::attach(std::shared_ptr<Host> host, DomId domid) {
    auto info = domain_info(*host, domid);
    if (!info) return fail(info.error());
    if (info->record.state == DomainState::kDying) return fail(ESRCH);
    auto events = EventHandle::open(host, domid);
    if (!events) return fail(events.error());
    if (auto r = (*events)->attach(info->record.store_port); !r) return fail(r.error());
    // wait() polls; pending() must never block.
    int fd = (*events)->fd();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    auto page = map_page_file(host->ring_path(domid), PROT_READ | PROT_WRITE);
    if (!page) return fail(page.error());
    return std::shared_ptr<Guest>(new Guest(std::move(host), domid, info->record.store_port,
                                            static_cast<ring::Interface*>(*page),
                                            std::move(*events)));
}

Guest::~Guest() { ::munmap(page_, kPageSize); }

Result<> Guest::notify() { return events_->notify(port_); }

void Guest::drain() {
    for (;;) {
        auto port = events_->pending();
        if (!port) return;
        (void)events_->unmask(*port);
    }
}

bool Guest::wait(std::chrono::milliseconds timeout) {
    pollfd p{events_->fd(), POLLIN, 0};
    int r;
    do {
        r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (r < 0 && errno == EINTR);
    if (r <= 0) return false;
    drain();
    return true;
}

Result<std::size_t> Guest::write_raw(std::string_view bytes) {
    auto n = ring::write(*page_, ring::Direction::kRequest, bytes.data(), bytes.size());
    if (n && *n > 0) (void)notify();
    return n;
}

Result<std::size_t> Guest::read_raw(char* dst, std::size_t cap) {
    auto n = ring::read(*page_, ring::Direction::kResponse, dst, cap);
    if (n && *n > 0) (void)notify();
    return n;
}

Result<> Guest::reconnect(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    __atomic_store_n(&page_->connection, ring::kReconnect, __ATOMIC_RELEASE);
    if (auto r = notify(); !r) return r;
    while (__atomic_load_n(&page_->connection, __ATOMIC_ACQUIRE) != ring::kConnected) {
        if (until(deadline).count() == 0) return fail(ETIMEDOUT);
        wait(until(deadline));
    }
    return {};
}

namespace {

class RingChannel final : public client::Channel {
public:
    explicit RingChannel(std::shared_ptr<Guest> g) : g_(std::move(g)) {}

    bool write_all(std::string_view bytes) override {
        auto deadline = Clock::now() + kRingWriteTimeout;
        while (!bytes.empty()) {
            if (broken()) return false;
            auto n = g_->write_raw(bytes);
            if (!n) return false;
            bytes.remove_prefix(*n);
            if (bytes.empty()) break;
            if (*n == 0 && until(deadline).count() == 0) return false;
            if (*n == 0) g_->wait(until(deadline));
        }
        return true;
    }

    long read_some(char* buf, std::size_t cap, std::chrono::milliseconds timeout) override {
        auto deadline = Clock::now() + timeout;
        for (;;) {
            auto n = g_->read_raw(buf, cap);
            if (!n) return -1;
            if (*n > 0) return static_cast<long>(*n);
            if (broken()) return -1;
            if (until(deadline).count() == 0) return 0;
            g_->wait(until(deadline));
        }
    }

private:
    // The daemon stopped talking to us and said why in the error field.
    bool broken() const {
        return __atomic_load_n(&g_->page().error, __ATOMIC_ACQUIRE) != ring::kErrorNone;
    }

    std::shared_ptr<Guest> g_;
};

}  // namespace

std::unique_ptr<client::Channel> ring_channel(std::shared_ptr<Guest> guest) {
    return std::make_unique<RingChannel>(std::move(guest));
}

}  // namespace xs::fakexen
