// The requests one "toolstack" sends to create and destroy one domain, in
// the shape libxl gives them: a transaction for the domain's own nodes,
// one transaction per device (frontend, backend and /libxl nodes), watches
// on the backends' state nodes, then a teardown transaction. Pure code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xs::bench {

// What a request's reply must be (checked unless in echo mode).
enum class Expect {
    kOk,          // any success
    kOkOrEnoent,  // success or ENOENT (RM of what may not exist)
    kEnoent,      // ENOENT
    kValue,       // success with exactly `value`
};

struct PlanRequest {
    std::uint32_t type;
    std::string payload;
    Expect expect = Expect::kOk;
    std::string value;  // for kValue
};

// A group of requests: inside one transaction (retried whole on EAGAIN at
// commit) or sent plainly one after another.
struct PlanGroup {
    std::string label;  // "domain", "vif/0", "watches", ...
    bool transaction = false;
    std::vector<PlanRequest> requests;
};

struct DomainPlan {
    std::uint32_t domid = 0;
    std::vector<PlanGroup> groups;
    // groups[0, create_groups) create the domain; the rest tear it down.
    std::size_t create_groups = 0;
};

struct BootShape {
    std::uint64_t writes = 30;   // WRITEs per transaction
    std::uint64_t devices = 3;   // device transactions
};

// The plan for domain `domid`. Every node it creates lies under
// /local/domain/<domid>, /vm/<uuid>, /libxl/<domid> or
// /local/domain/0/backend/<type>/<domid>.
DomainPlan make_domain_plan(std::uint32_t domid, const BootShape& shape);

// The device kind of device transaction `i` ("vif", "vbd", ...).
std::string device_kind(std::uint64_t i);

}  // namespace xs::bench
