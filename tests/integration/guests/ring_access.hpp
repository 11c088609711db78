// Raw ring access for hostile-guest tests: the page's fields read and
// written as the other side sees them, requests put into the ring without
// a kick, and the checks that a guest is cut off or that the daemon idles.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/guest_harness.hpp"
#include "transport/ring.hpp"

namespace guests {

using namespace xs::testing;

inline std::uint32_t load(const std::uint32_t& field) { return __atomic_load_n(&field, __ATOMIC_ACQUIRE); }
inline void store(std::uint32_t& field, std::uint32_t v) { __atomic_store_n(&field, v, __ATOMIC_RELEASE); }

// Put bytes into the request ring without kicking the daemon.
inline void put(xs::ring::Interface& page, std::string_view bytes) {
    auto n = xs::ring::write(page, xs::ring::Direction::kRequest, bytes.data(), bytes.size());
    REQUIRE(n.has_value());
    REQUIRE(*n == bytes.size());
}

// A WRITE request of exactly `total` bytes, header included.
inline std::string write_of_size(std::size_t total, const std::string& path, std::uint32_t req_id) {
    std::size_t value_len = total - xs::wire::kHeaderSize - path.size() - 1;
    return raw_message(xs::wire::kWrite, path + '\0' + std::string(value_len, 'v'), req_id);
}

// Move all four indices of an idle ring to `at`.
inline void move_indices(xs::ring::Interface& page, std::uint32_t at) {
    store(page.req_cons, at);
    store(page.req_prod, at);
    store(page.rsp_cons, at);
    store(page.rsp_prod, at);
}

// A guest the daemon ignores answers nothing: with its indices made sane
// again, a valid request stays unread and unanswered for a while.
inline bool unanswered(GuestConn& g, std::uint32_t type, const std::string& payload) {
    auto& page = g.page();
    store(page.req_prod, load(page.req_cons));
    store(page.rsp_cons, load(page.rsp_prod));
    std::uint32_t cons = load(page.req_cons);
    put(page, raw_message(type, payload, 4242));
    (void)g.ring->notify();
    std::this_thread::sleep_for(scaled(std::chrono::milliseconds(300)));
    return load(page.rsp_prod) == load(page.rsp_cons) && load(page.req_cons) == cons;
}

// Wait for the daemon to report `error` in the guest's page.
inline bool error_is(GuestConn& g, std::uint32_t error) {
    return eventually([&] { return load(g.page().error) == error; });
}

// The daemon uses (almost) no CPU over a second: nothing spins.
inline bool idles(GuestHarness& h) {
    auto before = h.daemon().cpu();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto after = h.daemon().cpu();
    if (!before || !after) return false;
    return *after - *before < std::chrono::milliseconds(500);
}

}  // namespace guests
