#include "tests/differential/shrink.hpp"

#include <algorithm>
#include <set>

namespace xs::diff {

namespace {

using Clock = std::chrono::steady_clock;

class Shrinker {
public:
    Shrinker(const Programs& p, const Difference& d, Clock::time_point deadline)
        : programs_(p), signature_(d.signature), deadline_(deadline), best_(d) {}

    // Whether `steps` still fails the same way (remembering how).
    bool fails(const std::vector<Step>& steps) {
        if (Clock::now() >= deadline_) return false;
        ++replays_;
        ReplayResult r = replay(programs_, steps);
        if (!r.difference || r.difference->signature != signature_) return false;
        best_ = *r.difference;
        return true;
    }

    // Without all the steps of one connection (or one domain's life).
    void drop_connections(std::vector<Step>& steps) {
        std::set<ConnRef> conns;
        for (const Step& s : steps)
            if (s.is_request() || s.kind == Step::Kind::Oversize) conns.insert(s.conn);
        for (const ConnRef& c : conns) {
            std::vector<Step> fewer = steps;
            std::erase_if(fewer, [&](const Step& s) { return (s.is_request() || s.kind == Step::Kind::Oversize) && s.conn == c; });
            if (fewer.size() < steps.size() && fails(fewer)) steps = std::move(fewer);
        }
    }

    // Delta debugging over single steps: remove chunks, halving their size
    // when no chunk can go.
    void drop_chunks(std::vector<Step>& steps) {
        std::size_t parts = 2;
        while (steps.size() >= 2 && Clock::now() < deadline_) {
            std::size_t chunk = (steps.size() + parts - 1) / parts;
            bool removed = false;
            for (std::size_t at = 0; at < steps.size(); at += chunk) {
                std::vector<Step> fewer(steps.begin(), steps.begin() + static_cast<std::ptrdiff_t>(at));
                fewer.insert(fewer.end(), steps.begin() + static_cast<std::ptrdiff_t>(std::min(at + chunk, steps.size())),
                             steps.end());
                if (fails(fewer)) {
                    steps = std::move(fewer);
                    parts = std::max<std::size_t>(parts - 1, 2);
                    removed = true;
                    break;
                }
            }
            if (removed) continue;
            if (parts >= steps.size()) return;
            parts = std::min(parts * 2, steps.size());
        }
    }

    std::size_t replays() const { return replays_; }
    const Difference& best() const { return best_; }

private:
    const Programs& programs_;
    std::string signature_;
    Clock::time_point deadline_;
    Difference best_;
    std::size_t replays_ = 0;
};

}  // namespace

ShrinkResult shrink(const Programs& programs, std::vector<Step> steps, const Difference& found,
                    std::chrono::seconds budget) {
    Shrinker s(programs, found, Clock::now() + budget);
    if (steps.size() > found.step + 1) steps.resize(found.step + 1);
    s.drop_connections(steps);
    s.drop_chunks(steps);
    return ShrinkResult{steps, s.best(), s.replays()};
}

}  // namespace xs::diff
