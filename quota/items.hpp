// The quota items: their protocol names, descriptions, defaults, and the one
// comparison rule every check uses. Pure code.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xs::quota {

// Order = the order of upstream's GET_QUOTA list and CONTROL quota tables.
enum class Item : std::uint8_t {
    Nodes,             // nodes owned by a domain
    Watches,           // watches registered by a domain
    Outstanding,       // requests whose reply (or caused event) is not yet delivered
    Memory,            // bytes charged to a domain (hard limit)
    Transactions,      // open transactions of a domain
    TransactionNodes,  // distinct nodes accessed by one transaction
    NodePermissions,   // entries in one node's permission list
    PathMax,           // path length after the /local/domain/<id>/ prefix
    NodeSize,          // size of one node record
    Count
};

inline constexpr std::size_t kItemCount = static_cast<std::size_t>(Item::Count);

constexpr std::size_t index(Item item) { return static_cast<std::size_t>(item); }

// Every real item, in table order (for loops).
inline constexpr std::array<Item, kItemCount> kItems = {
    Item::Nodes,        Item::Watches,          Item::Outstanding,
    Item::Memory,       Item::Transactions,     Item::TransactionNodes,
    Item::NodePermissions, Item::PathMax,       Item::NodeSize,
};

// Upstream's names: "nodes", "watches", ..., "node-size".
std::string_view name(Item item);
// The text upstream prints after the value in CONTROL quota ("Nodes per domain").
std::string_view description(Item item);
// A hard item by name. Accepts the upstream names and the alias "permissions"
// (4.17 and the protocol document) for NodePermissions.
std::optional<Item> parse_name(std::string_view name);

// The name under which GET/SET_QUOTA and the migration stream address the soft
// memory value.
inline constexpr std::string_view kSoftMemoryName = "soft-memory";

// "A quota of N allows exactly N": true when `value` is within `limit`.
// A limit of 0 means unlimited. Callers pass the value the operation would
// reach (current + added), never the value before it.
constexpr bool within(std::uint32_t limit, std::uint64_t value) {
    return limit == 0 || value <= limit;
}

// One full set of values; 0 = unlimited.
struct Limits {
    std::array<std::uint32_t, kItemCount> hard{};
    std::uint32_t soft_memory = 0;  // a warning threshold, never refuses anything

    static Limits defaults();
    std::uint32_t operator[](Item item) const { return hard[index(item)]; }
    std::uint32_t& operator[](Item item) { return hard[index(item)]; }
    friend bool operator==(const Limits&, const Limits&) = default;
};

// Default values: upstream's numbers.
inline constexpr std::uint32_t kDefaultNodes = 1000;
inline constexpr std::uint32_t kDefaultWatches = 128;
inline constexpr std::uint32_t kDefaultOutstanding = 20;
inline constexpr std::uint32_t kDefaultMemory = 2621440;      // 2.5 MiB
inline constexpr std::uint32_t kDefaultSoftMemory = 2097152;  // 2 MiB
inline constexpr std::uint32_t kDefaultTransactions = 10;
inline constexpr std::uint32_t kDefaultTransactionNodes = 1024;
inline constexpr std::uint32_t kDefaultNodePermissions = 5;
inline constexpr std::uint32_t kDefaultPathMax = 2048;
inline constexpr std::uint32_t kDefaultNodeSize = 2048;

// UINT32_MAX is reserved upstream ("not applicable"); SET_QUOTA refuses it.
inline constexpr std::uint32_t kReservedValue = UINT32_MAX;

// GET_QUOTA without arguments: every name, hard and soft, space separated:
// "nodes watches outstanding memory soft-memory transactions ... node-size".
std::string names_list();

}  // namespace xs::quota
