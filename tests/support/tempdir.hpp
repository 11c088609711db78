// A private temporary directory, removed with everything in it at the end
// (kept when $XSTORED_KEEP_TMP=1, to look at a failed run's files).
#pragma once

#include <string>
#include <string_view>

namespace xs::testing {

class TempDir {
public:
    // Creates "<$TMPDIR or /tmp>/<prefix>.XXXXXX"; throws std::runtime_error on failure.
    explicit TempDir(std::string_view prefix = "xstored-test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    // "<dir>/<name>"
    std::string file(std::string_view name) const;

private:
    std::string path_;
};

}  // namespace xs::testing
