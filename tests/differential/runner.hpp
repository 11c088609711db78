// Running steps on both daemons: a Pair is one episode (two fresh daemons
// on two fresh fake hosts); replay() runs a script, starting a new episode
// whenever a rule says the states cannot be brought together again.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/differential/compare.hpp"
#include "tests/differential/episode.hpp"
#include "tests/differential/side.hpp"

namespace xs::diff {

// An unexplained difference: where and what.
struct Difference {
    std::size_t step = 0;   // index in the episode's steps
    std::string signature;  // what the shrinker keeps: "reply READ", "event WRITE", "daemon"
    std::string report;     // for people
};

struct StepResult {
    Outcome x, c;
    Finding finding;
    std::optional<Difference> difference;
    bool end_episode = false;
};

class Pair {
public:
    explicit Pair(const Programs& programs);
    ~Pair();
    std::optional<StartError> start();
    StepResult step(const Step& s);
    const Episode& episode() const { return ep_; }
    // Stop both daemons; what went wrong with them (sanitizer reports ...).
    std::vector<std::string> stop();

private:
    void undo_watch(const Step& s, StepResult& r);
    void undo_tx(const Step& s, StepResult& r);
    void replay_tx(const Step& s, StepResult& r);
    std::optional<Difference> daemons_alive(const Step& s);

    Side x_, c_;
    Episode ep_;
    bool c_death_explained_ = false;  // a c_may_die rule ended the episode
};

// Counts over a run, for reports and docs/conformance.md.
struct Tally {
    std::size_t steps = 0;
    std::size_t episodes = 0;
    std::size_t episodes_ended_by_rules = 0;
    std::map<std::string, std::size_t> rules;         // filtered differences per rule
    std::map<std::string, std::size_t> endings;       // episodes each rule ended
    std::map<std::string, std::size_t> differences;   // unexplained ones per signature
    void add(const StepResult& r);
    std::string text() const;
};

struct ReplayResult {
    std::optional<StartError> start_error;
    std::optional<Difference> difference;  // the first one
    std::vector<Step> episode;             // the steps of its episode, up to it
    Tally tally;
};

// Run a script on fresh daemons; stop at the first unexplained difference.
// With `trace`, print every step and both outcomes.
ReplayResult replay(const Programs& programs, const std::vector<Step>& steps, bool trace = false);

// Describe one step's comparison in full (a failure report).
std::string report(std::size_t index, const Step& s, const StepResult& r);

}  // namespace xs::diff
