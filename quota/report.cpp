#include "quota/report.hpp"

#include <algorithm>
#include <cstdio>

namespace xs::quota {
namespace {

// Upstream prints with %u: clamp what a 32-bit unsigned can show.
unsigned as_u32(std::int64_t v) { return static_cast<unsigned>(std::clamp<std::int64_t>(v, 0, UINT32_MAX)); }

// One "%-17s: " line head followed by the caller's printf tail.
template <class... Args>
void append_line(std::string& out, std::string_view label, const char* tail_fmt, Args... args) {
    char buf[160];
    int n = std::snprintf(buf, sizeof buf, "%-17.*s: ", static_cast<int>(label.size()), label.data());
    out.append(buf, static_cast<std::size_t>(std::max(n, 0)));
    n = std::snprintf(buf, sizeof buf, tail_fmt, args...);
    out.append(buf, static_cast<std::size_t>(std::clamp<int>(n, 0, sizeof buf - 1)));
}

}  // namespace

std::string format_settings(const Limits& limits) {
    std::string out = "Quota settings:\n";
    for (Item item : kItems) {
        std::string_view d = description(item);
        append_line(out, name(item), "%8u %.*s\n", limits[item], static_cast<int>(d.size()), d.data());
    }
    return out;
}

std::string format_soft_settings(const Limits& limits) {
    std::string out = "Quota settings:\n";
    std::string_view d = description(Item::Memory);
    append_line(out, name(Item::Memory), "%8u %.*s\n", limits.soft_memory, static_cast<int>(d.size()), d.data());
    return out;
}

std::string format_domain(DomId dom, const Usage& usage) {
    std::string out = "Domain " + std::to_string(dom) + ":\n";
    for (Item item : kItems) {
        append_line(out, name(item), "%8u (max %8u)\n", as_u32(usage.current[index(item)]),
                    as_u32(usage.max_seen[index(item)]));
    }
    return out;
}

std::string format_max(const Usage& global_max) {
    std::string out = "Max. seen accounting values:\n";
    for (Item item : kItems) append_line(out, name(item), "%8u\n", as_u32(global_max.max_seen[index(item)]));
    return out;
}

}  // namespace xs::quota
