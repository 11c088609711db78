#include "tests/support/protocol.hpp"

#include <algorithm>
#include <cstring>

namespace xs::testing {

std::string raw_header(std::uint32_t type, std::uint32_t req_id, std::uint32_t tx_id, std::uint32_t len) {
    wire::Header h{type, req_id, tx_id, len};
    std::string out(sizeof h, '\0');
    std::memcpy(out.data(), &h, sizeof h);
    return out;
}

std::string raw_message(std::uint32_t type, std::string_view payload, std::uint32_t req_id, std::uint32_t tx_id) {
    std::string out = raw_header(type, req_id, tx_id, static_cast<std::uint32_t>(payload.size()));
    out.append(payload);
    return out;
}

std::string nul_join(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (auto p : parts) {
        out.append(p);
        out.push_back('\0');
    }
    return out;
}

std::string text(const Message& m) {
    std::string s = m.payload;
    if (!s.empty() && s.back() == '\0') s.pop_back();
    return s;
}

std::string summary(const std::optional<Message>& m) {
    if (!m) return "<none>";
    if (m->is_error()) return m->error();
    return text(*m);
}

Event parse_event(const Message& m) {
    auto parts = m.strings();
    Event e;
    if (!parts.empty()) e.path = parts[0];
    if (parts.size() > 1) e.token = parts[1];
    return e;
}

std::vector<Event> sorted(std::vector<Event> events) {
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
        return a.path != b.path ? a.path < b.path : a.token < b.token;
    });
    return events;
}

bool sync(Client& c) {
    auto r = c.call(wire::kGetDomainPath, std::string_view("0\0", 2));
    return r.has_value() && !r->is_error();
}

std::vector<Event> take_events(Client& c) {
    std::vector<Event> out;
    if (!sync(c)) return out;
    while (c.queued_events() > 0) {
        auto m = c.next_event(std::chrono::milliseconds(0));
        if (!m) break;
        out.push_back(parse_event(*m));
    }
    return out;
}

CloseCheck wait_closed(Client& c, std::chrono::milliseconds wait) {
    auto m = c.receive(wait);
    if (m) return {CloseOutcome::GotMessage, std::move(m)};
    return {c.closed() ? CloseOutcome::Closed : CloseOutcome::StillOpen, std::nullopt};
}

std::optional<DirPart> parse_dir_part(const Message& m) {
    const std::string& p = m.payload;
    std::size_t nul = p.find('\0');
    if (nul == std::string::npos) return std::nullopt;
    DirPart d;
    d.gen = p.substr(0, nul);
    std::string_view rest = std::string_view(p).substr(nul + 1);
    // Every name ends with a NUL; a final lone NUL (empty name) marks the end.
    if (rest.empty() || rest.back() != '\0') return std::nullopt;
    while (!rest.empty()) {
        std::size_t end = rest.find('\0');
        if (end == 0) {
            d.last = true;
            if (rest.size() != 1) return std::nullopt;  // nothing may follow the end mark
            break;
        }
        d.names.emplace_back(rest.substr(0, end));
        d.chunk_bytes += end + 1;
        rest.remove_prefix(end + 1);
    }
    return d;
}

std::string joined(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out.append(sep);
        out += items[i];
    }
    return out;
}

std::string joined(const Result<std::vector<std::string>>& items, std::string_view sep) {
    if (!items) return "<" + outcome(items) + ">";
    return joined(*items, sep);
}

std::string value(const Result<std::string>& r) {
    if (!r) return "<" + outcome(r) + ">";
    return *r;
}

std::string joined(const std::vector<Event>& events) {
    std::string out;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (i) out += ';';
        out += events[i].path + "|" + events[i].token;
    }
    return out;
}

std::optional<std::uint64_t> quota_row(std::string_view report, std::string_view name) {
    std::size_t pos = 0;
    while (pos < report.size()) {
        std::size_t eol = report.find('\n', pos);
        std::string_view line = report.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
        pos = eol == std::string_view::npos ? report.size() : eol + 1;
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view label = line.substr(0, colon);
        while (!label.empty() && label.back() == ' ') label.remove_suffix(1);
        if (label != name) continue;
        std::string_view rest = line.substr(colon + 1);
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        std::uint64_t v = 0;
        std::size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
            v = v * 10 + static_cast<std::uint64_t>(rest[digits] - '0');
            ++digits;
        }
        if (digits == 0) return std::nullopt;
        return v;
    }
    return std::nullopt;
}

}  // namespace xs::testing
