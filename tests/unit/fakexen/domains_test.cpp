// Fake domains: the host layout, domain life cycle, unique ids, grant maps.
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstring>
#include <fstream>

#include "temp_host.hpp"
#include "tools/fakexen/grant.hpp"
#include "transport/ring_layout.hpp"

using namespace xs::fakexen;
using fakexen_test::exit_status;
using fakexen_test::spawn;
using fakexen_test::TempHost;

TEST_CASE("init creates dom0, its ring page and its port file") {
    TempHost t;
    auto d0 = domain_info(t.h(), 0).value();
    CHECK(d0.record.state == DomainState::kRunning);
    CHECK((d0.record.flags & kDomFlagControl) != 0);
    struct stat st {};
    REQUIRE(::stat(t.h().xsd_kva_path().c_str(), &st) == 0);
    CHECK(st.st_size == 4096);
    std::ifstream in(t.h().xsd_port_path());
    std::uint32_t port = 0;
    in >> port;
    CHECK(port == d0.record.store_port);
    CHECK(read_xsd_port(t.h()).value() == port);
    CHECK(init_host(t.dir).error().code == EEXIST);
}

TEST_CASE("opening something that is not a host fails") {
    TempHost t;
    CHECK_FALSE(Host::open(t.root).has_value());
}

TEST_CASE("create, shutdown and destroy move through the states") {
    TempHost t;
    auto d = create_domain(t.h(), 5).value();
    CHECK(d.record.state == DomainState::kRunning);
    CHECK(d.record.ring_gfn == kRingGfn);
    CHECK(create_domain(t.h(), 5).error().code == EEXIST);
    CHECK(create_domain(t.h(), kMaxDomains).error().code == EINVAL);

    REQUIRE(shutdown_domain(t.h(), 5, *shutdown_reason_from_name("crash")).has_value());
    auto s = domain_info(t.h(), 5).value();
    CHECK(s.record.state == DomainState::kShutdown);
    CHECK(shutdown_reason_name(s.record.shutdown_reason) == "crash");

    REQUIRE(destroy_domain(t.h(), 5, true).has_value());
    CHECK(domain_info(t.h(), 5).value().record.state == DomainState::kDying);
    CHECK(shutdown_domain(t.h(), 5, 0).error().code == EINVAL);
    REQUIRE(destroy_domain(t.h(), 5).has_value());
    CHECK(domain_info(t.h(), 5).error().code == ESRCH);
    CHECK(destroy_domain(t.h(), 5).error().code == ESRCH);
    CHECK(destroy_domain(t.h(), 0).error().code == EPERM);
}

TEST_CASE("a reused domid gets a new unique id, a fresh page and a new port") {
    TempHost t;
    auto first = create_domain(t.h(), 9).value();
    void* old_page = map_grant(t.h(), 9, 1, PROT_READ | PROT_WRITE).value();
    std::memcpy(old_page, "old", 3);
    REQUIRE(destroy_domain(t.h(), 9).has_value());
    auto second = create_domain(t.h(), 9).value();
    CHECK(second.record.unique_id != first.record.unique_id);
    CHECK(second.record.unique_id > first.record.unique_id);
    void* new_page = map_grant(t.h(), 9, 1, PROT_READ).value();
    CHECK(static_cast<char*>(new_page)[0] == 0);
    CHECK(std::memcmp(old_page, "old", 3) == 0);  // the old mapping keeps the old page
    ::munmap(old_page, kPageSize);
    ::munmap(new_page, kPageSize);
}

TEST_CASE("list_domains reports existing domains in order") {
    TempHost t;
    create_domain(t.h(), 3).value();
    create_domain(t.h(), 1).value();
    create_domain(t.h(), 2).value();
    REQUIRE(destroy_domain(t.h(), 2).has_value());
    auto all = list_domains(t.h());
    REQUIRE(all.size() == 3);
    CHECK(all[0].domid == 0);
    CHECK(all[1].domid == 1);
    CHECK(all[2].domid == 3);
    auto tail = list_domains(t.h(), 1, 1);
    REQUIRE(tail.size() == 1);
    CHECK(tail[0].domid == 1);
}

