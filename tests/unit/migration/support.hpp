// Helpers for the migration tests: streams made by hand (integers stored
// with explicit shifts, independent of migration/bytes.hpp, so a byte-order
// bug shared by the reader and the writer cannot pass), storage for the
// views the records hold, and a loop over a stream's records.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "migration/reader.hpp"
#include "migration/writer.hpp"

namespace xs::migration::test {

// "78656e73 746f7265" -> bytes (spaces and newlines ignored).
std::string unhex(std::string_view hex);
// Bytes as hex, 8 per group (failure messages).
std::string hex(std::string_view bytes);

// Little- or big-endian bytes built field by field.
class Bytes {
public:
    explicit Bytes(bool big = false) : big_(big) {}
    Bytes& u8(std::uint8_t v) { return put(v, 1); }
    Bytes& u16(std::uint16_t v) { return put(v, 2); }
    Bytes& u32(std::uint32_t v) { return put(v, 4); }
    Bytes& u64(std::uint64_t v) { return put(v, 8); }
    Bytes& raw(std::string_view s) { s_ += s; return *this; }
    Bytes& str(std::string_view s) { s_ += s; s_ += '\0'; return *this; }
    Bytes& zeros(std::size_t n) { s_.append(n, '\0'); return *this; }
    Bytes& pad8() { return zeros((8 - s_.size() % 8) % 8); }
    const std::string& bytes() const { return s_; }
    std::size_t size() const { return s_.size(); }

private:
    Bytes& put(std::uint64_t v, int n);
    bool big_;
    std::string s_;
};

// A stream header; a record (header, body, zero padding) with its length
// counting the padding or not.
std::string stream_header(std::uint32_t version, bool big, std::uint32_t flags_extra = 0);
std::string record(std::uint32_t type, std::string_view body, bool big, bool length_with_padding = true);
std::string end_record(bool big);

// Keeps copies alive for the views of the records a test builds.
class Keep {
public:
    std::string_view str(std::string s) { return *hold(std::move(s)); }
    template <class T>
    std::span<const T> span(std::vector<T> v) {
        return *hold(std::move(v));
    }

private:
    template <class T>
    const T* hold(T v) {
        auto p = std::make_shared<const T>(std::move(v));
        held_.push_back(p);
        return p.get();
    }
    std::vector<std::shared_ptr<const void>> held_;
};

// Calls f(record, reader) for every record up to END; returns the error
// that stopped it, if one did.
template <class F>
std::optional<ParseError> for_each_record(std::string_view stream, F f) {
    auto r = Reader::open(stream);
    if (!r) return r.error();
    for (;;) {
        auto rec = r->next();
        if (!rec) return rec.error();
        if (!*rec) return std::nullopt;
        f(**rec, *r);
    }
}

// The error a stream gives (describe()), or "" if it reads to END.
std::string stream_error(std::string_view stream);

// One record of every type (several of some: ring and socket connections,
// committed, pending and deleted nodes, watches with and without depth).
std::vector<Record> sample_records(Keep& keep);

// What a reader gives back for `records` written with `opts`: version 1
// drops transactions, pending nodes, watch depths and domain features; a
// length that counts the padding gives unknown records their padding.
std::vector<Record> as_read_back(std::span<const Record> records, WriterOptions opts, Keep& keep);

// Reads `stream` and checks that its records equal `expected` (doctest).
void check_records(std::string_view stream, std::span<const Record> expected);

// The stream `w` makes from `records`.
std::string write_stream(WriterOptions opts, std::span<const Record> records);

std::string read_file(const std::string& path);
void write_file(const std::string& path, std::string_view bytes);

}  // namespace xs::migration::test
