// The named values of xstored's own records (docs/migration-stream.md):
// one place for the names, shared by the encoder and the decoder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quota/items.hpp"

namespace xs::migration::names {

// XS_GLOBAL
inline constexpr std::string_view kGeneration = "generation";
inline constexpr std::string_view kLiveUpdates = "live-updates";
// The figures CONTROL stats counts "since start": they outlive updates.
inline constexpr std::string_view kRequests = "requests";
inline constexpr std::string_view kQuotaRefusals = "quota-refusals";
inline constexpr std::string_view kStartedNs = "started-ns";  // wall clock, ns since 1970
inline constexpr std::string_view kHeldReplyConn = "held-reply-conn";  // connection id in the stream
inline constexpr std::string_view kHeldReplyReq = "held-reply-req";
// XS_DOMAIN
inline constexpr std::string_view kDomainFlags = "flags";
inline constexpr std::uint64_t kShutdownNoticed = 0x1;
inline constexpr std::string_view kUniqueId = "unique-id";
inline constexpr std::string_view kCreditMicro = "credit-micro";  // credit x 1e6, two's complement
inline constexpr std::string_view kCreditTime = "credit-time-ns";
// XS_CONNECTION
inline constexpr std::string_view kConnFlags = "flags";
inline constexpr std::uint64_t kIgnored = 0x1;
inline constexpr std::uint64_t kInputPaused = 0x2;
inline constexpr std::string_view kLastTxId = "last-tx-id";
// XS_GLOBAL and XS_DOMAIN: the high-water mark of a quota item, "max-nodes".
inline std::string max_name(quota::Item item) { return "max-" + std::string(quota::name(item)); }
std::optional<quota::Item> parse_max_name(std::string_view name);

}  // namespace xs::migration::names
