// Every filtering rule of the differential run, in one place (see
// rules.hpp). Each names the documentation of the decision it stands for;
// docs/conformance.md ("Differential testing") lists them.
#include "tests/differential/rules.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

#include "tests/differential/upstream.hpp"
#include "transport/wire.hpp"

namespace xs::diff {

namespace {

// ---------------------------------------------------------------- helpers

std::uint32_t type(const View& v) { return v.step.is_request() ? v.step.type : ~0u; }
std::vector<std::string> args(const View& v) { return strings_of(v.step.payload.literal()); }
bool is(const Reply& r, std::string_view err) { return r.is_error() && r.error() == err; }

std::vector<std::string> names(const Reply& r) { return strings_of(r.payload); }

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}


// `path` is `top` or beneath it.
bool within(const std::string& path, const std::string& top) {
    return path == top || (path.starts_with(top) && path.size() > top.size() && (top == "/" || path[top.size()] == '/'));
}

// A permission entry's domid as Xen's C daemon reads it (strtol, base 0).
std::optional<long> c_perm_domid(std::string_view entry) {
    if (entry.size() < 2) return std::nullopt;
    std::string num(entry.substr(1));
    char* end = nullptr;
    long v = std::strtol(num.c_str(), &end, 0);
    if (end == num.c_str() || *end != '\0') return std::nullopt;
    return v;
}

// SET_PERMS: the permission entries (after the path).
std::vector<std::string> perm_entries(const View& v) {
    auto a = args(v);
    if (!a.empty()) a.erase(a.begin());
    return a;
}

// ---------------------------------------------------------------- predicates

// docs/architecture.md "Children order": DIRECTORY lists children sorted by
// name, the C daemon in insertion order.
bool sorted_directory(const View& v) {
    return type(v) == wire::kDirectory && v.x.reply.ok() && v.c.reply.ok() &&
           names(v.x.reply) == sorted(names(v.c.reply));
}

// docs/conformance.md rows 23-26 (spec README decision 1): GET/SET_FEATURE
// and GET/SET_QUOTA are Xen 4.21/4.22 messages; 4.17 answers ENOSYS.
// xstored's reply must still be upstream's (upstream.hpp), where the step
// says what that is.
bool newer_message_types(const View& v) {
    std::uint32_t t = type(v);
    if (t < wire::kGetFeature || t > wire::kSetQuota || !is(v.c.reply, "ENOSYS")) return false;
    auto answers = upstream_newer_reply(v);
    return answers.empty() || std::any_of(answers.begin(), answers.end(), [&](const std::string& a) {
               return a == "OK" ? v.x.reply.ok() : is(v.x.reply, a);
           });
}

Effect newer_message_types_effect(const View& v) {
    bool changed = v.x.reply.ok() && (type(v) == wire::kSetFeature || type(v) == wire::kSetQuota);
    return changed ? Effect::EndEpisode : Effect::None;
}

// docs/conformance.md rows 8-10, 17-19 (spec README decision 2): domids,
// ports and quota values are parsed strictly (upstream 4.22 too, mostly);
// 4.17 uses atoi(), so garbage reads as a number (often 0) there.
bool strict_domid_syntax(const View& v) {
    auto a = args(v);
    std::vector<std::pair<std::size_t, std::uint64_t>> numbers;  // argument, largest value
    switch (type(v)) {
        case wire::kIntroduce: numbers = {{0, kDomidFirstReserved - 1}, {2, 0xFFFFFFFFu}}; break;
        case wire::kSetTarget: numbers = {{0, 0xFFFF}, {1, 0xFFFF}}; break;
        case wire::kRelease:
        case wire::kResume:
        case wire::kIsDomainIntroduced:
        case wire::kGetDomainPath: numbers = {{0, 0xFFFF}}; break;
        case wire::kDirectoryPart: numbers = {{1, 0xFFFFFFFFu}}; break;
        case wire::kControl: break;
        default: return false;
    }
    if (type(v) == wire::kControl && a.size() == 4 && a[0] == "quota" && a[1] == "set") numbers = {{3, 0xFFFFFFFFu}};
    if (!is(v.x.reply, "EINVAL")) return false;
    return std::any_of(numbers.begin(), numbers.end(),
                       [&](auto n) { return n.first < a.size() && !strict_number(a[n.first], n.second); });
}

// What 4.17 did with the number it read may have changed its state.
Effect changed_if_c_ok(const View& v) {
    bool state = type(v) == wire::kIntroduce || type(v) == wire::kRelease || type(v) == wire::kResume ||
                 type(v) == wire::kSetTarget || type(v) == wire::kSetPerms || type(v) == wire::kControl;
    return state && v.c.reply.ok() ? Effect::EndEpisode : Effect::None;
}

// Every entry of `part`, in order, is in `whole`.
bool is_subsequence(const std::vector<std::string>& part, const std::vector<std::string>& whole) {
    std::size_t i = 0;
    for (const std::string& w : whole)
        if (i < part.size() && part[i] == w) ++i;
    return i == part.size();
}

// docs/architecture.md "Domains" (upstream 4.22): a dead or released
// domain's permission entries are removed from every node; 4.17 keeps
// them, flagged stale, and lists them.
bool dead_domain_perms(const View& v) {
    if (type(v) != wire::kGetPerms || !v.x.reply.ok() || !v.c.reply.ok()) return false;
    auto c = names(v.c.reply);
    auto x = names(v.x.reply);
    // xstored's list is 4.17's with some entries of destroyed or released
    // domains left out: an entry may also name a domain that had already
    // gone when it was set (both keep that one).
    auto drop_dead = [&](std::vector<std::string> list) {
        for (std::size_t i = list.size(); i-- > 1;) {
            auto d = c_perm_domid(list[i]);
            if (d && *d >= 0 && *d < kDomidFirstReserved && v.ep.destroyed.count(static_cast<DomId>(*d)))
                list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
        }
        return list;
    };
    return is_subsequence(x, c) && drop_dead(c) == drop_dead(x);
}

// The C daemon closed the connection or went silent (it may have died).
bool c_gone(const Reply& r) { return r.status == Reply::Status::Closed || r.status == Reply::Status::NoReply; }

// cxenstored.md section 11, quirk 7: Xen 4.17 answers a single-argument
// request whose payload is not exactly one string with a stale errno.
bool c417_stale_errno_shape(const View& v) {
    switch (type(v)) {
        case wire::kRead:
        case wire::kMkdir:
        case wire::kRm:
        case wire::kDirectory:
        case wire::kGetPerms: break;
        default: return false;
    }
    std::string p = v.step.payload.literal();
    return p.empty() || p.find('\0') != p.size() - 1;
}

bool c417_stale_errno(const View& v) {
    return c417_stale_errno_shape(v) && is(v.x.reply, "EINVAL") && v.c.reply.is_error();
}

// ... and so does its SET_PERMS of a special name it refuses (any but the
// two it keeps, or from an unprivileged caller: cxenstored.md 1.7).
bool c417_special_set_perms_shape(const View& v) {
    auto a = args(v);
    return type(v) == wire::kSetPerms && !a.empty() && a[0].starts_with('@');
}

// When that stale errno is 0, 4.17 sends nothing and fails an assertion
// (conn->in == NULL in consider_message): it dies. xstored answered with an
// error. Checked before every other rule, which would see a closed
// connection as an answer.
bool c417_assertion(const View& v) {
    bool shape = c417_stale_errno_shape(v) || c417_special_set_perms_shape(v);
    return shape && v.x.reply.is_error() && c_gone(v.c.reply);
}

// Spec README decision 1, docs/conformance.md row 14: DOMID_ANY (32757)
// entries grant every domain (callers with the feature); 4.17 knows no such
// domain and stores them inactive (an owner so named is refused, ENOENT).
bool names_domid_any(const View& v) {
    if (type(v) != wire::kSetPerms) return false;
    auto entries = perm_entries(v);
    return std::any_of(entries.begin(), entries.end(), [](const std::string& e) { return c_perm_domid(e) == 32757; });
}

// ... and once such a list is stored, the daemons grant differently.
bool domid_any_stored(const View& v) { return names_domid_any(v) && v.x.reply.ok(); }

Effect end_episode(const View&) { return Effect::EndEpisode; }

// An entry xstored's parser takes: r/w/b/n, then a number strtol(..., 0)
// reads whole (decimal, 0x-hex, 0-octal) with no sign or space, at most 65535.
bool strict_perm_entry(std::string_view e) {
    if (e.size() < 2 || std::string_view("rwbn").find(e[0]) == std::string_view::npos) return false;
    if (e[1] == '+' || e[1] == '-' || e[1] == ' ') return false;
    auto v = c_perm_domid(e);
    return v && *v >= 0 && *v <= 0xFFFF && !std::isspace(static_cast<unsigned char>(e[1]));
}

// docs/conformance.md row 14: entry domids are numbers as strtol(..., 0)
// reads them, without signs or spaces and at most 65535; 4.17 takes those
// too (and any size).
bool strict_perm_syntax(const View& v) {
    if (type(v) != wire::kSetPerms || !is(v.x.reply, "EINVAL")) return false;
    auto entries = perm_entries(v);
    return std::any_of(entries.begin(), entries.end(), [](const std::string& e) {
        bool c_reads = e.size() >= 2 && std::string_view("rwbn").find(e[0]) != std::string_view::npos &&
                       c_perm_domid(e).has_value();
        return c_reads && !strict_perm_entry(e);
    });
}

// 4.17 took the list (it did not say EINVAL): it went on, gave the
// domains the entries name a record (CONTROL quota <domid> shows them) and
// maybe changed the node, whatever it answered.
Effect c_read_the_list(const View& v) { return is(v.c.reply, "EINVAL") ? Effect::None : Effect::EndEpisode; }

// cxenstored.md 1.7 GET_PERMS (spec README decision 1): upstream serves
// the special nodes' permissions; 4.17 answers EINVAL for any '@' path.
bool special_node_perms(const View& v) {
    auto a = args(v);
    return type(v) == wire::kGetPerms && !a.empty() && a[0].starts_with('@') && is(v.c.reply, "EINVAL");
}

// cxenstored.md 4.1 (decision 1): upstream checks a special watch path like
// any path (characters, no trailing or double '/'); 4.17 only its length.
bool bad_path_syntax(std::string_view p) {
    static constexpr std::string_view kChars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-/_@";
    return p.find_first_not_of(kChars) != std::string_view::npos || (p.size() > 1 && p.back() == '/') ||
           p.find("//") != std::string_view::npos;
}

bool special_watch_syntax(const View& v) {
    auto a = args(v);
    bool watch = type(v) == wire::kWatch || type(v) == wire::kUnwatch;
    // 4.17 takes the path and may then refuse the watch for its quota (E2BIG).
    bool c_took_path = v.c.reply.ok() || (type(v) == wire::kWatch && is(v.c.reply, "E2BIG"));
    return watch && !a.empty() && a[0].starts_with('@') && bad_path_syntax(a[0]) && is(v.x.reply, "EINVAL") &&
           c_took_path;
}

Effect undo_watch(const View& v) { return type(v) == wire::kWatch ? Effect::UndoWatch : Effect::EndEpisode; }

// cxenstored.md 7.2/7.3 (decision 1): CONTROL texts are upstream 4.22's
// (help, quota tables, log switches); 4.17 words them differently.
bool control_texts(const View& v) {
    auto a = args(v);
    static const std::vector<std::string> kTexts = {"help", "quota", "quota-soft", "log"};
    return type(v) == wire::kControl && !a.empty() && v.x.reply.ok() && v.c.reply.ok() &&
           std::find(kTexts.begin(), kTexts.end(), a[0]) != kTexts.end();
}

// Spec README decision 4, docs/architecture.md "Transactions": a
// transaction commits iff every reply it gave would be the same now; 4.17
// fails it (EAGAIN) when any node it touched changed, and reads nodes it
// had not touched yet as they are now, not as they were at its start.
bool tx_conflict(const View& v) {
    const TxInfo* t = v.ep.tx_of(v.step);
    if (type(v) != wire::kTransactionEnd || !t || !(t->outside_change || t->quota_change)) return false;
    if (v.step.payload.literal() != std::string_view("T\0", 2)) return false;
    return (v.x.reply.ok() && is(v.c.reply, "EAGAIN")) || (v.c.reply.ok() && is(v.x.reply, "EAGAIN"));
}


// Whether a change committed outside the transaction since it started
// touched a path its own changes named (a domain's death: anywhere).
bool touched_outside(const Episode& ep, const TxInfo& t) {
    for (const std::string& mine : ep.changed_paths(t)) {
        if (t.outside_anywhere) return true;
        for (const std::string& theirs : t.outside_paths)
            if (within(mine, theirs) || within(theirs, mine)) return true;
    }
    return false;
}

// Running the requests again on the other daemon is what the commit
// amounted to only when nothing outside touched what they changed: a
// change that was a no-op on xstored's snapshot (an RM of a node created
// since, a MKDIR of one removed since) made the transaction read-only
// there, serialised at its start. A quota lowered since the start can
// refuse the replay (decision 4 counts a reply that would now be ENOSPC as
// a change). Either way: start afresh.
Effect replay_tx(const View& v) {
    const TxInfo* t = v.ep.tx_of(v.step);
    return t && (t->quota_change || touched_outside(v.ep, *t)) ? Effect::EndEpisode : Effect::ReplayTx;
}

bool tx_snapshot(const View& v) {
    const TxInfo* t = v.ep.tx_of(v.step);
    return t && (t->outside_change || t->quota_change) && type(v) != wire::kTransactionEnd;
}

// A change inside such a transaction that only one daemon made: both may
// then commit different contents (found by the long run: a write whose path
// 4.17 refuses as too long, in a transaction that saw a quota change).
Effect tx_change_on_one_side(const View& v) {
    return modifies(type(v)) && v.x.reply.ok() != v.c.reply.ok() ? Effect::EndEpisode : Effect::None;
}

// Spec README decision 1, docs/conformance.md row 4: WATCH takes an
// optional depth (a third string); 4.17 refuses three strings (EINVAL).
bool watch_depth(const View& v) { return type(v) == wire::kWatch && args(v).size() == 3 && is(v.c.reply, "EINVAL"); }

// docs/conformance.md row 22: DIRECTORY_PART's generation is each daemon's
// own counter, and the children come sorted (a chunk from an offset holds
// other names, but as many bytes).
bool directory_part(const View& v) {
    if (type(v) != wire::kDirectoryPart || !v.x.reply.ok() || !v.c.reply.ok()) return false;
    auto rest = [](const std::string& p) { return p.substr(std::min(p.size(), p.find('\0') + 1)); };
    std::string x = rest(v.x.reply.payload), c = rest(v.c.reply.payload);
    bool complete = x.ends_with(std::string_view("\0\0", 2)) || x == std::string_view("\0", 1);
    if (x == c || !complete) return x == c;
    auto a = args(v);
    if (a.size() > 1 && a[1] == "0") return sorted(strings_of(x)) == sorted(strings_of(c));
    return x.size() == c.size();
}

// cxenstored.md 1.7 SET_PERMS (decision 1): upstream's special names are
// nodes with permissions like any other, so an unprivileged caller may not
// change their owner (EPERM); 4.17 keeps them aside, does not check that,
// and refuses (EINVAL for other '@' paths, EACCES for unprivileged callers)
// with, in practice, a stale errno.
bool special_set_perms(const View& v) {
    auto a = args(v);
    bool special = !a.empty() && a[0].starts_with('@');
    bool c417_took_owner = is(v.x.reply, "EPERM") && v.c.reply.ok();
    return type(v) == wire::kSetPerms && special && v.x.reply.is_error() && (v.c.reply.is_error() || c417_took_owner);
}

// cxenstored.md 6.1, 7.3 (decision 1): quota names are upstream 4.22's;
// 4.17 calls node-permissions "permissions" (xstored takes both).
bool quota_names(const View& v) {
    auto a = args(v);
    return type(v) == wire::kControl && a.size() >= 3 && a[0] == "quota" && a[1] == "set" &&
           a[2] == "node-permissions" && is(v.c.reply, "EINVAL");
}

// The replay of tx-conflict started one more transaction on one side's
// connection, so later ids there are one further on.
bool tx_replay_ids(const View& v) {
    if (type(v) != wire::kTransactionStart || !v.x.reply.ok() || !v.c.reply.ok()) return false;
    auto it = v.ep.tx_id_shift.find(v.step.conn);
    long shift = it == v.ep.tx_id_shift.end() ? 0 : it->second;
    long x = std::atol(v.x.reply.payload.c_str()), c = std::atol(v.c.reply.payload.c_str());
    return shift != 0 && x - c == shift;
}

// cxenstored.md 4.3 (decision 1; docs/conformance.md row 4): upstream fires
// @releaseDomain/<domid> and @introduceDomain/<domid>, lets every domain
// read @releaseDomain, and fires a special name when its permissions are
// set; 4.17 fires only the plain names, on domain events, to privileged
// watchers (its special permissions are n0).
bool special_watch_events(const View& v, const ConnRef& conn, const Event& e, bool on_xstored) {
    if (!on_xstored) return false;
    auto a = args(v);
    bool set_special = type(v) == wire::kSetPerms && v.x.reply.ok() && !a.empty() && a[0].starts_with('@');
    if (set_special && (e.path == a[0] || e.path.starts_with(a[0] + '/'))) return true;  // a subtree event
    for (std::string_view name : {"@releaseDomain", "@introduceDomain"}) {
        if (!e.path.starts_with(name)) continue;
        std::string_view rest = std::string_view(e.path).substr(name.size());
        if (rest.empty()) return !conn.privileged();
        return rest.size() > 1 && rest[0] == '/' && strict_number(rest.substr(1), 0xFFFF);
    }
    return false;
}

// Length after a "/local/domain/<id>/" prefix (what path-max limits).
std::size_t local_length(const std::string& p) {
    static const std::string kPrefix = "/local/domain/";
    if (!p.starts_with(kPrefix)) return p.size();
    std::size_t i = kPrefix.size(), digits = 0;
    while (i < p.size() && p[i] >= '0' && p[i] <= '9' && digits < 6) ++i, ++digits;
    if (digits == 0 || digits > 5 || i >= p.size() || p[i] != '/') return p.size();
    return p.size() - i - 1;
}

// docs/conformance.md "Rules that apply to every message" (upstream 4.22):
// path-max applies to guests only; 4.17 applies it to everyone.
bool path_max_privileged(const View& v) {
    return v.step.is_request() && v.step.conn.privileged() && local_length(request_path(v.step)) > 2048 &&
           is(v.c.reply, "EINVAL");
}

Effect path_max_effect(const View& v) {
    if (!v.x.reply.ok()) return Effect::None;
    return type(v) == wire::kWatch ? Effect::UndoWatch : (modifies(type(v)) ? Effect::EndEpisode : Effect::None);
}

// docs/conformance.md row 5 (upstream 4.22): UNWATCH checks its path
// (EINVAL); 4.17 only looks it up (ENOENT).
bool unwatch_path_check(const View& v) {
    return type(v) == wire::kUnwatch && is(v.x.reply, "EINVAL") && is(v.c.reply, "ENOENT");
}

// Found by this run (docs/conformance.md, Differential testing): in 4.17 a
// domain another one targets (SET_TARGET) outlives its death: no
// @releaseDomain, still introduced. xstored releases it.
bool c417_target_pins_domain(const View& v) {
    std::optional<DomId> gone;
    if (v.step.kind == Step::Kind::Destroy) gone = v.step.domid;
    auto a = args(v);
    if (type(v) == wire::kRelease && v.x.reply.ok() && !a.empty() && strict_number(a[0], 0xFFFF))
        gone = static_cast<DomId>(std::stoul(a[0]));
    if (!gone) return false;
    return std::any_of(v.ep.targets.begin(), v.ep.targets.end(), [&](const auto& t) { return t.second == *gone; });
}

// docs/conformance.md row 8: a live domain introduced again with a port that
// cannot be bound is left without an event channel (both daemons answer
// OK); xstored no longer serves it, 4.17 serves it whenever its loop wakes.
bool foreign_port_introduce(const View& v) {
    const auto& pieces = v.step.payload.pieces;
    auto a = args(v);
    if (type(v) != wire::kIntroduce || !v.x.reply.ok() || !v.c.reply.ok() || a.empty()) return false;
    bool own = std::any_of(pieces.begin(), pieces.end(), [&](const Payload::Piece& p) {
        return p.kind == Payload::Piece::Kind::Port && std::to_string(p.domid) == a[0];
    });
    return !own;
}

// docs/architecture.md "Transactions", docs/conformance.md row 7 (decision
// 2): a transaction in which a request hit a quota fails its commit with
// ENOSPC; 4.17 says ENOMEM when it marked the transaction failed, commits
// what it could when the refusal was a node quota, and says EAGAIN when it
// finds a conflict first.
bool tx_quota_error(const View& v) {
    const TxInfo* t = v.ep.tx_of(v.step);
    if (type(v) != wire::kTransactionEnd || !t || !is(v.x.reply, "ENOSPC")) return false;
    // 4.17 validates first: a conflict there is EAGAIN.
    bool c_conflict = t->outside_change && is(v.c.reply, "EAGAIN");
    if (!is(v.c.reply, "ENOMEM") && !v.c.reply.ok() && !c_conflict) return false;
    return std::any_of(t->requests.begin(), t->requests.end(),
                       [&](std::size_t i) { return is(v.ep.replies[i].first, "ENOSPC"); });
}

long counted(const std::map<ConnRef, long>& m, const ConnRef& c) {
    auto it = m.find(c);
    return it == m.end() ? 0 : it->second;
}

// A value near the default node size was written in the episode: a later
// SET_PERMS (or commit) may then take its node past 4.17's bigger count
// (found by the hour-long run 9: one more permission entry on a 2013-byte
// value).
bool near_node_size_written(const Episode& ep) {
    return std::any_of(ep.steps.begin(), ep.steps.end(), [](const Step& s) {
        return s.is_request() && s.type == wire::kWrite && s.payload.literal().size() > 1800;
    });
}

// Spec README decision 3: a quota of N allows exactly N; 4.17 allows N+1
// watches (then E2BIG) and N+1 transactions, and sizes nodes with a bigger
// header. Counted limits are checked exactly; size and node limits only
// where a quota was lowered or a value is near the default node size.
bool quota_arithmetic(const View& v) {
    if (v.step.conn.privileged() || !v.step.is_request()) return false;
    bool x_full = is(v.x.reply, "ENOSPC") && v.c.reply.ok();
    bool c_full = is(v.c.reply, "ENOSPC") && v.x.reply.ok();
    // 4.17 finds a size quota at commit and answers ENOMEM there (found by
    // the long run: a node-size quota lowered while a guest's transaction
    // was open, its write within ours, not within 4.17's bigger count).
    if (type(v) == wire::kTransactionEnd && is(v.c.reply, "ENOMEM") && v.x.reply.ok()) c_full = true;
    switch (type(v)) {
        case wire::kWatch: return x_full && counted(v.ep.watches, v.step.conn) == v.ep.quotas.at("watches");
        case wire::kTransactionStart:
            return x_full && counted(v.ep.open_txs, v.step.conn) == v.ep.quotas.at("transactions");
        case wire::kWrite:
        case wire::kMkdir:
        case wire::kSetPerms:
        case wire::kTransactionEnd:
            return (x_full || c_full) && (v.ep.quota_set || v.step.payload.literal().size() > 1800 ||
                                          (type(v) != wire::kWrite && near_node_size_written(v.ep)));
        default: return false;
    }
}

Effect quota_effect(const View& v) {
    switch (type(v)) {
        case wire::kWatch: return Effect::UndoWatch;
        case wire::kTransactionStart: return Effect::UndoTx;
        default: return Effect::EndEpisode;
    }
}

// Spec README decision 2 (upstream 4.22 too): the watch quota is ENOSPC;
// 4.17 answers E2BIG.
bool watch_quota_error(const View& v) {
    return type(v) == wire::kWatch && !v.step.conn.privileged() && is(v.x.reply, "ENOSPC") && is(v.c.reply, "E2BIG");
}

// The caller is a domain released or destroyed earlier in the episode (and
// back, or the same one introduced again): the entries naming it are gone
// on xstored (dead-domain-perms), still there on the C daemon.
bool caller_lost_entries(const View& v) {
    if (v.step.conn.kind != ConnRef::Kind::Guest) return false;
    DomId me = v.step.conn.domid();
    // A domain acts with its targets' rights too (SET_TARGET).
    bool lost = v.ep.destroyed.count(me) ||
                std::any_of(v.ep.targets.begin(), v.ep.targets.end(),
                            [&](const auto& t) { return t.first == me && v.ep.destroyed.count(t.second); });
    if (!lost) return false;
    return is(v.x.reply, "EACCES") || is(v.c.reply, "EACCES");
}

Effect changed_if_c_ok_modifying(const View& v) {
    bool changes = modifies(type(v)) || type(v) == wire::kWatch || type(v) == wire::kTransactionEnd;
    return v.c.reply.ok() && changes ? Effect::EndEpisode : Effect::None;
}

bool watcher_lost_entries(const View& v, const ConnRef& conn, const Event&, bool) {
    return conn.kind == ConnRef::Kind::Guest && v.ep.destroyed.count(conn.domid());
}

// Found by this run (docs/conformance.md, Differential testing): 4.17
// fails a commit with ENOMEM when a domain died while the transaction
// was open (its node accounting for that domain fails). xstored commits
// when every reply would be the same (decision 4).
bool c417_tx_dead_domain(const View& v) {
    const TxInfo* t = v.ep.tx_of(v.step);
    return type(v) == wire::kTransactionEnd && t && t->domain_died && is(v.c.reply, "ENOMEM") &&
           (v.x.reply.ok() || is(v.x.reply, "EAGAIN"));
}

Effect changed_if_x_ok(const View& v) { return v.x.reply.ok() ? Effect::EndEpisode : Effect::None; }


// docs/conformance.md row 8: the privileged (and store) domain is connected
// at start-up and never by request: its INTRODUCE is EINVAL. 4.17 (and
// upstream) rebind its ring to the new port and reset it, dropping dom0's
// ring watches and transactions (and its event channel, for a bad port).
bool privileged_introduce(const View& v) {
    auto a = args(v);
    return type(v) == wire::kIntroduce && !a.empty() && a[0] == "0" && is(v.x.reply, "EINVAL");
}

// Spec README decision 4 (docs/architecture.md, Transactions): a
// transaction works on its start snapshot, 4.17 on nodes as they are when
// it first touches them. When something committed outside it since touched
// a path its changes named, both may commit having done different things
// (an RM of a node only one of them saw): the states are apart.
bool tx_snapshot_commit(const View& v) {
    const TxInfo* t = v.ep.tx_of(v.step);
    if (type(v) != wire::kTransactionEnd || !t || !t->outside_change || !v.x.reply.ok() || !v.c.reply.ok()) return false;
    return v.step.payload.literal() == std::string_view("T\0", 2) && touched_outside(v.ep, *t);
}

// A one-sided transaction (a replay, an undo) moved one daemon's ids on the
// connection (tx-replay-ids): a raw id, or another connection's handle,
// may now name different transactions on the two daemons.
bool tx_foreign_ids(const View& v) {
    if (!v.step.is_request() || v.step.tx.kind == TxRef::Kind::None) return false;
    auto moved = [&](const ConnRef& c) {
        auto shift = v.ep.tx_id_shift.find(c);
        return shift != v.ep.tx_id_shift.end() && shift->second != 0;
    };
    if (v.step.tx.kind == TxRef::Kind::Raw) return moved(v.step.conn);
    auto it = v.ep.txs.find(v.step.tx.value);
    if (it == v.ep.txs.end()) return moved(v.step.conn);
    // Another connection's handle: its ids there may differ too.
    return it->second.conn != v.step.conn && (moved(v.step.conn) || moved(it->second.conn));
}

// cxenstored.md 1.7, 5.10, 6.6 (decision 1): upstream gives a domain the
// hypervisor has a record when GET/SET_FEATURE, GET/SET_QUOTA or a
// permission entry names it, and CONTROL quota <domid> reports any domain
// with a record; 4.17 reports only domains it was introduced.
bool newer_domain_record(const View& v) {
    auto a = args(v);
    if (type(v) != wire::kControl || a.size() != 2 || (a[0] != "quota" && a[0] != "quota-soft")) return false;
    if (!v.x.reply.ok() || !is(v.c.reply, "ENOENT") || !strict_number(a[1], 0xFFFF)) return false;
    auto d = static_cast<DomId>(std::stoul(a[1]));
    return v.ep.newer_named.count(d) && !v.ep.introduced.count(d);
}

// cxenstored.md 1.7 SET_PERMS (decision 1): upstream's special names are
// nodes, so a SET_PERMS on one inside a transaction waits for its commit;
// 4.17 keeps their permissions in memory and changes them at once.
bool special_perms_in_tx(const View& v) {
    auto a = args(v);
    return type(v) == wire::kSetPerms && v.step.tx.kind != TxRef::Kind::None && !a.empty() && a[0].starts_with('@') &&
           v.c.reply.ok();
}

// A 4.17 bug (docs/conformance.md, Differential testing): when the owner
// of "/" dies, 4.17 deletes the root node, after which even dom0 is refused
// ("/" reads as EACCES). xstored hands "/" to the privileged domain.
bool c417_root_owner_death(const View& v) {
    std::optional<DomId> gone;
    if (v.step.kind == Step::Kind::Destroy) gone = v.step.domid;
    auto a = args(v);
    if (type(v) == wire::kRelease && v.c.reply.ok() && !a.empty() && strict_number(a[0], 0xFFFF))
        gone = static_cast<DomId>(std::stoul(a[0]));
    return gone && *gone != 0 && v.ep.root_owner == *gone;
}


// docs/architecture.md "Transactions" (decision 4): a commit reports each
// node the transaction removed to the watchers that may read it or its
// parent, as outside a transaction. Upstream checks only the permissions
// the node had when the transaction first touched it (a node the
// transaction created has none), so fewer watchers, privileged ones
// included, hear of it (cxenstored.md 3.2, 4.2).
bool tx_removal_events(const View& v, const ConnRef& conn, const Event& e, bool on_xstored) {
    const TxInfo* t = v.ep.tx_of(v.step);
    if (!on_xstored || type(v) != wire::kTransactionEnd || !t) return false;
    std::string path = absolute_path(e.path, conn);
    return std::any_of(t->requests.begin(), t->requests.end(), [&](std::size_t i) {
        const Step& s = v.ep.steps[i];
        return s.type == wire::kRm && v.ep.replies[i].first.ok() && within(path, request_path(s));
    });
}

// A 4.17 bug (docs/conformance.md, Differential testing): once a domain
// that had shut down was RESUMEd, the next domain death fires no
// @releaseDomain there (the death path clears the flag the resumed domain's
// shutdown set, and its own event is lost). Upstream and xstored fire it.
bool c417_lost_release_event(const View& v, const ConnRef&, const Event& e, bool on_xstored) {
    return on_xstored && v.step.kind == Step::Kind::Destroy && v.ep.resumed_shut_down && e.path == "@releaseDomain";
}

// cxenstored.md 4.4, 5.2 (upstream 4.22; docs/conformance.md, Rules that
// apply to every message): the events a request causes are queued before
// its reply. 4.17 tears a released domain down after the RELEASE reply, so
// the @releaseDomain event and those of its removed nodes come after it.
bool release_event_order(const View& v, const Event&) { return type(v) == wire::kRelease && v.x.reply.ok(); }

const std::vector<Rule> kRules = {
    {"c417-assertion", "docs/conformance.md, Differential testing (a 4.17 bug); cxenstored.md section 11, quirk 7",
     c417_assertion, nullptr, end_episode, nullptr, nullptr, true},
    {"sorted-directory", "docs/architecture.md, Children order; docs/conformance.md row 1", sorted_directory},
    {"newer-message-types", "spec README decision 1; docs/conformance.md rows 23-26", newer_message_types, nullptr,
     newer_message_types_effect},
    {"strict-numbers", "spec README decision 2; docs/conformance.md rows 8-10, 17-19; cxenstored.md 1.4",
     strict_domid_syntax, nullptr, changed_if_c_ok},
    {"dead-domain-perms", "docs/architecture.md, Domains; docs/conformance.md row 3", dead_domain_perms},
    {"c417-stale-errno", "cxenstored.md section 11, quirk 7; spec README decision 2", c417_stale_errno},
    {"domid-any", "spec README decision 1; docs/conformance.md row 14", names_domid_any, nullptr, end_episode,
     domid_any_stored},
    {"strict-perm-syntax", "docs/conformance.md row 14; spec README decision 2", strict_perm_syntax, nullptr,
     c_read_the_list},
    {"special-node-perms", "spec README decision 1; cxenstored.md 1.7 GET_PERMS; docs/conformance.md row 3",
     special_node_perms},
    {"special-watch-syntax", "spec README decision 1; cxenstored.md 4.1", special_watch_syntax, nullptr, undo_watch},
    {"control-texts", "spec README decision 1; cxenstored.md 7.2, 7.3; docs/conformance.md row 0", control_texts},
    {"tx-conflict", "spec README decision 4; docs/architecture.md, Transactions; docs/conformance.md row 7",
     tx_conflict, nullptr, replay_tx},
    {"tx-snapshot", "spec README decision 4; docs/architecture.md, Transactions", tx_snapshot, nullptr,
     tx_change_on_one_side},
    {"watch-depth", "spec README decision 1; docs/conformance.md row 4", watch_depth, nullptr, undo_watch},
    {"directory-part", "docs/conformance.md rows 1, 22; docs/architecture.md, Children order", directory_part},
    {"special-set-perms", "spec README decision 1; cxenstored.md 1.7 SET_PERMS", special_set_perms, nullptr,
     changed_if_c_ok},
    {"quota-names", "spec README decision 1; cxenstored.md 6.1, 7.3; docs/conformance.md row 25", quota_names,
     nullptr, changed_if_x_ok},
    {"path-max-privileged", "docs/conformance.md, Rules that apply to every message; cxenstored.md 1.5",
     path_max_privileged, nullptr, path_max_effect},
    {"unwatch-path-check", "docs/conformance.md row 5; cxenstored.md 1.7 UNWATCH", unwatch_path_check},
    {"c417-target-pins-domain", "docs/conformance.md, Differential testing (a 4.17 bug)", nullptr, nullptr, nullptr,
     c417_target_pins_domain},
    {"foreign-port-introduce", "docs/conformance.md row 8", nullptr, nullptr, nullptr, foreign_port_introduce},
    {"c417-tx-dead-domain", "docs/conformance.md, Differential testing (a 4.17 quirk); spec README decision 4",
     c417_tx_dead_domain, nullptr, replay_tx},
    {"tx-quota-error", "docs/architecture.md, Transactions; docs/conformance.md row 7; spec README decision 2",
     tx_quota_error, nullptr, changed_if_c_ok_modifying},
    {"quota-arithmetic", "spec README decision 3; docs/conformance.md, Rules that apply to every message",
     quota_arithmetic, nullptr, quota_effect},
    {"watch-quota-error", "spec README decision 2; cxenstored.md 4.1, 6.1", watch_quota_error},
    {"dead-domain-access", "docs/architecture.md, Domains; docs/conformance.md row 3", caller_lost_entries,
     watcher_lost_entries, changed_if_c_ok_modifying},
    {"tx-replay-ids", "spec README decision 4 (the tx-conflict rule's replay)", tx_replay_ids},
    {"special-watch-events", "spec README decision 1; cxenstored.md 4.3; docs/conformance.md row 4", nullptr,
     special_watch_events},
    {"tx-removal-events", "spec README decision 4; docs/architecture.md, Transactions; cxenstored.md 3.2, 4.2",
     nullptr, tx_removal_events},
    {"newer-domain-record", "spec README decision 1; cxenstored.md 1.7, 5.10, 6.6, 7.3", newer_domain_record},
    {"special-perms-in-tx", "spec README decision 1; cxenstored.md 1.7 SET_PERMS", nullptr, nullptr, nullptr,
     special_perms_in_tx},
    {"c417-root-owner-death", "docs/conformance.md, Differential testing (a 4.17 bug)", nullptr, nullptr, nullptr,
     c417_root_owner_death},
    {"tx-snapshot-commit", "spec README decision 4; docs/architecture.md, Transactions", nullptr, nullptr, nullptr,
     tx_snapshot_commit},
    {"tx-foreign-ids", "spec README decision 4 (the tx-conflict rule's replay)", tx_foreign_ids, nullptr, end_episode},
    {"privileged-introduce", "docs/conformance.md row 8", privileged_introduce, nullptr, changed_if_c_ok},
    {"c417-lost-release-event", "docs/conformance.md, Differential testing (a 4.17 bug); cxenstored.md 4.3",
     nullptr, c417_lost_release_event},
    {"release-event-order", "cxenstored.md 4.4, 5.2; docs/conformance.md, Rules that apply to every message",
     nullptr, nullptr, nullptr, nullptr, release_event_order},
};

}  // namespace

const std::vector<Rule>& rules() { return kRules; }

const Rule* find_rule(std::string_view name) {
    for (const Rule& r : kRules)
        if (r.name == name) return &r;
    return nullptr;
}

}  // namespace xs::diff
