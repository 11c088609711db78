#include "tests/differential/compare.hpp"

#include <algorithm>

namespace xs::diff {

namespace {

const Rule* explain_reply(const View& v) {
    for (const Rule& r : rules())
        if (r.reply && r.reply(v)) return &r;
    return nullptr;
}

const Rule* explain_event(const View& v, const ConnRef& conn, const Event& e, bool on_xstored) {
    for (const Rule& r : rules())
        if (r.event && r.event(v, conn, e, on_xstored)) return &r;
    return nullptr;
}

// Events on one side only: each explained by a rule or reported.
void one_sided(const View& v, const ConnRef& conn, const Events& only, bool on_xstored, std::string_view when,
               Finding& f) {
    for (const Event& e : only) {
        if (const Rule* r = explain_event(v, conn, e, on_xstored)) {
            f.filtered.push_back(r);
            continue;
        }
        f.differences.push_back("event " + describe(Events{e}) + " " + std::string(when) + " on " + to_text(conn) +
                                " reached " + (on_xstored ? "xstored's" : "the C daemon's") + " client only");
    }
}

void compare_sets(const View& v, const ConnRef& conn, const Events& x, const Events& c, std::string_view when,
                  Finding& f) {
    one_sided(v, conn, minus(x, c), true, when, f);
    one_sided(v, conn, minus(c, x), false, when, f);
}

void erase_one(Events& from, const Event& e) {
    auto it = std::find(from.begin(), from.end(), e);
    if (it != from.end()) from.erase(it);
}

const Rule* explain_order(const View& v, const Event& e) {
    for (const Rule& r : rules())
        if (r.order && r.order(v, e)) return &r;
    return nullptr;
}

// Events one daemon queued before its reply and the other after it: those
// an order rule explains leave both sets.
void reordered(const View& v, Events& early, const Events& early_other, Events& late, const Events& late_other,
               Finding& f) {
    Events moved = minus(late, late_other);
    for (const Event& e : minus(early, early_other)) {
        if (std::find(moved.begin(), moved.end(), e) == moved.end()) continue;
        const Rule* r = explain_order(v, e);
        if (!r) continue;
        f.filtered.push_back(r);
        erase_one(early, e);
        erase_one(late, e);
        erase_one(moved, e);
    }
}

}  // namespace

Events minus(Events a, Events b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    Events out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

Finding compare_replies(const View& v) {
    Finding f;
    // A step after which the states are apart by decision ends the
    // episode; nothing of it is compared.
    for (const Rule& r : rules()) {
        if (r.diverges && r.diverges(v)) {
            f.filtered.push_back(&r);
            f.effect = Effect::EndEpisode;
            f.skip_events = true;
            f.ended_by = &r;
            return f;
        }
    }
    if (!(v.x.reply == v.c.reply)) {
        if (const Rule* r = explain_reply(v)) {
            f.filtered.push_back(r);
            if (f.effect == Effect::None) f.effect = r->effect ? r->effect(v) : Effect::None;
            f.skip_events = f.effect == Effect::EndEpisode;  // the states are apart: so may be the events
            if (f.skip_events) f.ended_by = r;
        } else {
            f.differences.push_back("reply: xstored " + describe(v.x.reply) + ", C xenstored " + describe(v.c.reply));
        }
    }
    return f;
}

void compare_events(const View& v, const std::map<ConnRef, Events>& x_after, const std::map<ConnRef, Events>& c_after,
                    Finding& f) {
    if (f.skip_events) return;
    static const Events kNone;
    auto of = [](const std::map<ConnRef, Events>& m, const ConnRef& c) -> const Events& {
        auto it = m.find(c);
        return it == m.end() ? kNone : it->second;
    };
    std::vector<ConnRef> conns;
    for (const auto& [c, e] : x_after) conns.push_back(c);
    for (const auto& [c, e] : c_after) conns.push_back(c);
    if (v.step.is_request()) conns.push_back(v.step.conn);
    std::sort(conns.begin(), conns.end());
    conns.erase(std::unique(conns.begin(), conns.end()), conns.end());
    for (const ConnRef& conn : conns) {
        Events x = of(x_after, conn), c = of(c_after, conn);
        bool requester = v.step.is_request() && conn == v.step.conn;
        if (requester && f.effect != Effect::None) {  // requests of the effect came in between: one set
            x.insert(x.begin(), v.x.before.begin(), v.x.before.end());
            c.insert(c.begin(), v.c.before.begin(), v.c.before.end());
        } else if (requester) {
            Events xb = v.x.before, cb = v.c.before;
            reordered(v, xb, v.c.before, c, x, f);  // before on xstored, after on the C daemon
            reordered(v, cb, v.x.before, x, c, f);
            compare_sets(v, conn, xb, cb, "before the reply", f);
        }
        compare_sets(v, conn, x, c, requester && f.effect == Effect::None ? "after the reply" : "", f);
    }
}

}  // namespace xs::diff
