// What the daemon knows about each domain: whether it is introduced, its
// features, and its quota usage. A record exists for every domain that owns
// nodes, has a connection, or was referenced while it existed.
#pragma once

#include <cstdint>
#include <map>

#include "daemon/loop/loop.hpp"
#include "daemon/write_limit.hpp"
#include "quota/quota.hpp"
#include "base/domid.hpp"
#include "transport/ring_layout.hpp"

namespace xs::daemon {

// Features a domain gets unless SET_FEATURE changed them before INTRODUCE.
inline constexpr std::uint32_t kDefaultFeatures = ring::kFeaturesAll;

struct Domain {
    DomId id = 0;
    bool introduced = false;
    bool shutdown_noticed = false;   // @releaseDomain/<id> fired for a shutdown
    std::uint32_t features = kDefaultFeatures;
    std::uint64_t unique_id = 0;     // from the hypervisor: changes when a domid is reused
    ConnId conn = 0;                 // its ring connection, once introduced
    quota::Usage usage;
    std::int64_t node_bytes = 0;     // the part of usage[Memory] its nodes take
    WriteCredit credit;              // write-rate limit while transactions are open
};

class Domains {
public:
    Domain* find(DomId id) {
        auto it = map_.find(id);
        return it == map_.end() ? nullptr : &it->second;
    }
    const Domain* find(DomId id) const {
        auto it = map_.find(id);
        return it == map_.end() ? nullptr : &it->second;
    }
    Domain& get(DomId id) {
        auto [it, inserted] = map_.try_emplace(id);
        if (inserted) it->second.id = id;
        return it->second;
    }
    void erase(DomId id) { map_.erase(id); }
    std::map<DomId, Domain>& all() { return map_; }
    const std::map<DomId, Domain>& all() const { return map_; }

private:
    std::map<DomId, Domain> map_;
};

}  // namespace xs::daemon
