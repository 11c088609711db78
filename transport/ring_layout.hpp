// Layout of the shared xenstore ring page (struct xenstore_domain_interface)
// and the constants that go with it. Facts from Xen's docs/misc/xenstore-ring.txt.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xs::ring {

inline constexpr std::uint32_t kRingSize = 1024;  // bytes in each direction
inline constexpr std::size_t kPageSize = 4096;

// Feature bits the server advertises in server_features.
inline constexpr std::uint32_t kFeatureReconnection = 1u << 0;
inline constexpr std::uint32_t kFeatureError = 1u << 1;
inline constexpr std::uint32_t kFeatureWatchDepth = 1u << 2;
inline constexpr std::uint32_t kFeatureDomidAny = 1u << 3;
inline constexpr std::uint32_t kFeaturesAll =
    kFeatureReconnection | kFeatureError | kFeatureWatchDepth | kFeatureDomidAny;

// Values of the connection field.
inline constexpr std::uint32_t kConnected = 0;
inline constexpr std::uint32_t kReconnect = 1;

// Values of the error field.
inline constexpr std::uint32_t kErrorNone = 0;
inline constexpr std::uint32_t kErrorComm = 1;
inline constexpr std::uint32_t kErrorRingIdx = 2;
inline constexpr std::uint32_t kErrorProto = 3;

// Grant reference the toolstack reserves for the xenstore page.
inline constexpr std::uint32_t kGrantRefXenstore = 1;

struct Interface {
    char req[kRingSize];   // guest -> daemon
    char rsp[kRingSize];   // daemon -> guest
    std::uint32_t req_cons, req_prod;
    std::uint32_t rsp_cons, rsp_prod;
    std::uint32_t server_features;
    std::uint32_t connection;
    std::uint32_t error;
    std::uint32_t evtchn_port;  // non-zero: the port to bind instead of INTRODUCE's
};

static_assert(offsetof(Interface, req_cons) == 2048);
static_assert(offsetof(Interface, rsp_prod) == 2060);
static_assert(offsetof(Interface, server_features) == 2064);
static_assert(offsetof(Interface, connection) == 2068);
static_assert(offsetof(Interface, error) == 2072);
static_assert(offsetof(Interface, evtchn_port) == 2076);
static_assert(sizeof(Interface) <= kPageSize);

inline constexpr std::uint32_t mask(std::uint32_t idx) { return idx & (kRingSize - 1); }

}  // namespace xs::ring
