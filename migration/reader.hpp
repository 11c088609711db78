// Reading a migration stream: the header, then one record at a time, in
// either byte order, version 1 or 2. Pure code on a byte buffer.
//
// Lenient where Xen's design says so: unknown record types come back as
// UnknownRecord (the caller skips them), padding is skipped whether or not
// a record's length includes it (the C daemon counts it, the design does
// not), fields a version does not define are ignored, and the C daemon's
// misplaced WATCH_DATA_EXTENDED strings are accepted (depth unlimited;
// docs/migration-stream.md). Strict where
// corruption would hurt: a truncated header or record, a length past the
// end, a string without its NUL, counts that do not fit the record, bytes
// after END, or no END at all are errors naming the record and its offset.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "migration/records.hpp"

namespace xs::migration {

// Why a stream cannot be read: a sentence, the type of the record it
// concerns (kNoRecord for the header) and that record's byte offset.
struct ParseError {
    static constexpr std::uint32_t kNoRecord = 0xFFFFFFFF;
    std::string message;
    std::uint32_t type = kNoRecord;
    std::uint64_t offset = 0;
    // "record NODE_DATA at offset 4096: path not NUL-terminated"
    std::string describe() const;
};

template <class T>
using Parsed = Expected<T, ParseError>;

class Reader {
public:
    // Checks the header (ident, version 1 or 2, endianness flag).
    static Parsed<Reader> open(std::string_view stream);

    std::uint32_t version() const { return version_; }
    bool big_endian() const { return big_endian_; }

    // The next record, or nullopt once END was read. The record's views
    // point into the stream (and, for permissions and other arrays, into
    // this reader, valid until the next call).
    Parsed<std::optional<Record>> next();
    // Offset, type and length field of the record last returned (for the
    // caller's own errors, and for tools that show the stream).
    std::uint64_t offset() const { return offset_; }
    std::uint32_t type() const { return type_; }
    std::uint32_t length() const { return length_; }
    // A ParseError about the record last returned.
    ParseError error(std::string message) const { return ParseError{std::move(message), type_, offset_}; }

private:
    Reader(std::string_view stream, std::uint32_t version, bool big_endian);
    Expected<Record, std::string> decode(std::uint32_t type, std::string_view body, std::uint64_t& used);
    Parsed<std::optional<Record>> end(std::size_t left);

    std::string_view stream_;
    std::size_t pos_ = 0;
    std::uint32_t version_ = 0;
    bool big_endian_ = false;
    bool ended_ = false;
    std::uint64_t offset_ = 0;
    std::uint32_t type_ = ParseError::kNoRecord;
    std::uint32_t length_ = 0;
    // Decoded arrays of the last record (records hold spans into them).
    std::vector<store::PermEntry> perms_;
    std::vector<NamedValue> named_;
    std::vector<NamedValue> named2_;
    std::vector<NamedValue64> named64_;
    std::vector<XsConnection::OutInfo> out_info_;
    std::vector<XsTransaction::Entry> entries_;
    std::vector<store::PermEntry> entry_perms_;
    std::vector<XsTransaction::Delta> deltas_;
};
}  // namespace xs::migration
