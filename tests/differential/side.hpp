// One side of a differential run: a daemon (xstored, or Xen's C xenstored
// in the harness's namespace) serving its own fake-Xen host, and the
// connections the steps name: dom0 sockets, dom0's ring and guests' rings
// (through the fake-Xen guest library, in-process). Steps run one at a
// time: a request is sent, its reply awaited, then every watching
// connection is synchronised (a GET_DOMAIN_PATH round trip) and its watch
// events taken, so a run is deterministic.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/differential/outcome.hpp"
#include "tests/differential/step.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/tempdir.hpp"
#include "tools/client/xs_client.hpp"
#include "tools/fakexen/guest.hpp"
#include "tools/fakexen/host.hpp"

namespace xs::diff {

// Where the programs are (the driver's options, from meson's environment).
struct Programs {
    std::string xstored;         // xstored binary
    std::string c_daemon;        // Xen's C xenstored 4.17
    std::string fakexen_cli;     // xstore-fakexen
    std::string fakexen_libdir;  // the drop-in Xen libraries
    std::vector<std::string> xstored_args;  // extra options for xstored
    std::chrono::milliseconds reply_wait{5000};  // patience for one reply
};

// The side could not be started: `cannot` when this machine cannot run it
// at all (no private mount namespace), else it should have worked.
struct StartError {
    bool cannot = false;
    std::string why;
};

class Side {
public:
    enum class Kind { Xstored, C };

    Side(Kind kind, const Programs& programs);
    ~Side();
    Side(const Side&) = delete;
    Side& operator=(const Side&) = delete;

    // Start the host and the daemon; an error when it did not come up.
    std::optional<StartError> start();
    Kind kind() const { return kind_; }
    const char* name() const { return kind_ == Kind::Xstored ? "xstored" : "C xenstored"; }

    // Run one step: its reply and the requesting connection's events
    // before it. Events after it: collect().
    Outcome run(const Step& step);
    // Synchronise every watching connection and take its events.
    std::map<ConnRef, Events> collect();

    // A transaction handle's id on this side (nullopt: never bound here).
    std::optional<std::uint32_t> handle(std::uint32_t h) const;
    // Forget a handle (its transaction was undone here): later steps naming
    // it send the same unbound id to both daemons.
    void unbind(std::uint32_t h) { handles_.erase(h); }
    // Whether the connection can carry a request now (live, introduced).
    bool live(const ConnRef& c);

    // Still running? And what went wrong with it (died, sanitizer reports).
    bool daemon_alive();
    std::vector<std::string> stop();
    std::string log_tail() const;

private:
    struct Conn {
        std::unique_ptr<client::Client> client;
        std::shared_ptr<fakexen::Guest> guest;  // rings
        bool ignored = false;                   // the daemon stopped serving this ring
        bool watching = false;                  // it sent a WATCH: collect() syncs it
    };

    Reply request(const Step& s, Events& before);
    Reply oversize(const Step& s);
    Reply host_step(const Step& s);
    Reply open(const ConnRef& c);
    Conn* conn(const ConnRef& c);
    std::string expand(const Payload& p);
    std::uint32_t tx_id(const TxRef& t) const;
    void bind(const Step& s, const Reply& r);
    bool introduced(DomId d);
    void settle();
    Reply wait_reply(client::Client& c, std::uint32_t req, Events& before);

    Kind kind_;
    Programs programs_;
    std::unique_ptr<testing::TempDir> dir_;
    std::shared_ptr<fakexen::Host> host_;
    std::unique_ptr<testing::Daemon> daemon_;
    std::unique_ptr<client::Client> ctl_;  // the driver's own socket: settling, introduction checks
    std::map<ConnRef, Conn> conns_;
    std::map<std::uint32_t, std::uint32_t> handles_;
    std::map<DomId, bool> introduced_;  // IS_DOMAIN_INTRODUCED answers, until a step may change them
};

}  // namespace xs::diff
