// The filtering rules of the differential run: every difference between
// xstored and Xen's C xenstored 4.17 that a documented decision explains.
// All of them live in rules.cpp, each with its name, the documentation it
// comes from and a predicate on the step and the two outcomes; a
// difference no rule explains fails the run. Rules never name test cases.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "tests/differential/episode.hpp"
#include "tests/differential/outcome.hpp"
#include "tests/differential/step.hpp"

namespace xs::diff {

// What a rule looks at: the step, what each daemon did, and the episode
// before the step.
struct View {
    const Step& step;
    const Outcome& x;  // xstored
    const Outcome& c;  // Xen's C xenstored 4.17
    const Episode& ep;
};

// What a filtered reply difference leaves behind, and how the run gets
// both daemons back to the same state.
enum class Effect {
    None,        // nothing: the states are the same
    UndoWatch,   // one daemon added a watch the other refused: UNWATCH it there
    UndoTx,      // one daemon started a transaction the other refused: end it there (F)
    ReplayTx,    // one daemon committed and the other did not: the one that did not
                 // runs the transaction's requests again in a new transaction
    EndEpisode,  // the states differ in a way that cannot be undone: start afresh
};

struct Rule {
    std::string_view name;
    std::string_view source;  // the documentation the decision comes from
    // The two replies differ; does this rule explain it? (nullptr: an event-only rule)
    bool (*reply)(const View&) = nullptr;
    // Event `e` reached `conn` on one daemon only (`on_xstored`), or before
    // the reply on one and after it on the other; does this rule explain it?
    bool (*event)(const View&, const ConnRef& conn, const Event& e, bool on_xstored) = nullptr;
    // For a reply rule: what its difference leaves behind.
    Effect (*effect)(const View&) = nullptr;
    // A step both daemons may well have answered alike, after which their
    // states are apart as the decision says: the episode ends there.
    bool (*diverges)(const View&) = nullptr;
    // Event `e` reached the requesting connection before the reply on one
    // daemon and after it on the other; does this rule explain the order?
    bool (*order)(const View&, const Event& e) = nullptr;
    // The step may kill the C daemon (a 4.17 bug): when the rule ended the
    // episode, its death is no difference.
    bool c_may_die = false;
};

const std::vector<Rule>& rules();
const Rule* find_rule(std::string_view name);

}  // namespace xs::diff
