#include "bench/ring_stream.hpp"

#include <cstring>

#include "transport/ring.hpp"

namespace xs::bench {

namespace {

class RingStream final : public Stream {
public:
    explicit RingStream(std::shared_ptr<fakexen::Guest> g) : g_(std::move(g)) {}

    int poll_fd() const override { return g_->event_fd(); }

    // Consume the kicks before looking at the ring: a kick that comes after
    // this read then always finds the fd readable again (no lost wake-up).
    long read_some(char* buf, std::size_t cap) override {
        g_->drain();
        if (broken()) return -1;
        auto n = g_->read_raw(buf, cap);
        return n ? static_cast<long>(*n) : -1;
    }

    long write_some(const char* buf, std::size_t len) override {
        if (broken()) return -1;
        auto n = g_->write_raw(std::string_view(buf, len));
        return n ? static_cast<long>(*n) : -1;
    }

    bool write_ready_is_readable() const override { return true; }

private:
    // The daemon gave up on this ring and said why in the error field.
    bool broken() const { return __atomic_load_n(&g_->page().error, __ATOMIC_ACQUIRE) != ring::kErrorNone; }

    std::shared_ptr<fakexen::Guest> g_;
};

}  // namespace

std::unique_ptr<Stream> ring_stream(std::shared_ptr<fakexen::Guest> guest) {
    return std::make_unique<RingStream>(std::move(guest));
}

Checked<std::unique_ptr<Stream>> RingTransport::open() {
    if (next_ >= domids_.size()) return failed("no guest left to attach (" + std::to_string(domids_.size()) + " given)");
    if (!host_) {
        auto h = fakexen::Host::open(host_dir_);
        if (!h) return failed("open fake-Xen host " + host_dir_ + ": " + std::strerror(h.error().code));
        host_ = std::move(*h);
    }
    DomId d = domids_[next_++];
    auto g = fakexen::Guest::attach(host_, d);
    if (!g)
        return failed("attach to the ring of domain " + std::to_string(d) + " on " + host_dir_ + ": " +
                      std::strerror(g.error().code));
    return ring_stream(std::move(*g));
}

}  // namespace xs::bench
