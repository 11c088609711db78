// Writing a migration stream into a byte buffer. Pure code.
//
// Every record is padded to an 8-byte boundary with zeros. By default its
// length counts the padding (what the C daemon's reader expects; our reader
// accepts both); Layout::kDesign writes the length without it, as Xen's
// design document describes. Version 1 streams carry no WATCH_DATA_EXTENDED
// (depth dropped), no features in DOMAIN_DATA and no transaction records:
// add() ignores TransactionData, pending NodeData and XsTransaction there.
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
    // Writes the header at once.
    explicit Writer(WriterOptions opts = {});

    void add(const GlobalData& r);
    void add(const ConnectionData& r);
    void add(const WatchData& r);
    void add(const TransactionData& r);
    void add(const NodeData& r);
    void add(const GlobalQuotaData& r);
    void add(const DomainData& r);
    void add(const XsGlobal& r);
    void add(const XsDomain& r);
    void add(const XsConnection& r);
    void add(const XsTransaction& r);
    void add(const UnknownRecord& r);  // copied as it is (tests, pass-through)
    void add(const Record& r);

    const WriterOptions& options() const { return opts_; }
    std::size_t size() const { return out_.size(); }
    // Appends END and hands the stream over; the writer is empty afterwards.
    std::string finish();

private:
    WriterOptions opts_;
    std::string out_;
};

}  // namespace xs::migration
