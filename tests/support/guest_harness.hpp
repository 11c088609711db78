// The guest-domain side of the integration tests: a fake Xen host
// (docs/fakexen.md) in a temporary directory, a daemon serving it through
// the drop-in libraries, and helpers that play the toolstack (create,
// introduce, shut down and destroy domains) and the guests (protocol
// clients over their rings, raw ring access for hostile-guest tests).
//
// At the end of every test the harness checks what every guest test must
// leave true: the daemon answers dom0 and a freshly introduced guest, the
// node counts it accounts per domain equal a real count of the tree, and
// CONTROL check answers OK; then the daemon exits cleanly with no
// sanitizer report.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/domid.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/env.hpp"
#include "tests/support/protocol.hpp"
#include "tests/support/tempdir.hpp"
#include "tools/fakexen/guest.hpp"
#include "tools/fakexen/host.hpp"

namespace xs::testing {

// $XSTORE_FAKEXEN_LIBDIR: the directory of the drop-in Xen libraries the
// daemon must load (meson passes it; "" when unset).
std::string fakexen_libdir();
// $XSTORE_FAKEXEN_CLI: the xstore-fakexen program (default: from PATH).
std::string fakexen_cli();

// What the toolstack creates for a guest before introducing it.
enum class Home {
    None,       // nothing: the guest owns nothing and may write nowhere
    Toolstack,  // /local/domain/<id> (owner dom0, readable by the guest),
                // <home>/domid, and <home>/data owned by the guest
    Guest,      // the guest owns its whole home (as test-xenstore needs)
};

// One guest's kernel side: its ring attachment and a protocol client on it.
struct GuestConn {
    DomId domid = 0;
    std::shared_ptr<fakexen::Guest> ring;
    std::unique_ptr<client::Client> client;

    client::Client& operator*() { return *client; }
    client::Client* operator->() { return client.get(); }
    ring::Interface& page() { return ring->page(); }
    // Drop the attachment (needed before the domid is attached again).
    void reset() {
        client.reset();
        ring.reset();
    }
};

class GuestHarness {
public:
    // The domid of the guest the end-of-test check introduces.
    static constexpr DomId kWitness = 32700;

    // A fake host with dom0, and a daemon serving it (dom0's ring from the
    // host's xsd_kva/xsd_port, tools on its socket) with `opts.args` added.
    explicit GuestHarness(DaemonOptions opts = {});
    ~GuestHarness();
    GuestHarness(const GuestHarness&) = delete;
    GuestHarness& operator=(const GuestHarness&) = delete;

    Daemon& daemon() { return *daemon_; }
    // The privileged socket connection made at start (the toolstack).
    client::Client& dom0() { return *dom0_; }
    std::unique_ptr<client::Client> connect() { return daemon_->connect(); }
    fakexen::Host& host() { return *host_; }
    std::shared_ptr<fakexen::Host> shared_host() { return host_; }
    const std::string& host_dir() const { return host_->dir(); }

    // ---- the toolstack ----
    // A new domain in the fake hypervisor (REQUIREs success).
    void create(DomId d, std::uint32_t flags = 0);
    // INTRODUCE <d> <gfn> <port> from dom0's socket, with the domain's own
    // xenstore port unless `port` is given.
    Result<> introduce(DomId d, std::optional<std::uint32_t> port = std::nullopt);
    void make_home(DomId d, Home how);
    // Attach to the domain's ring as its kernel and open a client on it.
    GuestConn attach(DomId d);
    // create + make_home + introduce + attach.
    GuestConn add_guest(DomId d, Home how = Home::Toolstack);
    void shutdown(DomId d, std::uint32_t reason);
    void destroy(DomId d, bool stop_at_dying = false);
    // The domain's xenstore event channel port (the guest's end).
    std::uint32_t store_port(DomId d);
    // The domain's hypervisor state (kNone when unknown).
    fakexen::DomainState state(DomId d);

    // ---- accounting ----
    // Nodes per owner, counted by walking the whole tree (and the special
    // nodes) as dom0 with DIRECTORY(_PART) and GET_PERMS.
    std::map<DomId, std::uint64_t> owned_nodes();
    // A row of CONTROL quota <d> ("nodes", "memory", ...); nullopt when the
    // daemon has no record of the domain (ENOENT) or the row is missing.
    std::optional<std::uint64_t> accounted(DomId d, std::string_view item = "nodes");
    // CHECKs that every domain's accounted node count equals the walk's
    // (domains the harness created included) and that CONTROL check says OK.
    void check_accounting();
    // CHECKs that dom0 (socket and a new connection) is answered and that a
    // fresh guest can be introduced and served.
    void check_service();

private:
    std::unique_ptr<TempDir> dir_;
    std::shared_ptr<fakexen::Host> host_;
    std::unique_ptr<Daemon> daemon_;
    std::unique_ptr<client::Client> dom0_;
    std::vector<DomId> created_;
};

// Poll `pred` every few milliseconds until it holds or `limit` passes
// (scaled for sanitizer builds); its last value.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds limit = std::chrono::milliseconds(5000));

// The next watch event within `wait` (scaled), parsed; nullopt on timeout.
std::optional<Event> wait_event(client::Client& c,
                                std::chrono::milliseconds wait = std::chrono::milliseconds(5000));

}  // namespace xs::testing

// Failed checks on accounted() values print the value (or "nullopt").
namespace doctest {
template <class T>
struct StringMaker<std::optional<T>> {
    static String convert(const std::optional<T>& v) { return v ? toString(*v) : String("nullopt"); }
};
}  // namespace doctest
