// The drop-in C libraries, called through Xen's own headers exactly as a
// daemon calls them, on a fake host named by XSTORE_FAKEXEN.
#include <doctest/doctest.h>

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

#define XC_WANT_COMPAT_MAP_FOREIGN_API 1  // declares xc_map_foreign_range
extern "C" {
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
}

#include "temp_host.hpp"
#include "tools/fakexen/grant.hpp"
#include "transport/ring_layout.hpp"

using namespace xs::fakexen;
using fakexen_test::kPatienceMs;
using fakexen_test::readable;
using fakexen_test::TempHost;

namespace {

// One host for the whole program: the libraries open $XSTORE_FAKEXEN once.
TempHost& host() {
    static TempHost t;
    static bool env = (::setenv(kEnvHost, t.dir.c_str(), 1), true);
    (void)env;
    return t;
}

void act_as(xs::DomId domid) { ::setenv(kEnvDomid, std::to_string(domid).c_str(), 1); }

// A domain id no other test case uses.
xs::DomId fresh_domain(std::uint32_t flags = 0) {
    static xs::DomId next = 100;
    create_domain(host().h(), next, flags).value();
    return next++;
}

}  // namespace

TEST_CASE("xenevtchn: a guest's unbound port, dom0's bind, notifications both ways") {
    xs::DomId g = fresh_domain();
    act_as(g);
    xenevtchn_handle* guest = xenevtchn_open(nullptr, 0);
    REQUIRE(guest != nullptr);
    act_as(0);
    xenevtchn_handle* dom0 = xenevtchn_open(nullptr, XENEVTCHN_NO_CLOEXEC);
    REQUIRE(dom0 != nullptr);

    int gport = xenevtchn_bind_unbound_port(guest, 0);
    REQUIRE(gport > 0);
    int local = xenevtchn_bind_interdomain(dom0, g, static_cast<evtchn_port_t>(gport));
    REQUIRE(local > 0);
    CHECK(xenevtchn_pending(dom0) == local);  // the bind's own event
    CHECK(xenevtchn_unmask(dom0, static_cast<evtchn_port_t>(local)) == 0);

    CHECK(xenevtchn_notify(dom0, static_cast<evtchn_port_t>(local)) == 0);
    CHECK(readable(xenevtchn_fd(guest), kPatienceMs));
    CHECK(xenevtchn_pending(guest) == gport);
    CHECK(xenevtchn_unmask(guest, static_cast<evtchn_port_t>(gport)) == 0);
    CHECK(xenevtchn_notify(guest, static_cast<evtchn_port_t>(gport)) == 0);
    CHECK(readable(xenevtchn_fd(dom0), kPatienceMs));
    CHECK(xenevtchn_pending(dom0) == local);

    errno = 0;
    CHECK(xenevtchn_bind_interdomain(dom0, 7777, 1) == -1);
    CHECK(errno == ESRCH);
    errno = 0;
    CHECK(xenevtchn_unbind(guest, static_cast<evtchn_port_t>(local)) == -1);
    CHECK(errno == ENOTCONN);
    CHECK(xenevtchn_unbind(dom0, static_cast<evtchn_port_t>(local)) == 0);
    CHECK(xenevtchn_close(guest) == 0);
    CHECK(xenevtchn_close(dom0) == 0);
}

TEST_CASE("xenevtchn: fdopen adopts a handle's fd, VIRQ binding, restrict") {
    xs::DomId g = fresh_domain();
    act_as(0);
    xenevtchn_handle* h = xenevtchn_open(nullptr, XENEVTCHN_NO_CLOEXEC);
    REQUIRE(h != nullptr);
    std::uint32_t gport = domain_info(host().h(), g).value().record.store_port;
    int local = xenevtchn_bind_interdomain(h, g, gport);
    REQUIRE(local > 0);
    // A child plays the process after exec: it only has the fd.
    pid_t child = fakexen_test::spawn([&] {
        xenevtchn_handle* again = xenevtchn_fdopen(nullptr, xenevtchn_fd(h), 0);
        if (again == nullptr) return 10;
        return xenevtchn_pending(again) == local ? 0 : 11;  // exits without closing
    });
    CHECK(fakexen_test::exit_status(child) == 0);

    xenevtchn_handle* r = xenevtchn_open(nullptr, 0);
    CHECK(xenevtchn_restrict(r, static_cast<domid_t>(g)) == 0);
    errno = 0;
    CHECK(xenevtchn_bind_virq(r, VIRQ_DOM_EXC) == -1);
    CHECK(errno == EACCES);
    xenevtchn_close(r);
    xenevtchn_close(h);
}

