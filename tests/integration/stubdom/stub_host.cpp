#include "tests/integration/stubdom/stub_host.hpp"

#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/env.hpp"
#include "tests/support/guest_harness.hpp"
#include "tests/support/protocol.hpp"
#include "tools/fakexen/domains.hpp"

namespace xs::testing {

namespace {

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

}  // namespace

std::string stubdom_bin() { return env_or_empty("XSTORED_STUBDOM_BIN"); }
std::string stubdom_variant_bin() { return env_or_empty("XSTORED_STUBDOM_VARIANT_BIN"); }

StubHost::StubHost(const std::vector<DomId>& dom0less)
    : dir_("xstored-stubdom"), log_file_(dir_.file("stubdom.log")) {
    auto host = fakexen::init_host(dir_.file("host"));
    if (!host) throw std::runtime_error("cannot create a fake host: errno " + std::to_string(host.error().code));
    host_ = *host;
    for (DomId d : dom0less) {
        auto info = fakexen::create_domain(*host_, d);
        REQUIRE(info.has_value());
        REQUIRE(fakexen::publish_ring_port(*host_, d, info->record.store_port).has_value());
    }
    SpawnOptions spawn;
    spawn.argv = {stubdom_bin(), "-N", "--xsd-kva", host_dir() + "/" + fakexen::kXsdKvaFile, "--xsd-port",
                  host_dir() + "/" + fakexen::kXsdPortFile};
    spawn.env = dom0_env();
    spawn.err = Redirect::file(log_file_);
    spawn.out = Redirect::file(log_file_ + ".out");
    daemon_.emplace(Process::spawn(spawn));
    // dom0's end of its ring is the proxy's; the daemon answers through it
    // once it has connected dom0 and written /tool/xenstored/domid.
    proxy_ = std::make_unique<RingProxy>(host_dir(), 0);
    auto c = dom0();
    bool up = eventually([&] { return c->read("/tool/xenstored/domid").has_value(); }, std::chrono::seconds(20));
    if (!up) throw std::runtime_error("xstored-stubdom did not come up: " + log());
}

StubHost::~StubHost() {
    proxy_.reset();
    if (daemon_->running()) {
        // An orderly exit, so that a sanitizer build checks for leaks.
        daemon_->send_signal(SIGTERM);
        CHECK(daemon_->wait_exit(scaled(std::chrono::seconds(10))));
        CHECK_MESSAGE(daemon_->exit_code() == 0, "xstored-stubdom's exit: " << log());
    } else {
        FAIL_CHECK("xstored-stubdom died during the test: " << log());
    }
    daemon_->kill_now();
    std::string text = log();
    for (const char* m : {"AddressSanitizer", "LeakSanitizer", "runtime error:"})
        CHECK_MESSAGE(text.find(m) == std::string::npos, "sanitizer report: " << text);
}

std::string StubHost::log() const {
    std::ifstream in(log_file_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::unique_ptr<client::Client> StubHost::dom0() {
    std::string err;
    auto ch = client::connect_unix(proxy_->socket_path(), err);
    if (!ch) throw std::runtime_error("cannot connect to dom0's proxy: " + err);
    return std::make_unique<client::Client>(std::move(ch));
}

EnvVars StubHost::dom0_env() const {
    std::string libs = fakexen_libdir();
    if (const char* old = std::getenv("LD_LIBRARY_PATH"); old && *old) libs += std::string(":") + old;
    EnvVars env = {{fakexen::kEnvHost, host_dir()}, {"LD_LIBRARY_PATH", libs}};
    if (proxy_) env.push_back({"XENSTORED_PATH", proxy_->socket_path()});
    return env;
}

void StubHost::create(DomId d) { REQUIRE(fakexen::create_domain(*host_, d).has_value()); }

void StubHost::make_home(client::Client& dom0, DomId d) {
    std::string home = "/local/domain/" + std::to_string(d);
    REQUIRE(outcome(dom0.write(home, "")) == "OK");
    REQUIRE(outcome(dom0.set_perms(home, {"n" + std::to_string(d)})) == "OK");
}

Guest StubHost::attach(DomId d) {
    auto g = fakexen::Guest::attach(host_, d);
    REQUIRE(g.has_value());
    return Guest{*g, std::make_unique<client::Client>(fakexen::ring_channel(*g))};
}

}  // namespace xs::testing
