// The ring transport: measured streams that are fake guests' xenstore
// rings (the fake-Xen guest library, tools/fakexen/guest.hpp). Each stream
// plays one guest's kernel: reads drain its response ring, writes fill its
// request ring and kick the daemon, and the poll fd is the guest's event
// channel, which the daemon kicks whenever it has produced replies or
// consumed requests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bench/stream.hpp"
#include "base/domid.hpp"
#include "tools/fakexen/guest.hpp"

namespace xs::bench {

// A Stream over an attached guest (which it keeps alive).
std::unique_ptr<Stream> ring_stream(std::shared_ptr<fakexen::Guest> guest);

// Opens the guests `domids` of the fake host in `host_dir`, one per open(),
// in order. The domains must exist and be introduced to the daemon.
class RingTransport final : public Transport {
public:
    RingTransport(std::string host_dir, std::vector<DomId> domids)
        : host_dir_(std::move(host_dir)), domids_(std::move(domids)) {}
    std::string name() const override { return "ring"; }
    Checked<std::unique_ptr<Stream>> open() override;

private:
    std::string host_dir_;
    std::shared_ptr<fakexen::Host> host_;  // mapped once for every guest (its tables are 19 MB)
    std::vector<DomId> domids_;
    std::size_t next_ = 0;
};

}  // namespace xs::bench
