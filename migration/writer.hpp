// Writing a migration stream into a byte buffer. Pure code.
//
// Every record is padded to an 8-byte boundary with zeros. By default its
// length counts the padding (what the C daemon's reader expects; our reader
// accepts both); Layout::kDesign writes the length without it, as Xen's
// design document describes. Version 1 streams carry no WATCH_DATA_EXTENDED
// (depth dropped), no features in DOMAIN_DATA and no transaction records:
// add() ignores TransactionData, pending NodeData and XsTransaction there.
//
// Limits of the format are the caller's to respect: a string must fit its
// u16 length field with its NUL (paths, tokens: at most 65534 bytes; node
// and entry values at most 65535), must not contain a NUL itself (values
// may), counts must fit their fields (permissions, quotas: 65535), a
// connection's `in` is at most 65535 bytes (the rest goes into
// XsConnection::more_in), `out_partial` at most 65535 and at most `out`'s
// size, a permission grants only read and write, a record is below 4 GiB.
// A record breaking one is refused, not truncated: nothing of it is
// written, add() returns false and error() keeps the first such reason.
// The stream stays well-formed without that record; a caller that must not
// lose records checks error() before using it.
#pragma once

#include <cstdint>
#include <string>

#include "migration/records.hpp"

namespace xs::migration {

enum class ByteOrder { kLittle, kBig, kNative };
enum class Layout { kLengthWithPadding, kDesign };

struct WriterOptions {
    std::uint32_t version = kVersion2;
    ByteOrder order = ByteOrder::kNative;
    Layout layout = Layout::kLengthWithPadding;
};

class Writer {
public:
    // Writes the header at once, into `buffer`'s memory (its content is
    // dropped; a caller that reserved and touched it spares the stream the
    // cost of growing and of first touches). A version other than 1 or 2 is written as
    // given (our reader rejects it) and reported by error().
    explicit Writer(WriterOptions opts = {}, std::string buffer = {});

    // True when the record was written or deliberately left out (version 1);
    // false when it breaks a limit of the format (see above).
    bool add(const GlobalData& r);
    bool add(const ConnectionData& r);
    bool add(const WatchData& r);
    bool add(const TransactionData& r);
    bool add(const NodeData& r);
    bool add(const GlobalQuotaData& r);
    bool add(const DomainData& r);
    bool add(const XsGlobal& r);
    bool add(const XsDomain& r);
    bool add(const XsConnection& r);
    bool add(const XsTransaction& r);
    bool add(const UnknownRecord& r);  // copied as it is (tests, pass-through)
    bool add(const Record& r);

    const WriterOptions& options() const { return opts_; }
    bool big_endian() const { return big_; }
    std::size_t size() const { return out_.size(); }
    // Room for `bytes` more bytes. A caller streaming a big store should
    // reserve: growing the buffer costs more than encoding into it (copies,
    // and touching twice the memory; tests/migration/speed.cpp measures it).
    void reserve(std::size_t bytes) { out_.reserve(out_.size() + bytes); }
    // Why the first refused record was refused; empty if none was.
    const std::string& error() const { return error_; }
    // Appends END and hands the stream over; the writer is empty afterwards.
    std::string finish();

private:
    bool refuse(std::string_view record, std::string_view why);
    enum class Fill { kZero, kPaddingOnly };
    char* open(RecordType type, std::uint64_t body, Fill fill = Fill::kZero);

    WriterOptions opts_;
    bool big_ = false;
    std::string out_;
    std::string error_;
};

}  // namespace xs::migration
