// What every workload shares: the options, the transport, the daemon's
// identity and labels, the measurement sink, and setup helpers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/failure.hpp"
#include "bench/options.hpp"
#include "bench/report.hpp"
#include "bench/stream.hpp"
#include "tools/client/xs_client.hpp"

namespace xs::bench {

class Context {
public:
    // Connects once to learn the daemon's pid and labels.
    static Checked<std::unique_ptr<Context>> create(Options opts);

    const Options& opts() const { return opts_; }
    bool echo() const { return opts_.echo; }
    Transport& transport() { return *transport_; }
    std::optional<pid_t> daemon_pid() const { return daemon_pid_; }
    const std::string& daemon_name() const { return daemon_name_; }
    const std::string& placement() const { return placement_; }

    // A measurement record with the labels filled in.
    Measurement measurement(std::string workload, std::string variant, Fields params) const;
    // Record it, and print its JSON line now when the format asks for JSON.
    void emit(Measurement m);
    const std::vector<Measurement>& results() const { return results_; }

    // The deadline of a phase starting now.
    std::uint64_t deadline() const;

    // A blocking client for setup and cleanup (not for measured traffic).
    Checked<std::unique_ptr<client::Client>> setup_client();
    // RM `path`; a missing node is fine.
    Checked<> remove_tree(const std::string& path);
    // remove_tree() after a workload (not with --keep); a failure is
    // reported as an error measurement unless the workload already
    // reported one.
    void cleanup(const std::string& workload, const std::string& path);

private:
    explicit Context(Options opts);

    Options opts_;
    std::unique_ptr<Transport> transport_;
    std::optional<pid_t> daemon_pid_;
    std::string daemon_name_;
    std::string placement_;
    std::vector<Measurement> results_;
};

// Daemon CPU time, daemon peak RSS and client CPU time over one phase.
class Meter {
public:
    explicit Meter(const Context& ctx) : pid_(ctx.daemon_pid()) {}
    // Reset the daemon's VmHWM (when allowed) and take the CPU snapshots.
    void start();
    // Fill daemon_cpu_s, daemon_peak_rss_kib, peak_rss_reset, client_cpu_s.
    void finish(Measurement& m) const;

private:
    std::optional<pid_t> pid_;
    std::optional<double> daemon_cpu0_;
    double client_cpu0_ = 0;
    bool reset_ = false;
};

// This process's CPU seconds (user + system).
double client_cpu_seconds();

}  // namespace xs::bench
