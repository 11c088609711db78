#include "quota/items.hpp"

namespace xs::quota {
namespace {

struct ItemInfo {
    std::string_view name;
    std::string_view description;
    std::uint32_t default_value;
};

// Indexed by Item.
constexpr std::array<ItemInfo, kItemCount> kInfo = {{
    {"nodes", "Nodes per domain", kDefaultNodes},
    {"watches", "Watches per domain", kDefaultWatches},
    {"outstanding", "Outstanding requests per domain", kDefaultOutstanding},
    {"memory", "Total Xenstore memory per domain", kDefaultMemory},
    {"transactions", "Active transactions per domain", kDefaultTransactions},
    {"transaction-nodes", "Max. number of accessed nodes per transaction", kDefaultTransactionNodes},
    {"node-permissions", "Max. number of permissions per node", kDefaultNodePermissions},
    {"path-max", "Max. length of a node path", kDefaultPathMax},
    {"node-size", "Max. size of a node", kDefaultNodeSize},
}};

}  // namespace

std::string_view name(Item item) { return item < Item::Count ? kInfo[index(item)].name : "unknown"; }

std::string_view description(Item item) { return item < Item::Count ? kInfo[index(item)].description : ""; }

std::optional<Item> parse_name(std::string_view text) {
    for (Item item : kItems) {
        if (kInfo[index(item)].name == text) return item;
    }
    // The protocol document (and 4.17's CONTROL table) call it "permissions".
    if (text == "permissions") return Item::NodePermissions;
    return std::nullopt;
}

Limits Limits::defaults() {
    Limits l;
    for (Item item : kItems) l[item] = kInfo[index(item)].default_value;
    l.soft_memory = kDefaultSoftMemory;
    return l;
}

std::string names_list() {
    std::string out;
    for (Item item : kItems) {
        if (!out.empty()) out += ' ';
        out += name(item);
        if (item == Item::Memory) {
            out += ' ';
            out += kSoftMemoryName;
        }
    }
    return out;
}

}  // namespace xs::quota
