#include "tests/fuzz/guest_host.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "tools/fakexen/domains.hpp"

namespace xs::fuzz {
namespace {

[[noreturn]] void die(const char* what, int code) {
    std::fprintf(stderr, "daemon_fuzz: fake host: %s: %s\n", what, std::strerror(code));
    std::abort();
}

}  // namespace

GuestHost& GuestHost::get() {
    static GuestHost host;
    return host;
}

GuestHost::GuestHost() {
    char tmpl[] = "/tmp/xstore-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl)) die("mkdtemp", errno);
    dir_ = tmpl;
    auto host = fakexen::init_host(dir_);
    if (!host) die("init", host.error().code);
    host_ = *host;
    ::setenv("XSTORE_FAKEXEN", dir_.c_str(), 1);
}

GuestHost::~GuestHost() {
    for (auto& g : guests_) g.reset();
    host_.reset();
    discard();
}

void GuestHost::discard() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

fakexen::DomainRecord GuestHost::record(int i) {
    auto info = fakexen::domain_info(*host_, domid(i));
    if (!info) return fakexen::DomainRecord{};
    return info->record;
}

bool GuestHost::alive(int i) { return record(i).state == fakexen::DomainState::kRunning; }

bool GuestHost::bound(int i) {
    std::uint32_t port = record(i).store_port;
    auto lock = host_->lock();
    const fakexen::PortRecord& p = host_->port(port);
    return p.state == fakexen::PortState::kInterdomain && p.remote_domid == 0;
}

void GuestHost::destroy(int i, bool stop_at_dying) {
    if (i != kDom0 && alive(i)) (void)fakexen::destroy_domain(*host_, domid(i), stop_at_dying);
}

void GuestHost::shutdown(int i, std::uint32_t reason) {
    if (i != kDom0 && alive(i)) (void)fakexen::shutdown_domain(*host_, domid(i), reason);
}

// A domain that died in the last input is created again (a new page, a new
// unique id: a reused domid, as the daemon must expect).
void GuestHost::revive(int i) {
    guests_[i].reset();
    if (record(i).state != fakexen::DomainState::kNone) (void)fakexen::destroy_domain(*host_, domid(i));
    auto created = fakexen::create_domain(*host_, domid(i));
    if (!created) die("create domain", created.error().code);
    auto g = fakexen::Guest::attach(host_, domid(i));
    if (!g) die("attach", g.error().code);
    guests_[i] = *g;
}

void GuestHost::prepare() {
    for (int i = 0; i < kGuests; ++i)
        if (!guests_[i] || !alive(i)) revive(i);
    if (!guests_[kDom0]) {
        auto g = fakexen::Guest::attach(host_, 0);
        if (!g) die("attach dom0", g.error().code);
        guests_[kDom0] = *g;
    }
    for (auto& g : guests_) {
        std::memset(&g->page(), 0, sizeof(ring::Interface));
        g->drain();
    }
}

std::string GuestHost::xsd_kva() const { return host_->xsd_kva_path(); }
std::string GuestHost::xsd_port() const { return host_->xsd_port_path(); }

}  // namespace xs::fuzz