TEST_CASE("grant ref 1 maps the guest's page; both sides see each other's writes") {
    TempHost t;
    create_domain(t.h(), 4).value();
    auto* dom0_view = static_cast<xs::ring::Interface*>(
        map_grant(t.h(), 4, xs::ring::kGrantRefXenstore, PROT_READ | PROT_WRITE).value());
    int to_child[2], to_parent[2];
    REQUIRE(::pipe(to_child) == 0);
    REQUIRE(::pipe(to_parent) == 0);
    pid_t child = spawn([&] {
        // The guest, in its own process, maps its page file directly.
        auto host = Host::open(t.dir);
        if (!host) return 10;
        auto p = map_page_file((*host)->ring_path(4), PROT_READ | PROT_WRITE);
        if (!p) return 11;
        auto* guest_view = static_cast<xs::ring::Interface*>(*p);
        char b;
        if (::read(to_child[0], &b, 1) != 1) return 12;
        if (std::memcmp(guest_view->rsp, "from dom0", 9) != 0) return 13;
        std::memcpy(guest_view->req, "from guest", 10);
        guest_view->req_prod = 10;
        return ::write(to_parent[1], &b, 1) == 1 ? 0 : 14;
    });
    std::memcpy(dom0_view->rsp, "from dom0", 9);
    REQUIRE(::write(to_child[1], "x", 1) == 1);
    char b;
    REQUIRE(::read(to_parent[0], &b, 1) == 1);
    CHECK(std::memcmp(dom0_view->req, "from guest", 10) == 0);
    CHECK(dom0_view->req_prod == 10);
    CHECK(exit_status(child) == 0);
    ::munmap(dom0_view, kPageSize);
    for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) ::close(fd);
}

TEST_CASE("grant mapping fails as Xen's would") {
    TempHost t;
    create_domain(t.h(), 6).value();
    CHECK(map_grant(t.h(), 7, 1, PROT_READ).error().code == EINVAL);   // no such domain
    CHECK(map_grant(t.h(), 6, 2, PROT_READ).error().code == EINVAL);   // not granted
    CHECK(map_grant(t.h(), 0, 1, PROT_READ).error().code == EINVAL);   // dom0 uses xsd_kva
    REQUIRE(destroy_domain(t.h(), 6, true).has_value());
    CHECK(map_grant(t.h(), 6, 1, PROT_READ).error().code == EINVAL);   // dying
}

TEST_CASE("foreign mapping needs the ring's frame") {
    TempHost t;
    create_domain(t.h(), 6).value();
    void* p = map_foreign_frame(t.h(), 6, kRingGfn, 4096, PROT_READ).value();
    CHECK(p != nullptr);
    ::munmap(p, kPageSize);
    CHECK(map_foreign_frame(t.h(), 6, kRingGfn + 1, 4096, PROT_READ).error().code == EINVAL);
    CHECK(map_foreign_frame(t.h(), 11, kRingGfn, 4096, PROT_READ).error().code == ESRCH);
}

TEST_CASE("publish_ring_port writes the domain's port into its ring page, as a dom0less build does") {
    TempHost t;
    auto d = create_domain(t.h(), 5).value();
    std::uint32_t at_create = 1;
    {
        std::ifstream in(t.h().ring_path(5), std::ios::binary);
        in.seekg(offsetof(xs::ring::Interface, evtchn_port));
        in.read(reinterpret_cast<char*>(&at_create), sizeof at_create);
    }
    CHECK(at_create == 0);  // a toolstack-built domain names no port
    REQUIRE(publish_ring_port(t.h(), 5, d.record.store_port).has_value());
    std::uint32_t port = 0;
    std::ifstream in(t.h().ring_path(5), std::ios::binary);
    in.seekg(offsetof(xs::ring::Interface, evtchn_port));
    in.read(reinterpret_cast<char*>(&port), sizeof port);
    CHECK(port == d.record.store_port);
    CHECK(publish_ring_port(t.h(), 6, 1).error().code == ENOENT);  // no such domain's page
}
