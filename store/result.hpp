// Error values shared by every layer: an errno code carried in std::expected.
#pragma once

#include <expected>

namespace xs {

// An errno value (EINVAL, ENOENT, ...). The wire codec turns it into the
// protocol's error name; codes outside the protocol's table go out as EINVAL.
struct Error {
    int code;
    friend bool operator==(Error, Error) = default;
};

template <class T = void>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(int code) { return std::unexpected(Error{code}); }

}  // namespace xs
