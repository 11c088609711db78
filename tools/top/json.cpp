#include "tools/top/json.hpp"

#include <charconv>
#include <cstring>

namespace xs::top {

namespace {

class Parser {
public:
    explicit Parser(std::string_view s) : s_(s) {}

    std::optional<Json> document() {
        auto v = value(0);
        skip();
        if (!v || pos_ != s_.size()) return std::nullopt;
        return v;
    }

private:
    static constexpr int kMaxDepth = 32;

    void skip() {
        while (pos_ < s_.size() && std::strchr(" \t\r\n", s_[pos_])) ++pos_;
    }
    bool eat(char c) {
        skip();
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool word(std::string_view w) {
        if (s_.substr(pos_, w.size()) != w) return false;
        pos_ += w.size();
        return true;
    }

    std::optional<Json> value(int depth) {
        skip();
        if (pos_ >= s_.size() || depth > kMaxDepth) return std::nullopt;
        Json j;
        char c = s_[pos_];
        if (c == '{') return object(depth);
        if (c == '[') return array(depth);
        if (c == '"') {
            auto t = string();
            if (!t) return std::nullopt;
            j.kind = Json::Kind::String;
            j.text = std::move(*t);
            return j;
        }
        if (word("true") || word("false")) {
            j.kind = Json::Kind::Bool;
            j.number = s_[pos_ - 2] == 'u';  // tr(u)e
            return j;
        }
        if (word("null")) return j;
        auto [end, ec] = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), j.number);
        if (ec != std::errc{}) return std::nullopt;
        pos_ = static_cast<std::size_t>(end - s_.data());
        j.kind = Json::Kind::Number;
        return j;
    }

    std::optional<std::string> string() {
        std::string out;
        ++pos_;  // the opening quote
        while (pos_ < s_.size() && s_[pos_] != '"') {
            if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
            out += s_[pos_++];
        }
        if (pos_ >= s_.size()) return std::nullopt;
        ++pos_;
        return out;
    }

    std::optional<Json> array(int depth) {
        Json j;
        j.kind = Json::Kind::Array;
        ++pos_;
        if (eat(']')) return j;
        do {
            auto v = value(depth + 1);
            if (!v) return std::nullopt;
            j.items.push_back(std::move(*v));
        } while (eat(','));
        return eat(']') ? std::optional<Json>(std::move(j)) : std::nullopt;
    }

    std::optional<Json> object(int depth) {
        Json j;
        j.kind = Json::Kind::Object;
        ++pos_;
        if (eat('}')) return j;
        do {
            skip();
            if (pos_ >= s_.size() || s_[pos_] != '"') return std::nullopt;
            auto key = string();
            if (!key || !eat(':')) return std::nullopt;
            auto v = value(depth + 1);
            if (!v) return std::nullopt;
            j.fields[*key] = std::move(*v);
        } while (eat(','));
        return eat('}') ? std::optional<Json>(std::move(j)) : std::nullopt;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

}  // namespace

const Json* Json::at(std::string_view dotted) const {
    const Json* j = this;
    while (j && !dotted.empty()) {
        std::size_t dot = dotted.find('.');
        auto it = j->fields.find(dotted.substr(0, dot));
        j = it == j->fields.end() ? nullptr : &it->second;
        dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    }
    return j;
}

double Json::num(std::string_view dotted, double fallback) const {
    const Json* j = at(dotted);
    return j && j->kind == Kind::Number ? j->number : fallback;
}

std::optional<Json> parse_json(std::string_view text) { return Parser(text).document(); }

}  // namespace xs::top
