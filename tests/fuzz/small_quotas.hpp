// The quotas both daemon fuzz targets run with: small, so that an input of
// a few hundred bytes reaches every one of them.
#pragma once

#include <utility>

#include "daemon/config/options.hpp"

namespace xs::fuzz {

inline void set_small_quotas(daemon::Config& cfg) {
    using quota::Item;
    for (auto [item, value] : {std::pair{Item::Nodes, 24u}, {Item::Watches, 4u}, {Item::Outstanding, 4u},
                               {Item::Memory, 8192u}, {Item::Transactions, 2u}, {Item::TransactionNodes, 16u},
                               {Item::NodePermissions, 4u}, {Item::PathMax, 64u}, {Item::NodeSize, 512u}})
        cfg.limits[item] = value;
}

}  // namespace xs::fuzz
