#include "bench/report.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace xs::bench {

std::optional<Latency> latency_of(const Histogram& h) {
    if (h.count() == 0) return std::nullopt;
    auto us = [&](double q) { return static_cast<double>(h.quantile(q)) / 1000.0; };
    return Latency{us(0.50), us(0.99), us(0.999)};
}

void Measurement::set(std::string key, Value v) {
    for (auto& f : extra) {
        if (f.key == key) {
            f.value = std::move(v);
            return;
        }
    }
    extra.push_back({std::move(key), std::move(v)});
}

const Value* Measurement::get(std::string_view key) const {
    for (const auto& f : extra)
        if (f.key == key) return &f.value;
    return nullptr;
}

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    out.push_back('"');
    return out;
}

namespace {

std::string double_text(double d) {
    if (!std::isfinite(d)) return "null";
    char buf[64];
    // Nine significant digits: ns resolution for µs values up to seconds.
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::general, 9);
    return std::string(buf, r.ptr);
}

struct JsonObject {
    std::string text = "{";
    void add(std::string_view key, const Value& v) {
        if (text.size() > 1) text.push_back(',');
        text += json_escape(key);
        text.push_back(':');
        text += to_json(v);
    }
    void add_raw(std::string_view key, const std::string& raw) {
        if (text.size() > 1) text.push_back(',');
        text += json_escape(key);
        text.push_back(':');
        text += raw;
    }
    std::string done() { return text + "}"; }
};

template <class T>
Value opt(const std::optional<T>& o) {
    if (!o) return std::monostate{};
    return Value(*o);
}

}  // namespace

std::string to_json(const Value& v) {
    struct Visitor {
        std::string operator()(std::monostate) const { return "null"; }
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(std::int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const { return double_text(d); }
        std::string operator()(const std::string& s) const { return json_escape(s); }
    };
    return std::visit(Visitor{}, v);
}

std::string to_json_line(const Measurement& m) {
    JsonObject params;
    for (const auto& f : m.params) params.add(f.key, f.value);

    JsonObject o;
    o.add("workload", m.workload);
    o.add("variant", m.variant);
    o.add_raw("params", params.done());
    o.add("daemon", m.daemon);
    o.add("placement", m.placement);
    o.add("status", m.status);
    if (!m.error.empty()) o.add("error", m.error);
    o.add("ops", static_cast<std::int64_t>(m.ops));
    o.add("seconds", m.seconds);
    o.add("ops_per_s", m.ops_per_s());
    o.add("p50_us", m.latency ? Value(m.latency->p50_us) : Value());
    o.add("p99_us", m.latency ? Value(m.latency->p99_us) : Value());
    o.add("p999_us", m.latency ? Value(m.latency->p999_us) : Value());
    o.add("daemon_cpu_s", opt(m.daemon_cpu_s));
    o.add("daemon_peak_rss_kib", opt(m.daemon_peak_rss_kib));
    o.add("peak_rss_reset", opt(m.peak_rss_reset));
    o.add("client_cpu_s", opt(m.client_cpu_s));
    for (const auto& f : m.extra) o.add(f.key, f.value);
    return o.done();
}

std::string format_number(double v) {
    if (!std::isfinite(v)) return "-";
    char buf[32];
    double a = std::fabs(v);
    if (a >= 1000 || a == std::floor(a)) std::snprintf(buf, sizeof buf, "%.0f", v);
    else if (a >= 100) std::snprintf(buf, sizeof buf, "%.1f", v);
    else if (a >= 10) std::snprintf(buf, sizeof buf, "%.2f", v);
    else if (a >= 1) std::snprintf(buf, sizeof buf, "%.3f", v);
    else std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

std::string format_rate(double per_s) {
    if (!std::isfinite(per_s)) return "-";
    char buf[32];
    if (per_s >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", per_s / 1e6);
    else if (per_s >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", per_s / 1e3);
    else std::snprintf(buf, sizeof buf, "%.1f", per_s);
    return buf;
}

namespace {

std::string value_text(const Value& v) {
    if (auto d = std::get_if<double>(&v)) return format_number(*d);
    if (auto s = std::get_if<std::string>(&v)) return *s;
    if (std::holds_alternative<std::monostate>(v)) return "-";
    return to_json(v);
}

std::string notes_of(const Measurement& m) {
    if (!m.ok()) return m.status + ": " + m.error;
    std::string s;
    for (const auto& f : m.extra) {
        if (!s.empty()) s.push_back(' ');
        s += f.key + "=" + value_text(f.value);
    }
    return s;
}

using Row = std::vector<std::string>;

Row row_of(const Measurement& m) {
    auto lat = [&](double Latency::*p) { return m.latency ? format_number(m.latency.value().*p) : "-"; };
    return {m.workload,
            m.variant,
            std::to_string(m.ops),
            m.ok() ? format_rate(m.ops_per_s()) : "-",
            lat(&Latency::p50_us),
            lat(&Latency::p99_us),
            lat(&Latency::p999_us),
            m.daemon_cpu_s ? format_number(*m.daemon_cpu_s) : "-",
            m.daemon_peak_rss_kib ? format_number(static_cast<double>(*m.daemon_peak_rss_kib) / 1024.0)
                                  : "-",
            notes_of(m)};
}

std::string render(const std::vector<Row>& rows) {
    std::vector<std::size_t> width(rows.front().size(), 0);
    for (const auto& r : rows)
        for (std::size_t i = 0; i + 1 < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i) {
            // Text columns align left, numbers right; the last column is free.
            bool left = i < 2;
            std::size_t pad = i + 1 < r.size() ? width[i] - r[i].size() : 0;
            if (!left) line.append(pad, ' ');
            line += r[i];
            if (left) line.append(pad, ' ');
            if (i + 1 < r.size()) line += "  ";
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

}  // namespace

std::string format_table(const std::vector<Measurement>& ms) {
    std::string out;
    std::vector<bool> done(ms.size(), false);
    for (std::size_t i = 0; i < ms.size(); ++i) {
        if (done[i]) continue;
        std::vector<Row> rows{{"workload", "variant", "ops", "ops/s", "p50 us", "p99 us", "p99.9 us",
                               "cpu s", "rss MiB", "notes"}};
        for (std::size_t j = i; j < ms.size(); ++j) {
            if (done[j] || ms[j].daemon != ms[i].daemon || ms[j].placement != ms[i].placement) continue;
            rows.push_back(row_of(ms[j]));
            done[j] = true;
        }
        if (!out.empty()) out += "\n";
        out += "daemon " + ms[i].daemon + ", placement " + ms[i].placement + "\n";
        out += render(rows);
    }
    return out;
}

}  // namespace xs::bench
