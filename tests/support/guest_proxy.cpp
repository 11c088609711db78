#include "tests/support/guest_proxy.hpp"

#include <signal.h>

#include <stdexcept>

#include "tests/support/env.hpp"
#include "tests/support/guest_harness.hpp"
#include "tools/fakexen/host.hpp"

namespace xs::testing {

RingProxy::RingProxy(const std::string& host_dir, DomId d)
    : socket_(host_dir + "/guest" + std::to_string(d) + ".sock") {
    SpawnOptions spawn;
    spawn.argv = {fakexen_cli(), "--host", host_dir, "proxy", std::to_string(d), "--listen", socket_};
    spawn.env = {{fakexen::kEnvHost, host_dir}};
    proc_.emplace(Process::spawn(spawn));
    // It says so once clients can connect.
    for (;;) {
        auto line = proc_->read_line(scaled(std::chrono::milliseconds(10000)));
        if (!line) {
            proc_->kill_now();
            throw std::runtime_error("xstore-fakexen proxy " + std::to_string(d) + " did not start: " + output());
        }
        if (line->starts_with("listening on")) return;
    }
}

RingProxy::~RingProxy() { stop(); }

int RingProxy::stop() {
    if (!proc_->exited() && proc_->running()) {
        proc_->send_signal(SIGTERM);
        if (!proc_->wait_exit(scaled(std::chrono::milliseconds(5000)))) {
            proc_->kill_now();
            return -1;
        }
    }
    return proc_->exit_code();
}

std::string RingProxy::output() {
    proc_->pump(std::chrono::milliseconds(0));
    return proc_->out() + proc_->err();
}

}  // namespace xs::testing
