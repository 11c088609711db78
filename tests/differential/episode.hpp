// What a run remembers about the steps of one episode (both daemons
// started fresh, steps applied in order): facts the filtering rules need,
// such as which domains died and what each transaction did. Pure data; the
// runner keeps it up to date.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "tests/differential/outcome.hpp"
#include "tests/differential/step.hpp"

namespace xs::diff {

struct TxInfo {
    ConnRef conn;
    std::uint32_t x_id = 0;       // its id on xstored
    std::size_t start = 0;        // the step that started it
    bool outside_change = false;  // a change was committed outside it after it started
    bool outside_anywhere = false;        // ... somewhere the driver cannot name (a domain's death)
    std::vector<std::string> outside_paths;  // ... else, the paths it changed
    bool quota_change = false;    // a quota was set after it started
    bool domain_died = false;     // a domain was destroyed or released after it started
    bool open = true;
    std::vector<std::size_t> requests;  // the steps that named it, in order
};

struct Episode {
    std::vector<Step> steps;
    std::vector<std::pair<Reply, Reply>> replies;  // xstored's and the C daemon's, per step
    std::set<DomId> destroyed;            // domains destroyed or released so far
    std::set<DomId> hosted;               // guests the fake host has (created, not destroyed)
    std::set<DomId> introduced;           // guests xstored took an INTRODUCE for, not gone since
    // Domains xstored may keep a record for without an INTRODUCE: named by
    // GET/SET_FEATURE, GET/SET_QUOTA or a SET_PERMS entry.
    std::set<DomId> newer_named;
    std::set<DomId> shut_down;            // guests the host shut down (not destroyed or created since)
    bool resumed_shut_down = false;       // a RESUME named one of them
    long root_owner = 0;                  // the owner of "/" as the C daemon read the last SET_PERMS
    std::map<std::uint32_t, TxInfo> txs;  // by handle
    // Transactions the driver started on one side only (replays), per
    // connection: +1 for each on xstored, -1 for each on the C daemon.
    std::map<ConnRef, long> tx_id_shift;
    // SET_TARGET: (domain, the domain whose rights it has). Every target
    // a domain was ever given: 4.17 keeps a reference to each.
    std::set<std::pair<DomId, DomId>> targets;
    // Watches and open transactions per connection that both daemons have
    // (after the driver's undo effects), and the quotas CONTROL set.
    std::map<ConnRef, long> watches;
    std::map<ConnRef, long> open_txs;
    std::map<std::string, long> quotas = {{"watches", 128}, {"transactions", 10}};
    bool quota_set = false;  // some quota was set in this episode

    // The open transaction a step names, if any: the one of the step's
    // connection with the id the step sends (a handle of another
    // connection, or a raw id, may name one of this connection's too).
    const TxInfo* tx_of(const Step& s) const;
    // Record a step that has been run on both daemons, once the rules have
    // looked at it (they see the history before the step).
    void record(const Step& s, const Outcome& x, const Outcome& c);
    // The paths the transaction's successful changes named (on either daemon).
    std::vector<std::string> changed_paths(const TxInfo& t) const;

private:
    void record_request(const Step& s, const Reply& x, const Reply& c);
    void tx_started(const Step& s, const Reply& x, const Reply& c, std::size_t index);
    void perms_set(const Step& s, const Reply& x, const Reply& c);
    void committed_change(const std::vector<std::string>& paths, bool anywhere = false);
    void quota_change();
    void end_transactions(const ConnRef& c);
    void domain_gone(DomId d);
    void conn_gone(const ConnRef& c, bool ended);
    void count(const Step& s, bool both_ok);
};

// Whether a request of this type changes the tree when it succeeds.
bool modifies(std::uint32_t type);

}  // namespace xs::diff
