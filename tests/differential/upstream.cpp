// cxenstored.md 5.10 (GET/SET_FEATURE) and 6.6 (GET/SET_QUOTA), with the
// decisions docs/conformance.md rows 23-26 record: numbers are parsed
// strictly (decision 2: malformed is EINVAL), the reconnection feature bit
// is ours (decision 1), "permissions" names node-permissions.
#include "tests/differential/upstream.hpp"

#include <algorithm>
#include <optional>

#include "transport/wire.hpp"

namespace xs::diff {

namespace {

using Answers = std::vector<std::string>;


enum class Dom { Missing, Exists, Introduced, Unsure };

// What the hypervisor (and so the daemon) knows of the domain the text names.
Dom domain(const Episode& ep, const std::string& text) {
    auto d = static_cast<DomId>(std::stoul(text));
    if (d == 0 || ep.introduced.count(d)) return Dom::Introduced;
    if (d >= kDomidFirstReserved || ep.destroyed.count(d)) return Dom::Unsure;
    return ep.hosted.count(d) ? Dom::Exists : Dom::Missing;
}

bool quota_name(const std::string& n) {
    static const std::vector<std::string> kNames = {
        "nodes",          "watches",  "outstanding", "memory",       "soft-memory", "transactions", "transaction-nodes",
        "node-permissions", "path-max", "node-size", "permissions"};
    return std::find(kNames.begin(), kNames.end(), n) != kNames.end();
}

// The domain argument's verdict (EINVAL, ENOENT, or {} when the step
// cannot tell), or nullopt when the request goes on past it.
std::optional<Answers> domain_check(const View& v, const std::string& text, Dom& d) {
    if (!strict_number(text, 0xFFFF)) return Answers{"EINVAL"};
    d = domain(v.ep, text);
    if (d == Dom::Missing) return Answers{"ENOENT"};
    if (d == Dom::Unsure) return Answers{};
    return std::nullopt;
}

Answers get_feature(const View& v, const std::vector<std::string>& a) {
    if (a.empty()) return {"OK"};
    if (!v.step.conn.privileged()) return {"EACCES"};
    if (a.size() > 1) return {"EINVAL"};
    Dom d{};
    return domain_check(v, a[0], d).value_or(Answers{"OK"});
}

Answers set_feature(const View& v, const std::vector<std::string>& a) {
    if (a.size() != 2) return {"EINVAL"};
    Dom d{};
    if (auto verdict = domain_check(v, a[0], d)) return *verdict;
    if (!strict_number(a[1], 0xFFFFFFFFu)) return {"EINVAL"};
    if (d == Dom::Introduced) return {"EBUSY"};
    return {std::stoul(a[1]) & ~15ul ? "EINVAL" : "OK"};
}

Answers get_quota(const View& v, const std::vector<std::string>& a) {
    if (a.empty()) return {"OK"};
    if (a.size() > 2) return {"EINVAL"};
    if (a.size() == 2) {
        Dom d{};
        if (auto verdict = domain_check(v, a[0], d)) return *verdict;
    }
    return {quota_name(a.back()) ? "OK" : "EINVAL"};
}

Answers set_quota(const View& v, const std::vector<std::string>& a) {
    if (a.size() != 2 && a.size() != 3) return {"EINVAL"};
    if (a.size() == 3) {
        Dom d{};
        if (auto verdict = domain_check(v, a[0], d)) return *verdict;
    }
    const std::string& value = a.back();
    bool valid = strict_number(value, 0xFFFFFFFEu) && quota_name(a[a.size() - 2]);
    return {valid ? "OK" : "EINVAL"};
}

}  // namespace

std::vector<std::string> upstream_newer_reply(const View& v) {
    if (!v.step.is_request()) return {};
    auto a = strings_of(v.step.payload.literal());
    bool privileged_only = v.step.type != wire::kGetFeature;
    if (privileged_only && !v.step.conn.privileged()) return {"EACCES"};
    switch (v.step.type) {
        case wire::kGetFeature: return get_feature(v, a);
        case wire::kSetFeature: return set_feature(v, a);
        case wire::kGetQuota: return get_quota(v, a);
        case wire::kSetQuota: return set_quota(v, a);
        default: return {};
    }
}

bool strict_number(std::string_view s, std::uint64_t max) {
    if (s.empty() || s.size() > 10) return false;
    std::uint64_t v = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    return v <= max;
}

}  // namespace xs::diff
