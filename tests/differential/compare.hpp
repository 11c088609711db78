// Comparing what the two daemons did for one step, through the rules:
// equal replies and event sets pass; a difference a rule explains is
// filtered (and counted under the rule's name); any other is reported.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/differential/rules.hpp"

namespace xs::diff {

struct Finding {
    std::vector<const Rule*> filtered;     // rules that explained a difference
    std::vector<std::string> differences;  // what no rule explains
    Effect effect = Effect::None;          // of the reply rule, if one applied
    bool skip_events = false;              // a diverging step: its events are not compared
    const Rule* ended_by = nullptr;        // the rule that ends the episode, if one does
};

// The replies (and the requesting connection's events before them).
Finding compare_replies(const View& v);
// Every connection's events after the reply. When the reply rule had an
// effect (requests ran in between), the requesting connection's events
// before and after its reply are compared as one set.
void compare_events(const View& v, const std::map<ConnRef, Events>& x_after, const std::map<ConnRef, Events>& c_after,
                    Finding& f);

// Events in `a` that are not in `b` (as multisets).
Events minus(Events a, Events b);

}  // namespace xs::diff
