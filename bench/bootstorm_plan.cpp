#include "bench/bootstorm_plan.hpp"

#include <array>
#include <cstdio>

#include "transport/wire.hpp"

namespace xs::bench {

namespace {

std::string z(const std::string& s) { return s + std::string(1, '\0'); }

PlanRequest write_req(const std::string& path, const std::string& value) {
    return {wire::kWrite, z(path) + value, Expect::kOk, {}};
}
PlanRequest mkdir_req(const std::string& path) { return {wire::kMkdir, z(path), Expect::kOk, {}}; }
PlanRequest rm_req(const std::string& path) { return {wire::kRm, z(path), Expect::kOkOrEnoent, {}}; }
PlanRequest read_req(const std::string& path, Expect e, std::string v = {}) {
    return {wire::kRead, z(path), e, std::move(v)};
}
// Owned by dom0 (a socket toolstack), readable by the guest: the guest's
// own domid as owner would be refused by a daemon that does not know it.
PlanRequest perms_req(const std::string& path, std::uint32_t domid) {
    return {wire::kSetPerms, z(path) + z("n0") + z("r" + std::to_string(domid)), Expect::kOk, {}};
}

std::string uuid_of(std::uint32_t domid) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012u", domid);
    return buf;
}

// Take `n` WRITEs from the realistic list, then pad with extra keys.
void add_writes(PlanGroup& g, const std::vector<std::pair<std::string, std::string>>& kv, std::uint64_t n,
                const std::string& extra_dir) {
    for (std::uint64_t i = 0; i < n; ++i) {
        if (i < kv.size()) g.requests.push_back(write_req(kv[i].first, kv[i].second));
        else g.requests.push_back(write_req(extra_dir + "/extra-" + std::to_string(i), "1"));
    }
}

PlanGroup domain_group(std::uint32_t domid, const BootShape& s) {
    const std::string d = "/local/domain/" + std::to_string(domid);
    const std::string vm = "/vm/" + uuid_of(domid);
    const std::string lx = "/libxl/" + std::to_string(domid);
    PlanGroup g{"domain", true, {}};
    g.requests.push_back(rm_req(d));
    g.requests.push_back(mkdir_req(d));
    g.requests.push_back(perms_req(d, domid));
    g.requests.push_back(mkdir_req(vm));
    g.requests.push_back(perms_req(vm, domid));
    g.requests.push_back(mkdir_req(lx));
    std::vector<std::pair<std::string, std::string>> kv{
        {d + "/vm", vm},
        {d + "/name", "dom" + std::to_string(domid)},
        {d + "/domid", std::to_string(domid)},
        {vm + "/uuid", uuid_of(domid)},
        {vm + "/name", "dom" + std::to_string(domid)},
        {vm + "/start_time", "1700000000.00"},
        {d + "/memory/static-max", "1048576"},
        {d + "/memory/target", "1048576"},
        {d + "/memory/videoram", "-1"},
        {d + "/cpu/0/availability", "online"},
        {d + "/cpu/1/availability", "online"},
        {d + "/control/shutdown", ""},
        {d + "/control/feature-poweroff", "1"},
        {d + "/control/feature-reboot", "1"},
        {d + "/control/feature-suspend", ""},
        {d + "/control/sysrq", ""},
        {d + "/control/platform-feature-multiprocessor-suspend", "1"},
        {d + "/control/platform-feature-xs_reset_watches", "1"},
        {d + "/data", ""},
        {d + "/drivers", ""},
        {d + "/feature", ""},
        {d + "/attr", ""},
        {d + "/error", ""},
        {d + "/store/port", "1"},
        {d + "/store/ring-ref", "1044476"},
        {d + "/console/port", "2"},
        {d + "/console/ring-ref", "1044477"},
        {d + "/console/limit", "1048576"},
        {d + "/console/type", "xenconsoled"},
        {d + "/image/os_type", "linux"},
        {lx + "/type", "pvh"},
        {lx + "/dm-version", "qemu_xen"},
    };
    add_writes(g, kv, s.writes, d + "/data");
    return g;
}

PlanGroup device_group(std::uint32_t domid, std::uint64_t index, const BootShape& s) {
    const std::string kind = device_kind(index);
    const std::string devid = std::to_string(index);
    const std::string dom = std::to_string(domid);
    const std::string fe = "/local/domain/" + dom + "/device/" + kind + "/" + devid;
    const std::string be = "/local/domain/0/backend/" + kind + "/" + dom + "/" + devid;
    const std::string lx = "/libxl/" + dom + "/device/" + kind + "/" + devid;
    PlanGroup g{kind + "/" + devid, true, {}};
    // libxl looks for an existing device first.
    g.requests.push_back(read_req(fe + "/backend", Expect::kEnoent));
    g.requests.push_back(rm_req(be));
    g.requests.push_back(mkdir_req(fe));
    g.requests.push_back(perms_req(fe, domid));
    g.requests.push_back(mkdir_req(be));
    g.requests.push_back(perms_req(be, domid));
    std::vector<std::pair<std::string, std::string>> kv{
        {fe + "/backend", be},          {fe + "/backend-id", "0"},    {fe + "/state", "1"},
        {be + "/frontend", fe},         {be + "/frontend-id", dom},   {be + "/state", "1"},
        {be + "/online", "1"},          {fe + "/handle", devid},      {be + "/handle", devid},
        {lx + "/frontend", fe},         {lx + "/backend", be},        {lx + "/frontend-id", dom},
        {lx + "/online", "1"},          {lx + "/state", "1"},         {be + "/script", "/etc/xen/scripts/" + kind},
        {be + "/type", kind},           {fe + "/mac", "00:16:3e:00:00:01"}, {be + "/mac", "00:16:3e:00:00:01"},
        {be + "/bridge", "xenbr0"},     {fe + "/mtu", "1500"},        {be + "/mtu", "1500"},
        {be + "/hotplug-status", ""},   {fe + "/event-channel", ""},  {fe + "/tx-ring-ref", ""},
        {fe + "/rx-ring-ref", ""},      {fe + "/request-rx-copy", "1"}, {fe + "/feature-rx-notify", "1"},
        {be + "/feature-sg", "1"},      {be + "/feature-gso-tcpv4", "1"}, {be + "/feature-rx-copy", "1"},
    };
    add_writes(g, kv, s.writes, be);
    return g;
}

}  // namespace

