// What one daemon did for one step: the reply (or why there was none) and
// the watch events every connection received. Pure data.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/differential/step.hpp"

namespace xs::diff {

struct Reply {
    enum class Status : std::uint8_t {
        Message,    // a reply arrived (type and payload below)
        Closed,     // the daemon closed the socket
        NoReply,    // nothing within the deadline
        NotSent,    // the connection is not live on this side (not introduced, closed, ignored)
        RingError,  // the daemon set the ring's error field (`code`) and stopped serving it
        Done,       // a host step or connection step that succeeded
        Failed,     // a host step that failed (`code` is the errno)
    } status = Status::NoReply;
    std::uint32_t type = 0;  // Message
    std::string payload;     // Message
    std::uint32_t code = 0;  // RingError, Failed

    static Reply with(Status s, std::uint32_t code = 0) {
        Reply r;
        r.status = s;
        r.code = code;
        return r;
    }
    bool is_error() const;        // an ERROR reply
    std::string error() const;    // its name ("ENOENT"), or ""
    bool ok() const;              // a reply of the request's type
    friend bool operator==(const Reply&, const Reply&) = default;
};

struct Event {
    std::string path;
    std::string token;
    friend auto operator<=>(const Event&, const Event&) = default;
};
using Events = std::vector<Event>;

struct Outcome {
    Reply reply;
    // The requesting connection's events that arrived before its reply.
    Events before;
    // Every watching connection's events after the reply (the requesting
    // connection's included), collected once the step is over.
    std::map<ConnRef, Events> after;
};

// "OK", "ENOENT", "<closed>", ...: a short form for reports.
std::string describe(const Reply& r);
std::string describe(const Events& e);

}  // namespace xs::diff
