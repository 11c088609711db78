// Stop the daemon (SIGSTOP) while the fake hypervisor changes several
// domains, so that it sees all the changes in one pass when it resumes
// (SIGCONT, when this goes). It is only left stopped at a moment when it
// does not hold the fake host's lock, which the hypervisor side needs.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/support/guest_harness.hpp"

namespace guests {

class FrozenDaemon {
public:
    explicit FrozenDaemon(xs::testing::GuestHarness& h) : pid_(h.daemon().pid()) {
        pthread_mutex_t* lock = &h.host().header().lock;
        for (int attempt = 0; attempt < 1000; ++attempt) {
            ::kill(pid_, SIGSTOP);
            wait_stopped();
            if (::pthread_mutex_trylock(lock) == 0) {
                ::pthread_mutex_unlock(lock);
                return;
            }
            ::kill(pid_, SIGCONT);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        throw std::runtime_error("the daemon always held the fake host's lock");
    }
    ~FrozenDaemon() { ::kill(pid_, SIGCONT); }
    FrozenDaemon(const FrozenDaemon&) = delete;
    FrozenDaemon& operator=(const FrozenDaemon&) = delete;

private:
    // SIGSTOP takes effect asynchronously: wait until /proc says "T".
    void wait_stopped() {
        for (int i = 0; i < 1000; ++i) {
            std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
            std::string pid, comm, state;
            if (!(stat >> pid >> comm >> state) || state == "T" || state == "t") return;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }

    pid_t pid_;
};

}  // namespace guests