TEST_CASE("xenevtchn_open as a domain that does not exist fails") {
    act_as(4321);
    errno = 0;
    CHECK(xenevtchn_open(nullptr, 0) == nullptr);
    CHECK(errno == ESRCH);
    act_as(0);
}

TEST_CASE("xengnttab: grant ref 1 is the guest's ring page") {
    xs::DomId g = fresh_domain();
    act_as(0);
    xengnttab_handle* gt = xengnttab_open(nullptr, 0);
    REQUIRE(gt != nullptr);
    CHECK(xengnttab_set_max_grants(gt, 1) == 0);
    auto* page = static_cast<char*>(
        xengnttab_map_grant_ref(gt, g, GNTTAB_RESERVED_XENSTORE, PROT_READ | PROT_WRITE));
    REQUIRE(page != nullptr);
    void* guest_view = map_page_file(host().h().ring_path(g), PROT_READ | PROT_WRITE).value();
    std::memcpy(guest_view, "guest", 5);
    CHECK(std::memcmp(page, "guest", 5) == 0);
    std::memcpy(page + 1024, "dom0", 4);
    CHECK(std::memcmp(static_cast<char*>(guest_view) + 1024, "dom0", 4) == 0);

    errno = 0;
    CHECK(xengnttab_unmap(gt, page, 2) == -1);  // wrong count
    CHECK(errno == EINVAL);
    CHECK(xengnttab_unmap(gt, page, 1) == 0);
    errno = 0;
    CHECK(xengnttab_map_grant_ref(gt, 6543, 1, PROT_READ) == nullptr);
    CHECK(errno == EINVAL);
    CHECK(xengnttab_map_grant_ref(gt, g, 2, PROT_READ) == nullptr);
    ::munmap(guest_view, kPageSize);
    xengnttab_close(gt);
}

TEST_CASE("xengnttab: several grants in one area, and the unmap notification") {
    xs::DomId a = fresh_domain(), b = fresh_domain();
    xengnttab_handle* gt = xengnttab_open(nullptr, 0);
    std::uint32_t domids[2] = {a, b};
    std::uint32_t refs[2] = {1, 1};
    auto* two = static_cast<char*>(xengnttab_map_grant_refs(gt, 2, domids, refs, PROT_READ | PROT_WRITE));
    REQUIRE(two != nullptr);
    std::memcpy(two + 4096, "b's page", 8);
    void* bview = map_page_file(host().h().ring_path(b), PROT_READ).value();
    CHECK(std::memcmp(bview, "b's page", 8) == 0);
    CHECK(xengnttab_unmap(gt, two, 2) == 0);
    ::munmap(bview, kPageSize);

    auto* one = static_cast<char*>(xengnttab_map_grant_ref_notify(gt, a, 1, PROT_READ | PROT_WRITE, 100,
                                                                   static_cast<evtchn_port_t>(-1)));
    REQUIRE(one != nullptr);
    one[100] = 7;
    CHECK(xengnttab_unmap(gt, one, 1) == 0);
    void* aview = map_page_file(host().h().ring_path(a), PROT_READ).value();
    CHECK(static_cast<char*>(aview)[100] == 0);
    ::munmap(aview, kPageSize);
    xengnttab_close(gt);
}

