#include "daemon/args.hpp"

#include <algorithm>

namespace xs::daemon {

std::optional<std::string_view> one_arg(std::string_view payload) {
    if (payload.empty() || payload.back() != '\0') return std::nullopt;
    if (payload.find('\0') != payload.size() - 1) return std::nullopt;
    return payload.substr(0, payload.size() - 1);
}

Strings split_strings(std::string_view payload) {
    Strings out;
    std::size_t start = 0;
    for (;;) {
        std::size_t nul = payload.find('\0', start);
        if (nul == std::string_view::npos) break;
        if (out.count < Strings::kMax) out.s[out.count] = payload.substr(start, nul - start);
        ++out.count;
        start = nul + 1;
    }
    return out;
}

void set_text(std::string& out, std::string_view text) {
    out.assign(text);
    out.push_back('\0');
}

std::size_t count_nuls(std::string_view payload) {
    return static_cast<std::size_t>(std::count(payload.begin(), payload.end(), '\0'));
}

std::optional<std::uint32_t> parse_u32(std::string_view s) {
    if (s.empty() || s.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > 0xFFFFFFFFu) return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

std::optional<DomId> parse_domid(std::string_view s) {
    auto v = parse_u32(s);
    if (!v || *v > 0xFFFF) return std::nullopt;
    return static_cast<DomId>(*v);
}

}  // namespace xs::daemon
