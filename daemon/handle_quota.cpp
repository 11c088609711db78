// GET_QUOTA and SET_QUOTA (privileged).
#include <cerrno>

#include "daemon/daemon.hpp"

namespace xs::daemon {

Result<> Daemon::on_get_quota(Request& r) {
    Strings args = split_strings(r.payload);
    Result<std::uint32_t> v = fail(EINVAL);
    switch (args.count) {
        case 0:
            r.out = quota::names_list();
            r.out.push_back('\0');
            return {};
        case 1: v = quotas_.get(std::nullopt, args[0]); break;
        case 2: {
            auto d = parse_domid(args[0]);
            if (!d) return fail(EINVAL);
            if (!known_domain(*d)) return fail(ENOENT);
            v = quotas_.get(*d, args[1]);
            break;
        }
        default: return fail(EINVAL);
    }
    if (!v) return fail(v.error());
    r.out = std::to_string(*v);
    r.out.push_back('\0');
    return {};
}

Result<> Daemon::on_set_quota(Request& r) {
    Strings args = split_strings(r.payload);
    std::optional<DomId> dom;
    std::size_t first = 0;
    if (args.count == 3) {
        dom = parse_domid(args[0]);
        if (!dom) return fail(EINVAL);
        if (!known_domain(*dom)) return fail(ENOENT);
        first = 1;
    } else if (args.count != 2) {
        return fail(EINVAL);
    }
    auto value = parse_u32(args[first + 1]);
    if (!value) return fail(EINVAL);
    Result<> ok = quotas_.set(dom, args[first], *value);
    if (!ok) return ok;
    r.out.assign("OK", 3);
    return {};
}

}  // namespace xs::daemon