TEST_CASE("xc_domain_getinfo reports states the way libxenctrl does") {
    xs::DomId run = fresh_domain(), off = fresh_domain(), crash = fresh_domain(),
              dying = fresh_domain(), gone = fresh_domain(kDomFlagXenstore);
    REQUIRE(shutdown_domain(host().h(), off, SHUTDOWN_poweroff).has_value());
    REQUIRE(shutdown_domain(host().h(), crash, SHUTDOWN_crash).has_value());
    REQUIRE(destroy_domain(host().h(), dying, true).has_value());
    act_as(0);
    xc_interface* xch = xc_interface_open(nullptr, nullptr, 0);
    REQUIRE(xch != nullptr);

    xc_dominfo_t info[8];
    REQUIRE(xc_domain_getinfo(xch, run, 5, info) == 5);
    CHECK(info[0].domid == run);
    CHECK(unsigned{info[0].running} == 1);
    CHECK(unsigned{info[1].shutdown} == 1);
    CHECK(info[1].shutdown_reason == SHUTDOWN_poweroff);
    CHECK(unsigned{info[2].crashed} == 1);
    CHECK(unsigned{info[2].shutdown} == 0);
    CHECK(unsigned{info[3].dying} == 1);
    CHECK(unsigned{info[4].xenstore} == 1);

    REQUIRE(destroy_domain(host().h(), gone).has_value());
    REQUIRE(xc_domain_getinfo(xch, gone, 1, info) == 0);  // nothing at or after it

    xc_domaininfo_t dinfo[2];
    REQUIRE(xc_domain_getinfolist(xch, off, 1, dinfo) == 1);
    CHECK(dinfo[0].domain == off);
    CHECK((dinfo[0].flags & XEN_DOMINF_shutdown) != 0);
    REQUIRE(xc_domain_getinfolist(xch, dying, 1, dinfo) == 1);
    CHECK((dinfo[0].flags & XEN_DOMINF_dying) != 0);
    REQUIRE(xc_domain_getinfolist(xch, crash, 1, dinfo) == 1);
    CHECK(((dinfo[0].flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask) == SHUTDOWN_crash);
    xc_interface_close(xch);
}

TEST_CASE("xc: a reused domid shows a new handle; unprivileged callers get EPERM") {
    xs::DomId d = fresh_domain();
    act_as(0);
    xc_interface* xch = xc_interface_open(nullptr, nullptr, 0);
    xc_dominfo_t before, after;
    REQUIRE(xc_domain_getinfo(xch, d, 1, &before) == 1);
    REQUIRE(destroy_domain(host().h(), d).has_value());
    create_domain(host().h(), d).value();
    REQUIRE(xc_domain_getinfo(xch, d, 1, &after) == 1);
    CHECK(std::memcmp(before.handle, after.handle, sizeof before.handle) != 0);

    act_as(d);
    xc_interface* guest = xc_interface_open(nullptr, nullptr, 0);
    errno = 0;
    CHECK(xc_domain_getinfo(guest, 0, 1, &before) == -1);
    CHECK(errno == EPERM);
    CHECK(xc_get_last_error(guest)->code == XC_INTERNAL_ERROR);
    xc_interface_close(guest);
    act_as(0);
    xc_interface_close(xch);
}

TEST_CASE("xc: unbound ports, foreign mapping of the ring frame, stubs") {
    xs::DomId d = fresh_domain();
    act_as(0);
    xc_interface* xch = xc_interface_open(nullptr, nullptr, 0);
    int port = xc_evtchn_alloc_unbound(xch, d, 0);
    CHECK(port > 0);
    void* p = xc_map_foreign_range(xch, d, 4096, PROT_READ | PROT_WRITE, kRingGfn);
    REQUIRE(p != nullptr);
    ::munmap(p, 4096);
    CHECK(xc_map_foreign_range(xch, d, 4096, PROT_READ, kRingGfn + 1) == nullptr);
    errno = 0;
    CHECK(xc_domain_pause(xch, d) == -1);
    CHECK(errno == ENOSYS);
    xc_interface_close(xch);
}

TEST_CASE("VIRQ_DOM_EXC through the C API when a domain is destroyed") {
    xs::DomId d = fresh_domain();
    act_as(0);
    xenevtchn_handle* h = xenevtchn_open(nullptr, 0);
    int virq = xenevtchn_bind_virq(h, VIRQ_DOM_EXC);
    REQUIRE(virq > 0);
    CHECK_FALSE(readable(xenevtchn_fd(h), 0));
    REQUIRE(destroy_domain(host().h(), d).has_value());
    CHECK(readable(xenevtchn_fd(h), kPatienceMs));
    CHECK(xenevtchn_pending(h) == virq);
    xenevtchn_close(h);
}
