#include "tests/differential/outcome.hpp"

#include <cstdio>

#include "transport/wire.hpp"

namespace xs::diff {

bool Reply::is_error() const { return status == Status::Message && type == wire::kError; }

std::string Reply::error() const {
    if (!is_error()) return {};
    std::string s = payload;
    if (!s.empty() && s.back() == '\0') s.pop_back();
    return s;
}

bool Reply::ok() const { return status == Status::Message && type != wire::kError; }

namespace {

std::string printable(std::string_view bytes, std::size_t max = 200) {
    std::string out;
    for (unsigned char c : bytes.substr(0, max)) {
        if (c == '\0') out += "\\0";
        else if (c >= 0x20 && c < 0x7f && c != '\\') out.push_back(static_cast<char>(c));
        else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    if (bytes.size() > max) out += "...(" + std::to_string(bytes.size()) + " bytes)";
    return out;
}

}  // namespace

std::string describe(const Reply& r) {
    switch (r.status) {
        case Reply::Status::Message:
            if (r.is_error()) return r.error();
            return std::string(wire::type_name(r.type)) + " \"" + printable(r.payload) + "\"";
        case Reply::Status::Closed: return "<socket closed>";
        case Reply::Status::NoReply: return "<no reply>";
        case Reply::Status::NotSent: return "<not connected>";
        case Reply::Status::RingError: return "<ring error " + std::to_string(r.code) + ">";
        case Reply::Status::Done: return "<done>";
        case Reply::Status::Failed: return "<failed: errno " + std::to_string(r.code) + ">";
    }
    return "?";
}

std::string describe(const Events& events) {
    std::string out = "[";
    for (const auto& e : events) {
        if (out.size() > 1) out += ", ";
        out += printable(e.path) + "|" + printable(e.token);
    }
    return out + "]";
}

}  // namespace xs::diff
