// A token bucket per guest: the write-rate limit that keeps a guest from
// starving other clients' transactions by changing nodes they read
// (XSA-206). Pure code.
#pragma once

#include <chrono>

namespace xs::daemon {

class WriteCredit {
public:
    using Clock = std::chrono::steady_clock;

    // `rate` changes per second refill a bucket of `burst`.
    void configure(unsigned rate, double burst) {
        rate_ = rate;
        burst_ = burst;
        credit_ = burst;
    }
    // Charge one change made at `now`. False when the guest is now in debt
    // and must wait until ready_at().
    bool charge(Clock::time_point now) {
        refill(now);
        credit_ -= 1.0;
        return credit_ >= 0.0;
    }
    bool in_debt(Clock::time_point now) {
        refill(now);
        return credit_ < 0.0;
    }
    // When the debt is paid back.
    Clock::time_point ready_at() const {
        if (credit_ >= 0.0 || rate_ == 0) return last_;
        auto wait = std::chrono::duration<double>(-credit_ / rate_);
        return last_ + std::chrono::duration_cast<Clock::duration>(wait);
    }
    double credit() const { return credit_; }
    Clock::time_point last() const { return last_; }
    // Live update: the credit as it was at `last` (the steady clock is the
    // same in the new process).
    void restore(double credit, Clock::time_point last) {
        credit_ = credit > burst_ ? burst_ : credit;
        last_ = last;
    }

private:
    void refill(Clock::time_point now) {
        if (last_ != Clock::time_point{} && now > last_)
            credit_ += std::chrono::duration<double>(now - last_).count() * rate_;
        if (credit_ > burst_) credit_ = burst_;
        last_ = now;
    }

    unsigned rate_ = 0;
    double burst_ = 0;
    double credit_ = 0;
    Clock::time_point last_{};
};

}  // namespace xs::daemon
