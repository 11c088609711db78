// Shared pieces of the live-update tests: the whole tree as dom0 sees it,
// and the update itself with Debian's xenstore-control.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <string>

#include "tests/support/env.hpp"
#include "tests/support/guest_harness.hpp"
#include "tests/support/live_update.hpp"

namespace xs::testing {

// Every node (special ones included) as "path" -> "value | perms", read
// through `c` (a privileged connection).
inline std::map<std::string, std::string> dump_tree(Client& c) {
    std::map<std::string, std::string> out;
    auto perms_of = [&](const std::string& p) {
        auto perms = c.get_perms(p);
        std::string s;
        if (perms)
            for (const auto& e : *perms) s += e + ",";
        return s;
    };
    std::vector<std::string> todo{"/"};
    while (!todo.empty()) {
        std::string p = todo.back();
        todo.pop_back();
        auto v = c.read(p);
        out[p] = (v ? *v : "<" + outcome(v) + ">") + " | " + perms_of(p);
        auto kids = c.directory(p);
        if (!kids) continue;
        for (const auto& k : *kids) todo.push_back(p == "/" ? "/" + k : p + "/" + k);
    }
    for (const char* s : {"@introduceDomain", "@releaseDomain"}) out[s] = perms_of(s);
    return out;
}

// Debian's xenstore-control updates the daemon to `binary` (the daemon's
// own by default); REQUIREs success and that the pid stayed (and, when the
// new binary is xstored, that it logged the update).
inline void update_with_xenstore_control(Daemon& d, std::string binary = {},
                                         const std::vector<std::string>& options = {}, bool to_xstored = true) {
    pid_t before = d.pid();
    std::size_t done = updates_logged(d);
    auto r = xenstore_control_update(d, binary.empty() ? xstored_bin() : binary, options);
    INFO(r.describe());
    INFO(tail(d.stderr_text()));
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(d.alive());
    CHECK(d.pid() == before);
    if (to_xstored) CHECK(updates_logged(d) == done + 1);
}

}  // namespace xs::testing
