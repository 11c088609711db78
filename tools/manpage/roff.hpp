// Text into roff: backslashes and hyphens escaped, a leading dot or quote
// guarded, so any sentence from the option table is safe in a man page.
#pragma once

#include <string>
#include <string_view>

namespace xs::manpage {

inline std::string escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') out += "\\e";
        else if (c == '-') out += "\\-";
        else out += c;
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
    return out;
}

}  // namespace xs::manpage
