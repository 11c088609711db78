#include "bench/liveupdate_plan.hpp"

#include <algorithm>

namespace xs::bench {

std::uint64_t lu_watches_of(std::uint64_t conn, std::uint64_t conns, std::uint64_t watches) {
    if (conns == 0) return 0;
    return watches / conns + (conn < watches % conns ? 1 : 0);
}

std::uint64_t lu_keys_of(std::uint64_t watches_held) { return std::max<std::uint64_t>(4, watches_held); }

Spread spread_of(std::vector<double> values) {
    if (values.empty()) return {};
    std::sort(values.begin(), values.end());
    std::size_t n = values.size();
    double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return {median, values.back()};
}

DowntimeTracker::DowntimeTracker(std::size_t conns, std::uint64_t start_ns)
    : last_(conns, start_ns), gap_(conns, 0), after_ok_(conns, false) {}

void DowntimeTracker::begin(std::uint64_t s_sent_ns) {
    s_ = s_sent_ns;
    open_ = true;
    ended_ = false;
    std::fill(gap_.begin(), gap_.end(), 0);
    std::fill(after_ok_.begin(), after_ok_.end(), false);
}

void DowntimeTracker::end(std::uint64_t ok_ns) {
    ok_ = ok_ns;
    ended_ = true;
}

void DowntimeTracker::reply(std::size_t conn, std::uint64_t t_ns) {
    std::uint64_t prev = last_[conn];
    last_[conn] = t_ns;
    if (!open_ || t_ns < s_) return;
    // Past the OK, only the interval that began before it still overlaps.
    if (ended_ && prev > ok_) return;
    gap_[conn] = std::max(gap_[conn], t_ns - prev);
    if (ended_) after_ok_[conn] = true;
}

bool DowntimeTracker::settled() const {
    return open_ && ended_ && std::all_of(after_ok_.begin(), after_ok_.end(), [](bool b) { return b; });
}

DowntimeTracker::Gaps DowntimeTracker::close() {
    open_ = false;
    std::vector<double> ms;
    ms.reserve(gap_.size());
    for (std::uint64_t g : gap_) ms.push_back(static_cast<double>(g) / 1e6);
    Spread s = spread_of(std::move(ms));
    return {s.max, s.median};
}

}  // namespace xs::bench
