#include "tests/support/tempdir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace xs::testing {

TempDir::TempDir(std::string_view prefix) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = (base && *base) ? base : "/tmp";
    tmpl += '/';
    tmpl += prefix;
    tmpl += ".XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) {
        throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
    }
    path_ = buf.data();
}

TempDir::~TempDir() {
    const char* keep = std::getenv("XSTORED_KEEP_TMP");
    if (keep && std::string_view(keep) == "1") return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(std::string_view name) const {
    std::string p = path_;
    p += '/';
    p += name;
    return p;
}

}  // namespace xs::testing
