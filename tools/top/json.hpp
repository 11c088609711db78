// Just enough JSON for xstore-top to read CONTROL stats -j: objects,
// arrays, numbers, strings (without escapes beyond \" and \\), true, false,
// null. Errors are values: nullopt for text that is not such JSON.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xs::top {

struct Json {
    enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
    double number = 0;
    std::string text;
    std::vector<Json> items;
    std::map<std::string, Json, std::less<>> fields;

    // A field of an object ("requests.total" walks into objects); nullptr
    // when absent.
    const Json* at(std::string_view dotted) const;
    // The number at `dotted`, or `fallback`.
    double num(std::string_view dotted, double fallback = 0) const;
};

std::optional<Json> parse_json(std::string_view text);

}  // namespace xs::top
