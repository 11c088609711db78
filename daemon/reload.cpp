// SIGHUP: the trace file is reopened (log rotation), and the --config file
// and the command line are read again; what they say for the run-time
// settings (OptionSpec::runtime) replaces what is in force. Everything
// else (socket, pid file, domids, the event loop) is fixed for the life of
// the process: a live update with a new command line changes it.
#include <cstdlib>
#include <cstring>
#include <vector>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"

namespace xs::daemon {

namespace {

std::optional<Config> parse_again(const std::vector<std::string>& words, const std::string& dir, std::string& why) {
    std::vector<std::string> copy = words;
    std::vector<char*> argv;
    for (std::string& w : copy) argv.push_back(w.data());
    argv.push_back(nullptr);
    auto env = [](const char* n) { return std::getenv(n); };
    ParseOutcome o = parse_options(static_cast<int>(copy.size()), argv.data(), env, dir);
    why = o.message.substr(0, o.message.find('\n'));
    return o.config;
}

// "name old -> new" for each setting that changes.
struct Changes {
    std::string text;
    template <class T>
    void note(const char* name, T before, T after) {
        if (before == after) return;
        text += log::format("%s%s %llu -> %llu", text.empty() ? "" : ", ", name, static_cast<unsigned long long>(before),
                            static_cast<unsigned long long>(after));
    }
};

}  // namespace

void Daemon::reload() {
    if (auto ok = log::reopen(); !ok)
        log::error("SIGHUP: cannot reopen the trace file %s: %s", log::trace_file().c_str(), std::strerror(ok.error().code));
    if (cfg_.config_file.empty()) {
        log::info("SIGHUP: trace file reopened; no --config file to read");
        return;
    }
    std::string why;
    std::optional<Config> f = parse_again(cfg_.argv, cfg_.start_dir, why);
    if (!f) {
        log::error("SIGHUP: %s; settings unchanged", why.c_str());
        return;
    }
    Changes ch;
    ch.note("verbose", cfg_.verbose, f->verbose);
    for (auto& [name, value] : quota::Table(f->limits).named_values(std::nullopt)) {
        ch.note(("quota " + name).c_str(), quotas_.get(std::nullopt, name).value_or(0), value);
        (void)quotas_.set(std::nullopt, name, value);  // names from the table itself: always known
    }
    ch.note("watch-event timeout", cfg_.watch_event_timeout_s, f->watch_event_timeout_s);
    ch.note("socket-queue", cfg_.socket_queue_bytes, f->socket_queue_bytes);
    ch.note("event-queue", cfg_.event_queue, f->event_queue);
    ch.note("event-queue-bytes", cfg_.event_queue_bytes, f->event_queue_bytes);
    ch.note("write-rate", cfg_.write_rate, f->write_rate);
    ch.note("write-burst", cfg_.write_burst, f->write_burst);
    ch.note("transaction-pin", cfg_.transaction_pin, f->transaction_pin);
    ch.note("live-update-stream", lu_stream_version_, f->live_update_stream);
    if (cfg_.write_rate != f->write_rate || cfg_.write_burst != f->write_burst)
        for (auto& [id, d] : domains_.all()) d.credit.configure(f->write_rate, static_cast<double>(f->write_burst));
    cfg_.verbose = f->verbose;
    cfg_.limits = f->limits;
    cfg_.watch_event_timeout_s = f->watch_event_timeout_s;
    cfg_.socket_queue_bytes = f->socket_queue_bytes;
    cfg_.event_queue = f->event_queue;
    cfg_.event_queue_bytes = f->event_queue_bytes;
    cfg_.write_rate = f->write_rate;
    cfg_.write_burst = f->write_burst;
    cfg_.transaction_pin = f->transaction_pin;
    next_unpin_ = 0;  // check every transaction against the new value
    lu_stream_version_ = f->live_update_stream;
    log::set_level(cfg_.verbose ? log::Level::Debug : log::Level::Info);
    log::info("SIGHUP: settings read from %s: %s", cfg_.config_file.c_str(),
              ch.text.empty() ? "nothing changed" : ch.text.c_str());
}

}  // namespace xs::daemon
