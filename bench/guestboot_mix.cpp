#include "bench/guestboot_mix.hpp"

namespace xs::bench {

MixRoundDriver::MixRoundDriver(std::vector<BootMix> mixes, std::size_t first_conn, std::uint64_t rounds,
                               std::uint64_t stall_ns)
    : mixes_(std::move(mixes)), loops_(mixes_.size()), first_conn_(first_conn), rounds_(rounds), stall_ns_(stall_ns) {}

std::uint64_t MixRoundDriver::requests_per_round() const {
    return mixes_.empty() ? 0 : mixes_[0].before.size() + mixes_[0].inside.size() + 2;
}

void MixRoundDriver::start(Engine& e) {
    t0_ = last_progress_ = e.now();
    for (std::size_t j = 0; j < mixes_.size(); ++j)
        loops_[j].seq.begin(e, *e.conns()[first_conn_ + j], mixes_[j].before, false, j);
}

// Alternate the plain reads and the transaction until every round is done.
void MixRoundDriver::next(Engine& e, Conn& c, std::size_t j) {
    Loop& l = loops_[j];
    if (l.in_tx) {
        l.in_tx = false;
        if (++l.round == rounds_) {
            if (++done_ == mixes_.size()) t1_ = e.now();
            return;
        }
        l.seq.begin(e, c, mixes_[j].before, false, j);
        return;
    }
    l.in_tx = true;
    l.seq.begin(e, c, mixes_[j].inside, true, j);
}

void MixRoundDriver::on_reply(Engine& e, Conn& c, const Reply& r) {
    latency_.record(r.latency_ns);
    last_progress_ = e.now();
    auto j = static_cast<std::size_t>(r.tag);
    if (loops_[j].seq.on_reply(e, c, r, counters_) == Sequence::Step::kDone) next(e, c, j);
}

// Nothing moved for the stall time: a reply is missing.
void MixRoundDriver::on_tick(Engine& e) {
    if (e.now() < last_progress_ + stall_ns_) return;
    std::size_t waiting = 0, first = mixes_.size();
    for (std::size_t j = 0; j < loops_.size(); ++j)
        if (loops_[j].seq.active() && waiting++ == 0) first = j;
    e.fail("nothing moved for " + std::to_string(stall_ns_ / 1'000'000'000) + " s: " + std::to_string(done_) + " of " +
           std::to_string(mixes_.size()) + " connections done, " + std::to_string(waiting) +
           " waiting for a reply" + (waiting ? " (connection " + std::to_string(first_conn_ + first) + ": " +
                                                  loops_[first].seq.pending() + ")" : ""));
}

void MixRoundDriver::on_event(Engine& e, Conn& c, const Event& ev) {
    e.fail("connection " + std::to_string(c.index()) + ": watch event " + std::string(ev.path) +
           " while replaying the mix (it writes no watched node)");
}

}  // namespace xs::bench
