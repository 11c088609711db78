// Helpers shared by the tree and transaction tests.
#pragma once

#include <map>
#include <string>

#include "store/tree.hpp"

namespace test {

using namespace xs;
using namespace xs::store;

inline Caller priv() { return Caller{0, true, std::nullopt}; }
inline Caller guest(DomId d) { return Caller{d, false, std::nullopt}; }

struct Account {
    std::int64_t nodes = 0;
    std::int64_t bytes = 0;
    friend bool operator==(const Account&, const Account&) = default;
};
using Accounts = std::map<DomId, Account>;

// What every owner holds, recomputed from scratch.
inline Accounts recount(const Tree& t) {
    Accounts a;
    t.for_each_node([&](std::string_view path, const Node& n) {
        a[n.owner()].nodes += 1;
        a[n.owner()].bytes += charged_bytes(n, path.size());
    });
    return a;
}

inline void apply_deltas(Accounts& a, const Deltas& d) {
    for (const auto& x : d.items()) {
        a[x.domid].nodes += x.nodes;
        a[x.domid].bytes += x.bytes;
    }
    for (auto it = a.begin(); it != a.end();) it = (it->second == Account{}) ? a.erase(it) : std::next(it);
}

inline Accounts normalized(Accounts a) {
    apply_deltas(a, Deltas{});
    return a;
}

}  // namespace test
