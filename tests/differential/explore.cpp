#include "tests/differential/explore.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "tests/differential/gen.hpp"
#include "tests/differential/shrink.hpp"

namespace xs::diff {

namespace {

using Clock = std::chrono::steady_clock;

std::string file_name(const std::string& signature, std::uint64_t seed) {
    std::string name;
    for (char ch : signature) name.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? static_cast<char>(std::tolower(ch)) : '-');
    return name + "-seed" + std::to_string(seed) + ".steps";
}

// Shrink a difference and write the reproducer; its path ("" if none).
std::string keep(const Programs& programs, const ExploreOptions& opts, std::uint64_t seed,
                 const std::vector<Step>& steps, const Difference& d) {
    Script script;
    script.steps = steps;
    Difference shown = d;
    if (opts.shrink_budget.count() > 0) {
        ShrinkResult s = shrink(programs, steps, d, opts.shrink_budget);
        script.steps = std::move(s.steps);
        shown = s.difference;
        std::printf("  shrunk from %zu to %zu steps in %zu replays\n", steps.size(), script.steps.size(), s.replays);
    }
    script.comments.push_back("xstore-diff reproducer: seed " + std::to_string(seed) + ", " + shown.signature);
    std::string rep = shown.report;
    for (std::size_t at; (at = rep.find('\n')) != std::string::npos;) {
        script.comments.push_back(rep.substr(0, at));
        rep.erase(0, at + 1);
    }
    std::printf("%s", shown.report.c_str());
    if (opts.out_dir.empty()) return {};
    std::filesystem::create_directories(opts.out_dir);
    std::string path = opts.out_dir + "/" + file_name(shown.signature, seed);
    std::ofstream(path) << to_text(script);
    return path;
}

// One episode on fresh daemons; the difference that ended it, if any.
std::optional<StartError> episode(const Programs& programs, const ExploreOptions& opts, std::uint64_t seed,
                                  ExploreResult& out, std::set<std::string>& seen) {
    Pair pair(programs);
    if (auto e = pair.start()) return e;
    ++out.tally.episodes;
    Generator gen(seed);
    gen.prologue();
    for (std::size_t i = 0; i < opts.steps; ++i) {
        Step s = gen.next();
        StepResult r = pair.step(s);
        out.tally.add(r);
        gen.observe(s, r.x, r.c);
        if (opts.trace) std::printf("%s", report(i, s, r).c_str());
        if (r.difference) {
            bool fresh = seen.insert(r.difference->signature).second;
            std::printf("seed %llu: %s difference at step %zu: %s\n", static_cast<unsigned long long>(seed),
                        fresh ? "new" : "known", i, r.difference->signature.c_str());
            if (!fresh) return std::nullopt;
            ++out.new_differences;
            std::vector<Step> steps = pair.episode().steps;
            pair.stop();
            std::string path = keep(programs, opts, seed, steps, *r.difference);
            if (!path.empty()) std::printf("  reproducer: %s\n", path.c_str());
            return std::nullopt;
        }
        if (r.end_episode) break;
    }
    for (const auto& p : pair.stop()) {
        std::printf("seed %llu: at exit: %s\n", static_cast<unsigned long long>(seed), p.c_str());
        ++out.tally.differences["daemon exit"];
        ++out.new_differences;
    }
    return std::nullopt;
}

}  // namespace

ExploreResult explore(const Programs& programs, const ExploreOptions& opts) {
    ExploreResult out;
    std::set<std::string> seen;
    for (std::size_t e = 0;; ++e) {
        if (opts.until ? Clock::now() >= *opts.until : e >= opts.episodes) break;
        std::uint64_t seed = opts.seed + e;
        if (auto err = episode(programs, opts, seed, out, seen)) {
            out.start_error = err;
            return out;
        }
        if (!opts.quiet && (e + 1) % 10 == 0)
            std::printf("after %zu episodes: %zu steps\n", e + 1, out.tally.steps);
        std::fflush(stdout);
    }
    return out;
}

}  // namespace xs::diff
