// Error values shared by every layer: an errno code carried in tl::expected.
//
// This header is the only place that names the error library. tl::expected
// (Debian: libexpected-dev) has the monadic members (and_then, map,
// map_error, or_else) that libstdc++ 12's std::expected lacks, and it builds
// in C++11..23, which keeps the pure layers portable to a stub-domain
// toolchain whose C++ library may have no <expected>.
#pragma once

#include <tl/expected.hpp>
#include <utility>

namespace xs {

// An errno value (EINVAL, ENOENT, ...). The wire codec turns it into the
// protocol's error name; codes outside the protocol's table go out as EINVAL.
struct Error {
    int code;
    friend bool operator==(Error, Error) = default;
};

// A value or an error of any type (tools whose failures are sentences).
template <class T, class E>
using Expected = tl::expected<T, E>;
template <class E>
using Unexpected = tl::unexpected<E>;

// The daemon's error value: a T or an errno.
template <class T = void>
using Result = Expected<T, Error>;

// The error side of an Expected, for `return unexpected(e);`.
template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& e) {
    return Unexpected<std::decay_t<E>>(std::forward<E>(e));
}

inline Unexpected<Error> fail(int code) { return Unexpected<Error>(Error{code}); }
// Pass an error on: `if (!r) return fail(r.error());`
inline Unexpected<Error> fail(Error e) { return Unexpected<Error>(e); }

}  // namespace xs
