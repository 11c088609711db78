// A fake Xen host served by xstored-stubdom (docs/stubdom.md): the stub
// daemon runs as its own process on the fake-Xen harness with no socket,
// dom0's tools reach it through dom0's ring (xstore-fakexen proxy 0, as a
// real dom0 reaches a stub domain through its kernel's xenbus device), and
// guests through theirs.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/domid.hpp"
#include "tests/support/guest_proxy.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"
#include "tools/client/xs_client.hpp"
#include "tools/fakexen/guest.hpp"
#include "tools/fakexen/host.hpp"

namespace xs::testing {

// $XSTORED_STUBDOM_BIN and $XSTORED_STUBDOM_VARIANT_BIN (a build tagged
// "variant", to update to).
std::string stubdom_bin();
std::string stubdom_variant_bin();

struct Guest {
    std::shared_ptr<fakexen::Guest> ring;
    std::unique_ptr<client::Client> client;
    client::Client* operator->() { return client.get(); }
};

class StubHost {
public:
    // A fake host with dom0 and the `dom0less` domains (their ring pages
    // name their event channels), and the stub daemon started on it.
    explicit StubHost(const std::vector<DomId>& dom0less);
    ~StubHost();  // stops the daemon; CHECKs it left no sanitizer report

    fakexen::Host& host() { return *host_; }
    const std::string& host_dir() const { return host_->dir(); }
    // The test's directory: the fake host and the daemon's log.
    const std::string& test_dir() const { return dir_.path(); }
    pid_t pid() const { return daemon_->pid(); }
    bool alive() { return daemon_->running(); }
    std::string log() const;

    // A new connection of dom0's tools (through dom0's ring).
    std::unique_ptr<client::Client> dom0();
    // The environment Debian's clients need to act as dom0.
    EnvVars dom0_env() const;
    // A domain created after start (not dom0less), for INTRODUCE.
    void create(DomId d);
    // dom0 gives the domain its home: /local/domain/<d>, owned by it.
    void make_home(client::Client& dom0, DomId d);
    // Attach to the domain's ring as its kernel.
    Guest attach(DomId d);

private:
    TempDir dir_;
    std::shared_ptr<fakexen::Host> host_;
    std::string log_file_;
    std::optional<Process> daemon_;
    std::unique_ptr<RingProxy> proxy_;
};

}  // namespace xs::testing
