#include "tests/differential/step.hpp"

#include <charconv>
#include <cstdio>

#include "tools/fakexen/domains.hpp"
#include "transport/wire.hpp"

namespace xs::diff {

namespace {

std::optional<std::uint32_t> number(std::string_view s) {
    std::uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

std::optional<std::uint32_t> type_from_name(std::string_view name) {
    if (!name.empty() && name[0] == '#') return number(name.substr(1));
    for (std::uint32_t t = 0; t < wire::kTypeCount; ++t)
        if (wire::type_name(t) == name) return t;
    return std::nullopt;
}

std::string type_text(std::uint32_t type) {
    std::string_view n = wire::type_name(type);
    if (n == "UNKNOWN" || n.empty()) return "#" + std::to_string(type);
    return std::string(n);
}

void escape_bytes(std::string& out, std::string_view bytes) {
    for (unsigned char c : bytes) {
        if (c == '\0') out += "\\0";
        else if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c >= 0x20 && c < 0x7f) out.push_back(static_cast<char>(c));
        else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// `text` starts after the opening quote; consumes through the closing one.
std::optional<Payload> parse_payload(std::string_view& text, std::string& why) {
    Payload p;
    std::string lit;
    while (!text.empty() && text.front() != '"') {
        char c = text.front();
        text.remove_prefix(1);
        if (c != '\\') {
            lit.push_back(c);
            continue;
        }
        if (text.empty()) break;
        char e = text.front();
        text.remove_prefix(1);
        if (e == '0') lit.push_back('\0');
        else if (e == '\\' || e == '"') lit.push_back(e);
        else if (e == 'x' && text.size() >= 2 && hex_digit(text[0]) >= 0 && hex_digit(text[1]) >= 0) {
            lit.push_back(static_cast<char>(hex_digit(text[0]) * 16 + hex_digit(text[1])));
            text.remove_prefix(2);
        } else if (e == 'p' || e == 'g') {
            std::size_t semi = text.find(';');
            auto d = semi == std::string_view::npos ? std::nullopt : number(text.substr(0, semi));
            if (!d) break;
            p.append(std::move(lit));
            lit.clear();
            if (e == 'p') p.append_port(static_cast<DomId>(*d));
            else p.append_gfn(static_cast<DomId>(*d));
            text.remove_prefix(semi + 1);
        } else {
            why = std::string("bad escape \\") + e;
            return std::nullopt;
        }
    }
    if (text.empty()) {
        why = "unterminated payload";
        return std::nullopt;
    }
    text.remove_prefix(1);
    p.append(std::move(lit));
    return p;
}

std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        std::size_t j = i;
        while (j < s.size() && s[j] != ' ') ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

std::optional<TxRef> parse_tx(std::string_view s) {
    if (s == "-") return TxRef{};
    auto n = s.size() > 1 ? number(s.substr(1)) : std::nullopt;
    if (!n) return std::nullopt;
    if (s[0] == 'h') return TxRef{TxRef::Kind::Handle, *n};
    if (s[0] == '#') return TxRef{TxRef::Kind::Raw, *n};
    return std::nullopt;
}

std::optional<Step> parse_request(std::string_view line, std::string& why) {
    // req <conn> <type> <tx> "<payload>" [bind=hN]
    std::size_t quote = line.find('"');
    if (quote == std::string_view::npos) {
        why = "request without a payload";
        return std::nullopt;
    }
    auto head = words(line.substr(0, quote));
    std::string_view rest = line.substr(quote + 1);
    auto payload = parse_payload(rest, why);
    if (!payload) return std::nullopt;
    Step s;
    auto conn = head.size() == 4 ? parse_conn(head[1]) : std::nullopt;
    auto type = head.size() == 4 ? type_from_name(head[2]) : std::nullopt;
    auto tx = head.size() == 4 ? parse_tx(head[3]) : std::nullopt;
    if (!conn || !type || !tx) {
        why = "expected: req <conn> <type> <tx> \"payload\"";
        return std::nullopt;
    }
    s.conn = *conn;
    s.type = *type;
    s.tx = *tx;
    s.payload = std::move(*payload);
    auto tail = words(rest);
    if (tail.size() == 1 && tail[0].starts_with("bind=h")) {
        s.bind = number(tail[0].substr(6));
        if (s.bind) return s;
    }
    if (!tail.empty()) {
        why = "trailing words after the payload";
        return std::nullopt;
    }
    return s;
}

std::optional<Step> parse_host(const std::vector<std::string_view>& w, std::string& why) {
    Step s;
    auto d = w.size() >= 3 ? number(w[2]) : std::nullopt;
    if (!d || *d >= kDomidFirstReserved) {
        why = "expected: host create|shutdown|destroy <domid> ...";
        return std::nullopt;
    }
    s.domid = static_cast<DomId>(*d);
    if (w[1] == "create" && w.size() == 3) {
        s.kind = Step::Kind::Create;
    } else if (w[1] == "shutdown" && w.size() == 4) {
        s.kind = Step::Kind::Shutdown;
        auto reason = fakexen::shutdown_reason_from_name(w[3]);
        if (!reason) {
            why = "unknown shutdown reason";
            return std::nullopt;
        }
        s.arg = *reason;
    } else if (w[1] == "destroy" && (w.size() == 3 || (w.size() == 4 && w[3] == "dying"))) {
        s.kind = Step::Kind::Destroy;
        s.arg = w.size() == 4 ? 1 : 0;
    } else {
        why = "bad host step";
        return std::nullopt;
    }
    return s;
}

}  // namespace

void Payload::append(std::string bytes) {
    if (bytes.empty()) return;
    if (!pieces.empty() && pieces.back().kind == Piece::Kind::Bytes) pieces.back().bytes += bytes;
    else pieces.push_back({Piece::Kind::Bytes, std::move(bytes), 0});
}

std::string Payload::literal() const {
    std::string out;
    for (const auto& p : pieces)
        if (p.kind == Piece::Kind::Bytes) out += p.bytes;
    return out;
}

std::string to_text(const ConnRef& c) {
    switch (c.kind) {
        case ConnRef::Kind::Socket: return "s" + std::to_string(c.index);
        case ConnRef::Kind::Dom0Ring: return "r0";
        case ConnRef::Kind::Guest: return "g" + std::to_string(c.index);
    }
    return "?";
}

std::optional<ConnRef> parse_conn(std::string_view t) {
    if (t == "r0") return ConnRef{ConnRef::Kind::Dom0Ring, 0};
    auto n = t.size() > 1 ? number(t.substr(1)) : std::nullopt;
    if (!n) return std::nullopt;
    if (t[0] == 's') return ConnRef{ConnRef::Kind::Socket, *n};
    if (t[0] == 'g' && *n > 0 && *n < kDomidFirstReserved) return ConnRef{ConnRef::Kind::Guest, *n};
    return std::nullopt;
}

std::string to_text(const TxRef& t) {
    switch (t.kind) {
        case TxRef::Kind::None: return "-";
        case TxRef::Kind::Handle: return "h" + std::to_string(t.value);
        case TxRef::Kind::Raw: return "#" + std::to_string(t.value);
    }
    return "?";
}

std::string to_text(const Payload& p) {
    std::string out = "\"";
    for (const auto& piece : p.pieces) {
        if (piece.kind == Payload::Piece::Kind::Bytes) escape_bytes(out, piece.bytes);
        else out += (piece.kind == Payload::Piece::Kind::Port ? "\\p" : "\\g") + std::to_string(piece.domid) + ";";
    }
    return out + "\"";
}

std::string to_text(const Step& s) {
    switch (s.kind) {
        case Step::Kind::Request: {
            std::string out = "req " + to_text(s.conn) + " " + type_text(s.type) + " " + to_text(s.tx) + " " +
                              to_text(s.payload);
            if (s.bind) out += " bind=h" + std::to_string(*s.bind);
            return out;
        }
        case Step::Kind::Oversize: return "oversize " + to_text(s.conn) + " " + std::to_string(s.arg);
        case Step::Kind::Create: return "host create " + std::to_string(s.domid);
        case Step::Kind::Shutdown:
            return "host shutdown " + std::to_string(s.domid) + " " +
                   std::string(fakexen::shutdown_reason_name(s.arg));
        case Step::Kind::Destroy: return "host destroy " + std::to_string(s.domid) + (s.arg ? " dying" : "");
        case Step::Kind::Open: return "conn open " + to_text(s.conn);
        case Step::Kind::Close: return "conn close " + to_text(s.conn);
    }
    return "?";
}

std::optional<Step> parse_step(std::string_view line, std::string& why) {
    auto w = words(line);
    if (w.empty()) {
        why = "empty step";
        return std::nullopt;
    }
    if (w[0] == "req") return parse_request(line, why);
    if (w[0] == "host") return parse_host(w, why);
    Step s;
    auto conn = w.size() == 3 ? parse_conn(w[2]) : std::nullopt;
    if (w[0] == "oversize" && w.size() == 3 && parse_conn(w[1]) && number(w[2])) {
        s.kind = Step::Kind::Oversize;
        s.conn = *parse_conn(w[1]);
        s.arg = *number(w[2]);
        return s;
    }
    if (w[0] == "conn" && conn && conn->kind == ConnRef::Kind::Socket && (w[1] == "open" || w[1] == "close")) {
        s.kind = w[1] == "open" ? Step::Kind::Open : Step::Kind::Close;
        s.conn = *conn;
        return s;
    }
    why = "unknown step";
    return std::nullopt;
}

std::string to_text(const Script& s) {
    std::string out;
    for (const auto& c : s.comments) out += "# " + c + "\n";
    for (const auto& st : s.steps) out += to_text(st) + "\n";
    return out;
}

std::optional<Script> parse_script(std::string_view text, std::string& why) {
    Script s;
    std::size_t lineno = 0;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++lineno;
        while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
        if (line.empty()) continue;
        if (line[0] == '#') {
            s.comments.emplace_back(line.substr(line.size() > 1 && line[1] == ' ' ? 2 : 1));
            continue;
        }
        auto step = parse_step(line, why);
        if (!step) {
            why = "line " + std::to_string(lineno) + ": " + why;
            return std::nullopt;
        }
        s.steps.push_back(std::move(*step));
    }
    return s;
}

std::vector<std::string> strings_of(std::string_view payload) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        std::size_t nul = payload.find('\0', start);
        if (nul == std::string_view::npos) return out;
        out.emplace_back(payload.substr(start, nul - start));
        start = nul + 1;
    }
}

std::string absolute_path(const std::string& p, const ConnRef& conn) {
    if (p.empty() || p[0] == '/' || p[0] == '@') return p;
    return "/local/domain/" + std::to_string(conn.domid()) + "/" + p;
}

std::string request_path(const Step& s) {
    auto a = strings_of(s.payload.literal());
    return absolute_path(a.empty() ? std::string() : a[0], s.conn);
}

Step request(const ConnRef& c, std::uint32_t type, TxRef tx, std::string payload) {
    Step s;
    s.conn = c;
    s.type = type;
    s.tx = tx;
    s.payload = Payload(std::move(payload));
    return s;
}

}  // namespace xs::diff
