#include "bench/context.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstdio>

#include "bench/clock.hpp"
#include "bench/proc_stats.hpp"

namespace xs::bench {

Context::Context(Options opts) : opts_(std::move(opts)) {}

Checked<std::unique_ptr<Context>> Context::create(Options opts) {
    std::unique_ptr<Context> ctx(new Context(std::move(opts)));
    ctx->transport_ = std::make_unique<UnixTransport>(ctx->opts_.socket);
    auto probe = ctx->transport_->open();
    if (!probe) return unexpected(probe.error());
    ctx->daemon_pid_ = ctx->opts_.daemon_pid ? ctx->opts_.daemon_pid : (*probe)->peer_pid();

    ctx->daemon_name_ = ctx->opts_.daemon_name;
    if (ctx->daemon_name_.empty() && ctx->daemon_pid_) {
        if (auto n = process_name(*ctx->daemon_pid_)) ctx->daemon_name_ = *n;
    }
    if (ctx->daemon_name_.empty()) ctx->daemon_name_ = "unknown";

    ctx->placement_ = ctx->opts_.placement;
    if (ctx->placement_.empty())
        ctx->placement_ = ctx->daemon_pid_ ? placement_label(cpu_affinity(*ctx->daemon_pid_), cpu_affinity(0))
                                           : "unknown";
    return ctx;
}

Measurement Context::measurement(std::string workload, std::string variant, Fields params) const {
    Measurement m;
    m.workload = std::move(workload);
    m.variant = std::move(variant);
    m.params = std::move(params);
    m.daemon = daemon_name_;
    m.placement = placement_;
    return m;
}

void Context::emit(Measurement m) {
    if (opts_.format != Format::kTable) {
        std::printf("%s\n", to_json_line(m).c_str());
        std::fflush(stdout);
    }
    results_.push_back(std::move(m));
}

std::uint64_t Context::deadline() const {
    return now_ns() + static_cast<std::uint64_t>(opts_.timeout_s * 1e9);
}

Checked<std::unique_ptr<client::Client>> Context::setup_client() {
    std::string err;
    auto ch = client::connect_unix(opts_.socket, err);
    if (!ch) return failed("setup connection: " + err);
    auto c = std::make_unique<client::Client>(std::move(ch));
    c->timeout = std::chrono::milliseconds(static_cast<long>(opts_.timeout_s * 1000));
    return c;
}

Checked<> Context::remove_tree(const std::string& path) {
    auto c = setup_client();
    if (!c) return unexpected(c.error());
    auto r = (*c)->rm(path);
    if (!r && r.error().code != ENOENT)
        return failed("RM " + path + ": " + std::string(wire::error_name(r.error().code)));
    return {};
}

void Context::cleanup(const std::string& workload, const std::string& path) {
    if (opts_.keep) return;
    auto r = remove_tree(path);
    if (r || (!results_.empty() && !results_.back().ok())) return;
    Measurement m = measurement(workload, "cleanup", {});
    m.status = r.error().status;
    m.error = r.error().message;
    emit(std::move(m));
}

double client_cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto s = [](timeval tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    return s(ru.ru_utime) + s(ru.ru_stime);
}

void Meter::start() {
    if (pid_) {
        reset_ = reset_peak_rss(*pid_);
        daemon_cpu0_ = cpu_seconds(*pid_);
    }
    client_cpu0_ = client_cpu_seconds();
}

void Meter::finish(Measurement& m) const {
    m.client_cpu_s = client_cpu_seconds() - client_cpu0_;
    if (!pid_) return;
    auto cpu = cpu_seconds(*pid_);
    if (cpu && daemon_cpu0_) m.daemon_cpu_s = *cpu - *daemon_cpu0_;
    m.daemon_peak_rss_kib = peak_rss_kib(*pid_);
    m.peak_rss_reset = reset_;
}

}  // namespace xs::bench
