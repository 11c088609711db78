#include "quota/table.hpp"

#include <cerrno>

namespace xs::quota {
namespace {

// A GET/SET_QUOTA name to a slot: an item's index, or kItemCount for soft memory.
std::optional<std::size_t> slot_of(std::string_view text) {
    if (text == kSoftMemoryName) return kItemCount;
    if (auto item = parse_name(text)) return index(*item);
    return std::nullopt;
}

// GET_QUOTA order: the hard items, with soft memory right after memory.
template <class F>
void for_each_slot(F&& fn) {
    for (Item item : kItems) {
        fn(index(item), name(item));
        if (item == Item::Memory) fn(kItemCount, kSoftMemoryName);
    }
}

}  // namespace

Table::Table(Limits global) : global_(global) {}

std::uint32_t Table::global_slot(std::size_t slot) const {
    return slot == kSoftSlot ? global_.soft_memory : global_.hard[slot];
}

std::uint32_t Table::slot_value(std::optional<DomId> dom, std::size_t slot) const {
    if (dom) {
        auto it = overrides_.find(*dom);
        if (it != overrides_.end() && it->second.set[slot]) return it->second.value[slot];
    }
    return global_slot(slot);
}

std::uint32_t Table::get(std::optional<DomId> dom, Item item) const { return slot_value(dom, index(item)); }

std::uint32_t Table::soft_memory(std::optional<DomId> dom) const { return slot_value(dom, kSoftSlot); }

Limits Table::effective(std::optional<DomId> dom) const {
    Limits l;
    for (Item item : kItems) l[item] = get(dom, item);
    l.soft_memory = soft_memory(dom);
    return l;
}

Result<std::uint32_t> Table::get(std::optional<DomId> dom, std::string_view text) const {
    auto slot = slot_of(text);
    if (!slot) return fail(EINVAL);
    return slot_value(dom, *slot);
}

Result<> Table::set(std::optional<DomId> dom, std::string_view text, std::uint32_t value) {
    auto slot = slot_of(text);
    if (!slot || value == kReservedValue) return fail(EINVAL);
    if (!dom) {
        (*slot == kSoftSlot ? global_.soft_memory : global_.hard[*slot]) = value;
        return {};
    }
    Override& o = overrides_[*dom];
    o.value[*slot] = value;
    o.set[*slot] = true;
    return {};
}

void Table::forget(DomId dom) { overrides_.erase(dom); }

std::vector<std::pair<std::string, std::uint32_t>> Table::named_values(std::optional<DomId> dom) const {
    std::vector<std::pair<std::string, std::uint32_t>> out;
    for_each_slot([&](std::size_t slot, std::string_view n) { out.emplace_back(std::string(n), slot_value(dom, slot)); });
    return out;
}

std::vector<std::pair<std::string, std::uint32_t>> Table::overrides(DomId dom) const {
    std::vector<std::pair<std::string, std::uint32_t>> out;
    auto it = overrides_.find(dom);
    if (it == overrides_.end()) return out;
    for_each_slot([&](std::size_t slot, std::string_view n) {
        if (it->second.set[slot]) out.emplace_back(std::string(n), it->second.value[slot]);
    });
    return out;
}

}  // namespace xs::quota
