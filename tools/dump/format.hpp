// Text for xstore-dump: one record as readable lines, and the totals of a
// stream. Pure code (strings in, strings out).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "migration/records.hpp"

namespace xs::dump {

// `s` in double quotes; quote, backslash and non-printable bytes escaped
// (\n, \t, \r, \xHH).
std::string quote(std::string_view s);

// The record's lines (no trailing newline): a first line with its offset,
// type, length field and fields, then indented lines for what it holds
// (messages of a connection's data, transaction entries).
struct Frame {
    std::uint64_t offset = 0;
    std::uint32_t type = 0;
    std::uint32_t length = 0;
    bool big_endian = false;  // the stream's order (also the messages' in its data)
};
std::string describe(const Frame& f, const migration::Record& r);

// Counts of a stream, for the summary.
class Totals {
public:
    void add(const Frame& f, const migration::Record& r);
    void end(const Frame& f) { count(f); }
    // "summary: ..." and its lines (no trailing newline).
    std::string text(std::uint32_t version, bool big_endian, std::uint64_t stream_bytes) const;

private:
    void count(const Frame& f);
    std::map<std::uint32_t, std::uint64_t> per_type_;
    std::uint64_t records_ = 0;
    std::uint64_t unpadded_lengths_ = 0;
    std::uint64_t nodes_ = 0, pending_nodes_ = 0, path_bytes_ = 0, value_bytes_ = 0;
};

}  // namespace xs::dump
