#include "tests/differential/runner.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "transport/wire.hpp"

namespace xs::diff {

namespace {

// Handles of the transactions an effect starts: far from the generator's.
constexpr std::uint32_t kReplayHandle = 1u << 30;

std::string signature(const Step& s, std::string_view what) {
    std::string op;
    switch (s.kind) {
        case Step::Kind::Request: op = std::string(wire::type_name(s.type)); break;
        case Step::Kind::Oversize: op = "oversize"; break;
        case Step::Kind::Create: op = "create"; break;
        case Step::Kind::Shutdown: op = "shutdown"; break;
        case Step::Kind::Destroy: op = "destroy"; break;
        case Step::Kind::Open: op = "open"; break;
        case Step::Kind::Close: op = "close"; break;
    }
    return std::string(what) + " " + op;
}


bool node_request(std::uint32_t type) {
    switch (type) {
        case wire::kRead:
        case wire::kDirectory:
        case wire::kDirectoryPart:
        case wire::kGetPerms:
        case wire::kWrite:
        case wire::kMkdir:
        case wire::kRm:
        case wire::kSetPerms: return true;
        default: return false;
    }
}

}  // namespace

Pair::Pair(const Programs& programs) : x_(Side::Kind::Xstored, programs), c_(Side::Kind::C, programs) {}

Pair::~Pair() { stop(); }

std::optional<StartError> Pair::start() {
    if (auto e = c_.start()) return e;
    return x_.start();
}

std::vector<std::string> Pair::stop() {
    std::vector<std::string> out;
    for (auto& p : x_.stop()) out.push_back("xstored: " + p);
    for (auto& p : c_.stop())
        if (!c_death_explained_) out.push_back("C xenstored: " + p);
    return out;
}

StepResult Pair::step(const Step& s) {
    StepResult r;
    r.x = x_.run(s);
    r.c = c_.run(s);
    View v{s, r.x, r.c, ep_};
    r.finding = compare_replies(v);
    if (r.finding.effect == Effect::UndoWatch) undo_watch(s, r);
    if (r.finding.effect == Effect::UndoTx) undo_tx(s, r);
    if (r.finding.effect == Effect::ReplayTx) replay_tx(s, r);
    if (!r.finding.skip_events) compare_events(v, x_.collect(), c_.collect(), r.finding);
    r.end_episode = r.finding.effect == Effect::EndEpisode;
    if (r.end_episode && r.finding.ended_by && r.finding.ended_by->c_may_die) c_death_explained_ = true;
    if (auto d = daemons_alive(s)) r.difference = d;
    else if (!r.finding.differences.empty())
        r.difference = Difference{ep_.steps.size(),
                                  signature(s, r.finding.differences[0].starts_with("reply") ? "reply" : "event"), ""};
    if (r.difference && r.difference->report.empty()) r.difference->report = report(ep_.steps.size(), s, r);
    ep_.record(s, r.x, r.c);
    return r;
}

std::optional<Difference> Pair::daemons_alive(const Step& s) {
    std::string dead;
    if (!x_.daemon_alive()) dead += "xstored died:\n" + x_.log_tail() + "\n";
    if (!c_.daemon_alive() && !c_death_explained_) dead += "Xen's C xenstored died:\n" + c_.log_tail() + "\n";
    if (dead.empty()) return std::nullopt;
    return Difference{ep_.steps.size(), signature(s, "daemon"), dead};
}

// ---------------------------------------------------------------- effects

// One daemon accepted a watch the other refused: remove it again.
void Pair::undo_watch(const Step& s, StepResult& r) {
    auto args = strings_of(s.payload.literal());
    if (args.size() < 2 || r.x.reply.ok() == r.c.reply.ok()) return;
    Side& side = r.x.reply.ok() ? x_ : c_;
    Outcome o = side.run(request(s.conn, wire::kUnwatch, {}, args[0] + '\0' + args[1] + '\0'));
    if (!o.reply.ok())
        r.finding.differences.push_back(std::string("undoing the watch on ") + side.name() + " failed: " +
                                        describe(o.reply));
}

// One daemon started a transaction the other refused: end it again.
void Pair::undo_tx(const Step& s, StepResult& r) {
    if (r.x.reply.ok() == r.c.reply.ok()) return;
    Side& side = r.x.reply.ok() ? x_ : c_;
    ep_.tx_id_shift[s.conn] += &side == &x_ ? 1 : -1;  // that side handed out one id more
    // Without a handle, by the id it handed out.
    const std::string& id = (r.x.reply.ok() ? r.x.reply : r.c.reply).payload;
    TxRef tx = s.bind ? TxRef{TxRef::Kind::Handle, *s.bind}
                      : TxRef{TxRef::Kind::Raw, static_cast<std::uint32_t>(std::strtoul(id.c_str(), nullptr, 10))};
    Outcome o = side.run(request(s.conn, wire::kTransactionEnd, tx, std::string("F\0", 2)));
    if (s.bind) side.unbind(*s.bind);
    if (!o.reply.ok())
        r.finding.differences.push_back(std::string("ending the transaction on ") + side.name() + " failed: " +
                                        describe(o.reply));
}

// One daemon committed the transaction and the other did not: the other
// runs its requests again in a new transaction, against the tree as it is
// now, which is what the committing daemon's commit amounts to.
void Pair::replay_tx(const Step& s, StepResult& r) {
    const TxInfo* t = ep_.tx_of(s);
    if (!t || r.x.reply.ok() == r.c.reply.ok()) return;
    Side& side = r.x.reply.ok() ? c_ : x_;
    ep_.tx_id_shift[t->conn] += &side == &x_ ? 1 : -1;
    Finding& f = r.finding;
    TxRef tx{TxRef::Kind::Handle, kReplayHandle + s.tx.value};
    Step start = request(t->conn, wire::kTransactionStart, {}, std::string("\0", 1));
    start.bind = tx.value;
    if (!side.run(start).reply.ok()) f.differences.push_back("replaying the transaction: cannot start one");
    bool x_committed = r.x.reply.ok();
    for (std::size_t i : t->requests) {
        const Step& orig = ep_.steps[i];
        if (!node_request(orig.type)) continue;
        // What the commit amounts to is what succeeded on the daemon that
        // committed: a change it refused (say, an RM of a node its
        // snapshot lacked) did nothing there.
        const Reply& there = x_committed ? ep_.replies[i].first : ep_.replies[i].second;
        if (modifies(orig.type) && !there.ok()) continue;
        Step again = orig;
        again.tx = tx;
        (void)side.run(again);
    }
    Outcome end = side.run(request(t->conn, wire::kTransactionEnd, tx, std::string("T\0", 2)));
    if (!end.reply.ok())
        f.differences.push_back(std::string("replaying the transaction on ") + side.name() + " failed: " +
                                describe(end.reply));
    Outcome& target = r.x.reply.ok() ? r.c : r.x;  // its events count as the step's
    target.before.insert(target.before.end(), end.before.begin(), end.before.end());
}

// ---------------------------------------------------------------- reports

// A step's text with long runs of one byte shortened, for reports.
std::string brief(const Step& s) {
    std::string t = to_text(s), out;
    for (std::size_t i = 0; i < t.size();) {
        std::size_t j = i;
        while (j < t.size() && t[j] == t[i]) ++j;
        if (j - i > 12) out += t.substr(i, 3) + "...(" + std::to_string(j - i) + " x '" + t[i] + "')";
        else out += t.substr(i, j - i);
        i = j;
    }
    return out;
}

std::string report(std::size_t index, const Step& s, const StepResult& r) {
    std::string out = "step " + std::to_string(index) + ": " + brief(s) + "\n";
    out += "  xstored:     " + describe(r.x.reply) + "  before " + describe(r.x.before) + "\n";
    out += "  C xenstored: " + describe(r.c.reply) + "  before " + describe(r.c.before) + "\n";
    for (const auto& d : r.finding.differences) out += "  difference: " + d + "\n";
    for (const Rule* rule : r.finding.filtered) out += "  filtered by rule " + std::string(rule->name) + "\n";
    return out;
}

void Tally::add(const StepResult& r) {
    ++steps;
    for (const Rule* rule : r.finding.filtered) ++rules[std::string(rule->name)];
    if (r.difference) ++differences[r.difference->signature];
    if (r.end_episode) ++episodes_ended_by_rules;
    if (r.finding.ended_by) ++endings[std::string(r.finding.ended_by->name)];
}

std::string Tally::text() const {
    std::string out = "steps: " + std::to_string(steps) + ", episodes: " + std::to_string(episodes) +
                      " (ended early by a rule: " + std::to_string(episodes_ended_by_rules) + ")\n";
    for (const auto& [name, n] : rules) {
        out += "  rule " + name + ": " + std::to_string(n);
        if (endings.count(name)) out += " (ended " + std::to_string(endings.at(name)) + " episodes)";
        out += "\n";
    }
    for (const auto& [sig, n] : differences) out += "  DIFFERENCE " + sig + ": " + std::to_string(n) + "\n";
    return out;
}

// ---------------------------------------------------------------- replay

ReplayResult replay(const Programs& programs, const std::vector<Step>& steps, bool trace) {
    ReplayResult out;
    auto pair = std::make_unique<Pair>(programs);
    if ((out.start_error = pair->start())) return out;
    ++out.tally.episodes;
    for (const Step& s : steps) {
        StepResult r = pair->step(s);
        out.tally.add(r);
        if (trace) std::printf("%s", report(pair->episode().steps.size() - 1, s, r).c_str());
        if (r.difference) {
            out.difference = r.difference;
            out.episode = pair->episode().steps;
            return out;
        }
        if (!r.end_episode) continue;
        pair = std::make_unique<Pair>(programs);
        if ((out.start_error = pair->start())) return out;
        ++out.tally.episodes;
    }
    for (auto& p : pair->stop()) {
        out.difference = Difference{steps.size(), "daemon exit", p};
        out.episode = pair->episode().steps;
    }
    return out;
}

}  // namespace xs::diff
