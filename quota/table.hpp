// Quota values in force: the global set plus per-domain overrides. Pure code.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quota/items.hpp"
#include "base/domid.hpp"
#include "base/result.hpp"

namespace xs::quota {

// A domain's effective value for an item is its override when one was set
// (SET_QUOTA with a domid), the global value otherwise. Unlike upstream HEAD,
// which copies the global values into a domain when it first sees it, a
// change of a global value takes effect at once for every domain without an
// override of that item (as 4.17 behaves): one rule, no hidden per-domain copy.
class Table {
public:
    explicit Table(Limits global = Limits::defaults());

    const Limits& global() const { return global_; }

    // Effective limits for a domain (nullopt = the global values).
    std::uint32_t get(std::optional<DomId> dom, Item item) const;
    std::uint32_t soft_memory(std::optional<DomId> dom) const;
    Limits effective(std::optional<DomId> dom) const;

    // GET_QUOTA / SET_QUOTA by name: the hard names (and the "permissions"
    // alias) plus "soft-memory". EINVAL for any other name, and for the
    // reserved value UINT32_MAX. 0 is allowed and means unlimited.
    Result<std::uint32_t> get(std::optional<DomId> dom, std::string_view name) const;
    Result<> set(std::optional<DomId> dom, std::string_view name, std::uint32_t value);

    // Drop a dead domain's overrides, so a later domain with the same id
    // starts from the global values.
    void forget(DomId dom);
    bool has_overrides(DomId dom) const { return overrides_.contains(dom); }

    // Every hard and soft value with its name, in GET_QUOTA order
    // ("nodes", ..., "memory", "soft-memory", ...): the global values, or a
    // domain's effective values. For the migration stream.
    std::vector<std::pair<std::string, std::uint32_t>> named_values(std::optional<DomId> dom) const;
    // Only the values a domain overrides, same order and names. A stream that
    // carries these (instead of named_values) keeps "follows the global value"
    // across a live update.
    std::vector<std::pair<std::string, std::uint32_t>> overrides(DomId dom) const;

private:
    // Slot kItemCount holds soft memory.
    static constexpr std::size_t kSoftSlot = kItemCount;
    static constexpr std::size_t kSlots = kItemCount + 1;
    struct Override {
        std::array<std::uint32_t, kSlots> value{};
        std::array<bool, kSlots> set{};
    };

    std::uint32_t global_slot(std::size_t slot) const;
    std::uint32_t slot_value(std::optional<DomId> dom, std::size_t slot) const;

    Limits global_;
    std::map<DomId, Override> overrides_;
};

}  // namespace xs::quota
