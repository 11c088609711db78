// A real count of the tree, to compare with what the daemon accounts: a
// walk over the protocol as a privileged client (DIRECTORY, falling back to
// DIRECTORY_PART for long child lists, and GET_PERMS for each node's owner).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/domid.hpp"
#include "base/result.hpp"
#include "tools/client/xs_client.hpp"

namespace xs::testing {

struct TreeCount {
    std::map<DomId, std::uint64_t> nodes_by_owner;  // owner = the first permission entry
    std::uint64_t total = 0;
    std::vector<std::string> problems;  // requests that failed during the walk
};

// Walks "/" and everything below it, plus the special nodes
// @introduceDomain and @releaseDomain, through `c` (which must be
// privileged). Pipelines its requests, so it stays quick on large trees.
TreeCount count_tree(client::Client& c);

// The children of `path` (DIRECTORY, or DIRECTORY_PART when the list is
// over the payload limit).
Result<std::vector<std::string>> list_children(client::Client& c, const std::string& path);

// The domid of a permission entry such as "n5" or "r32757".
std::optional<DomId> perm_domid(const std::string& entry);

}  // namespace xs::testing