std::string device_kind(std::uint64_t i) {
    static const std::array<const char*, 5> kinds{"vif", "vbd", "console", "vkbd", "qdisk"};
    return kinds[i % kinds.size()];
}

DomainPlan make_domain_plan(std::uint32_t domid, const BootShape& s) {
    DomainPlan p;
    p.domid = domid;
    const std::string dom = std::to_string(domid);
    const std::string d = "/local/domain/" + dom;
    p.groups.push_back(domain_group(domid, s));
    PlanGroup watches{"watches", false, {}};
    PlanGroup unwatches{"unwatches", false, {}};
    PlanGroup teardown{"teardown", true, {}};
    for (std::uint64_t i = 0; i < s.devices; ++i) {
        p.groups.push_back(device_group(domid, i, s));
        std::string state = "/local/domain/0/backend/" + device_kind(i) + "/" + dom + "/" + std::to_string(i) + "/state";
        std::string token = "bs/" + dom + "/" + std::to_string(i);
        watches.requests.push_back({wire::kWatch, z(state) + z(token), Expect::kOk, {}});
        unwatches.requests.push_back({wire::kUnwatch, z(state) + z(token), Expect::kOk, {}});
        teardown.requests.push_back(rm_req("/local/domain/0/backend/" + device_kind(i) + "/" + dom));
    }
    PlanGroup verify{"verify", false, {read_req(d + "/name", Expect::kValue, "dom" + dom)}};
    p.groups.push_back(std::move(watches));
    p.groups.push_back(std::move(verify));
    p.create_groups = p.groups.size();

    teardown.requests.push_back(rm_req(d));
    teardown.requests.push_back(rm_req("/vm/" + uuid_of(domid)));
    teardown.requests.push_back(rm_req("/libxl/" + dom));
    p.groups.push_back(std::move(unwatches));
    p.groups.push_back(std::move(teardown));
    p.groups.push_back(PlanGroup{"gone", false, {read_req(d + "/name", Expect::kEnoent)}});
    return p;
}

}  // namespace xs::bench
