// Domain requests: GET_DOMAIN_PATH, IS_DOMAIN_INTRODUCED, INTRODUCE,
// RELEASE, RESUME, SET_TARGET, GET_FEATURE, SET_FEATURE.
#include <cerrno>

#include "daemon/daemon.hpp"
#include "store/path.hpp"
#include "transport/ring_layout.hpp"

namespace xs::daemon {

namespace {

Result<DomId> single_domid(std::string_view payload) {
    auto arg = one_arg(payload);
    if (!arg) return fail(EINVAL);
    auto d = parse_domid(*arg);
    if (!d) return fail(EINVAL);
    return *d;
}

}  // namespace

Result<> Daemon::on_get_domain_path(Request& r) {
    return single_domid(r.payload).map([&](DomId d) {
        r.out = store::home_path(d);
        r.out.push_back('\0');
    });
}

Result<> Daemon::on_is_domain_introduced(Request& r) {
    auto d = single_domid(r.payload);
    if (!d) return fail(d.error());
    const Domain* dom = domains_.find(*d);
    bool yes = *d == kDomidSelf || (dom && dom->introduced);
    r.out.assign(yes ? "T" : "F", 2);
    return {};
}

Result<> Daemon::on_introduce(Request& r) {
    Strings args = split_strings(r.payload);
    if (args.count < 3) return fail(EINVAL);
    auto d = parse_domid(args[0]);
    auto port = parse_u32(args[2]);  // args[1], the ring's frame number, is not needed: grant ref 1 is
    if (!d || !port || *port == 0 || *d >= kDomidFirstReserved) return fail(EINVAL);
    // The privileged and store domains are connected at start-up, never by request.
    if (*d == priv_domid_ || *d == store_domid()) return fail(EINVAL);
    if (!hv_) return fail(ENOSYS);  // no hypervisor: sockets only
    Result<> ok = introduce_domain(*d, *port);
    if (!ok) return ok;
    r.out.assign("OK", 3);
    return {};
}

Result<> Daemon::on_release(Request& r) {
    auto d = single_domid(r.payload);
    if (!d) return fail(d.error());
    if (*d == priv_domid_ || *d == store_domid()) return fail(EINVAL);
    const Domain* dom = domains_.find(*d);
    if (!dom || !dom->introduced) return fail(ENOENT);
    if (!find(dom->conn)) return fail(EINVAL);
    destroy_domain(*d);
    r.out.assign("OK", 3);
    return {};
}

Result<> Daemon::on_resume(Request& r) {
    auto d = single_domid(r.payload);
    if (!d) return fail(d.error());
    if (*d == priv_domid_ || *d == store_domid()) return fail(EINVAL);
    Domain* dom = domains_.find(*d);
    if (!dom || !dom->introduced) return fail(ENOENT);
    dom->shutdown_noticed = false;
    r.out.assign("OK", 3);
    return {};
}

Result<> Daemon::on_set_target(Request& r) {
    Strings args = split_strings(r.payload);
    if (args.count < 2) return fail(EINVAL);
    auto d = parse_domid(args[0]);
    auto t = parse_domid(args[1]);
    if (!d || !t) return fail(EINVAL);
    const Domain* dom = domains_.find(*d);
    const Domain* tgt = domains_.find(*t);
    if (!dom || !dom->introduced || !tgt || !tgt->introduced) return fail(ENOENT);
    Connection* c = find(dom->conn);
    if (!c) return fail(EINVAL);
    c->set_target(*t);
    r.out.assign("OK", 3);
    return {};
}

Result<> Daemon::on_get_feature(Request& r) {
    Strings args = split_strings(r.payload);
    if (args.count == 0) {
        r.out = std::to_string(r.conn.features);
        r.out.push_back('\0');
        return {};
    }
    if (!r.conn.privileged()) return fail(EACCES);
    if (args.count > 1) return fail(EINVAL);
    auto d = parse_domid(args[0]);
    if (!d) return fail(EINVAL);
    Domain* dom = known_domain(*d);
    if (!dom) return fail(ENOENT);
    r.out = std::to_string(dom->features);
    r.out.push_back('\0');
    return {};
}

Result<> Daemon::on_set_feature(Request& r) {
    Strings args = split_strings(r.payload);
    if (args.count != 2) return fail(EINVAL);
    auto d = parse_domid(args[0]);
    if (!d) return fail(EINVAL);
    // The domain before the value, as upstream (which reads the value with
    // atoi and never refuses it): an unknown domain is ENOENT either way.
    Domain* dom = known_domain(*d);
    if (!dom) return fail(ENOENT);
    auto v = parse_u32(args[1]);
    if (!v) return fail(EINVAL);
    if (dom->introduced) return fail(EBUSY);
    if (*v & ~ring::kFeaturesAll) return fail(EINVAL);
    dom->features = *v;
    r.out.assign("OK", 3);
    return {};
}

// ---------------------------------------------------------------- domain facts

// The domain's record, created for a domain the hypervisor says exists (so
// its death is noticed later, and with it the permissions naming it).
// Without a hypervisor connection every domid counts as existing: no guest
// can connect then, so there is nothing to protect.
Domain* Daemon::known_domain(DomId id) {
    if (Domain* d = domains_.find(id)) return d;
    if (id >= kDomidFirstReserved) return nullptr;
    if (!hv_) return &domains_.get(id);
    auto info = hv_->domain(id);
    if (!info || !*info) return nullptr;
    Domain& d = domains_.get(id);
    d.unique_id = (*info)->unique;
    return &d;
}

// Whether a permission entry naming `id` may take effect.
bool Daemon::perm_domain_valid(DomId id, const Connection& caller) {
    if (id == kDomidAny) return caller.features & ring::kFeatureDomidAny;
    return known_domain(id) != nullptr;
}

}  // namespace xs::daemon
