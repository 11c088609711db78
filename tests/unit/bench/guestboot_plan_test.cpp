// The guest-boot plan: who owns and who may read each directory, the
// XenbusState values each side writes, and what the frontend checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "bench/guestboot_plan.hpp"
#include "transport/wire.hpp"

using namespace xs::bench;

namespace {

std::string path_of(const BootRequest& r) { return r.payload.substr(0, r.payload.find('\0')); }
std::string value_of(const BootRequest& r) { return r.payload.substr(r.payload.find('\0') + 1); }

// The permission list SET_PERMS gives `path`, NUL-separated entries joined by ' '.
std::string perms_of(const std::vector<BootRequest>& reqs, const std::string& path) {
    for (const auto& r : reqs) {
        if (r.type != xs::wire::kSetPerms || path_of(r) != path) continue;
        std::string list = value_of(r);
        std::replace(list.begin(), list.end(), '\0', ' ');
        return list;
    }
    return "";
}

std::string written(const std::vector<BootRequest>& reqs, const std::string& path) {
    for (const auto& r : reqs)
        if (r.type == xs::wire::kWrite && path_of(r) == path) return value_of(r);
    return "(none)";
}

}  // namespace

TEST_CASE("a guest's paths follow xenstore-paths.md") {
    BootPaths p = boot_paths(7);
    CHECK(p.home == "/local/domain/7");
    CHECK(p.fe_state() == "/local/domain/7/device/vbd/51712/state");
    CHECK(p.be_state() == "/local/domain/0/backend/vbd/7/51712/state");
    CHECK(p.backend_parent == "/local/domain/0/backend/vbd/7");
}

TEST_CASE("the toolstack gives the frontend to the guest and the backend to dom0") {
    BootPaths p = boot_paths(7);
    auto reqs = toolstack_create(p);
    CHECK(perms_of(reqs, p.home) == "n0 r7 ");
    CHECK(perms_of(reqs, p.home + "/data") == "n7 ");
    CHECK(perms_of(reqs, p.frontend) == "n7 r0 ");
    CHECK(perms_of(reqs, p.backend) == "n0 r7 ");
    // A directory's permissions are set before its children are written, which inherit them.
    auto first = [&](std::uint32_t type, const std::string& path) {
        return std::find_if(reqs.begin(), reqs.end(), [&](const BootRequest& r) {
            return r.type == type && path_of(r) == path;
        });
    };
    CHECK(first(xs::wire::kSetPerms, p.frontend) < first(xs::wire::kWrite, p.frontend + "/backend"));
    CHECK(first(xs::wire::kSetPerms, p.backend) < first(xs::wire::kWrite, p.backend + "/frontend"));
    CHECK(written(reqs, p.fe_state()) == "1");
    CHECK(written(reqs, p.be_state()) == "1");
    CHECK(written(reqs, p.frontend + "/backend") == p.backend);
    CHECK(written(reqs, p.backend + "/frontend") == p.frontend);
}

TEST_CASE("both sides step through the XenbusState values, state last") {
    BootPaths p = boot_paths(3);
    auto initwait = backend_initwait(p), init = frontend_initialise(p, 42), be_conn = backend_connect(p, 42),
         fe_conn = frontend_connect(p);
    CHECK(path_of(initwait.back()) == p.be_state());
    CHECK(value_of(initwait.back()) == state_text(XenbusState::kInitWait));
    CHECK(path_of(init.back()) == p.fe_state());
    CHECK(value_of(init.back()) == "3");
    CHECK(written(init, p.frontend + "/event-channel") == "42");
    CHECK(path_of(be_conn.back()) == p.be_state());
    CHECK(value_of(be_conn.back()) == "4");
    CHECK(path_of(fe_conn.back()) == p.fe_state());
    CHECK(value_of(fe_conn.back()) == "4");
    // The backend checks what the frontend published.
    auto ev = std::find_if(be_conn.begin(), be_conn.end(),
                           [&](const BootRequest& r) { return path_of(r) == p.frontend + "/event-channel"; });
    REQUIRE(ev != be_conn.end());
    CHECK(ev->type == xs::wire::kRead);
    CHECK((ev->check && ev->expect == "42"));
}

TEST_CASE("the replayed mix writes no watched node") {
    BootPaths p = boot_paths(9);
    BootMix m = guest_mix(p, 5);
    CHECK(m.before.size() == 6);
    CHECK(m.inside.size() == 3);
    for (const auto& r : m.inside) {
        CHECK(r.type == xs::wire::kWrite);
        CHECK(path_of(r) != p.fe_state());
        CHECK(path_of(r) != p.be_state());
    }
    for (const auto& r : m.before) CHECK(r.type != xs::wire::kWrite);
}
