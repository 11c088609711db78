#include "bench/liveupdate_driver.hpp"

#include <algorithm>
#include <cstdio>

#include "bench/proc_stats.hpp"

namespace xs::bench {

namespace {

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kTickNs = 10 * kMs;
// Listening on after the load stopped, for late duplicates.
constexpr std::uint64_t kSettleNs = 200 * kMs;
// A request, reply or event missing this long after it was due (and after
// the update's OK) is lost: nothing is that slow between updates.
constexpr std::uint64_t kLostAfterNs = 5000 * kMs;

std::string z(std::string_view s) { return std::string(s) + std::string(1, '\0'); }

std::string_view text_of(std::string_view payload) {
    if (!payload.empty() && payload.back() == '\0') payload.remove_suffix(1);
    return payload;
}

std::string seconds_text(std::uint64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ns) / 1e9);
    return buf;
}

// The node a client's current round writes and reads, without its NUL.
std::string_view current_path(const LuClient& c) {
    return text_of(c.keys[c.round % c.keys.size()]);
}

}  // namespace

LuDriver::LuDriver(std::vector<LuClient> clients, LuConfig cfg, Meter& meter)
    : clients_(std::move(clients)), cfg_(std::move(cfg)), meter_(meter), gaps_(clients_.size(), 0) {}

void LuDriver::start(Engine& e) {
    t_start_ = e.now();
    gaps_ = DowntimeTracker(clients_.size(), t_start_);
    meter_.start();
    for (std::size_t i = 0; i < clients_.size(); ++i) begin_round(e, i);
    next_update_ = t_start_ + cfg_.interval_ns;
    next_tick_ = t_start_ + kTickNs;
}

// ---------------------------------------------------------------- load

void LuDriver::begin_round(Engine& e, std::size_t i) {
    LuClient& c = clients_[i];
    if (phase_ == Phase::kDraining || phase_ == Phase::kSettling) {
        c.step = LuClient::Step::kIdle;
        if (++idle_ == clients_.size()) {
            t_end_ = e.now();
            meter_.finish(meter_out_);
        }
        return;
    }
    ++c.round;
    std::size_t j = c.round % c.keys.size();
    c.value = "r" + std::to_string(c.round);
    c.want_event = j < c.watched;
    c.got_reply = c.got_event = false;
    c.step = LuClient::Step::kWrite;
    c.since_ns = e.now();
    e.send(*e.conns()[i], wire::kWrite, 0, {c.keys[j], c.value});
}

void LuDriver::send_read(Engine& e, std::size_t i) {
    LuClient& c = clients_[i];
    c.step = LuClient::Step::kRead;
    c.since_ns = e.now();
    e.send(*e.conns()[i], wire::kRead, 0, {c.keys[c.round % c.keys.size()]});
}

void LuDriver::client_reply(Engine& e, std::size_t i, const Reply& r) {
    latency_.record(r.latency_ns);
    gaps_.reply(i, e.now());
    LuClient& c = clients_[i];
    if (r.is_error())
        return e.fail(c.label + ": " + std::string(wire::type_name(r.request_type)) + " " +
                      std::string(current_path(c)) + ": " + std::string(r.error()));
    if (c.step == LuClient::Step::kWrite) {
        c.got_reply = true;
        if (!c.want_event || c.got_event) send_read(e, i);
        return;
    }
    if (r.payload != c.value)
        return e.fail(c.label + ": READ " + std::string(current_path(c)) + " gave '" + std::string(r.payload) +
                      "', expected '" + c.value + "'");
    begin_round(e, i);
}

void LuDriver::on_reply(Engine& e, Conn& conn, const Reply& r) {
    auto i = static_cast<std::size_t>(conn.index());
    if (i == clients_.size()) return control_reply(e, r);
    client_reply(e, i, r);
}

void LuDriver::on_event(Engine& e, Conn& conn, const Event& ev) {
    auto i = static_cast<std::size_t>(conn.index());
    if (i == clients_.size())
        return e.fail("control connection: unexpected watch event " + std::string(ev.path));
    LuClient& c = clients_[i];
    bool expected = c.step == LuClient::Step::kWrite && c.want_event && !c.got_event && ev.token == kLuToken &&
                    ev.path == current_path(c);
    if (!expected)
        return e.fail(c.label + ": unexpected watch event " + std::string(ev.path) + " " + std::string(ev.token) +
                      " (a duplicate, or one no write caused)");
    c.got_event = true;
    ++events_;
    if (c.got_reply) send_read(e, i);
}

// ---------------------------------------------------------------- the update

void LuDriver::sample_rss(std::int64_t& rss, std::int64_t& anon) const {
    if (!cfg_.pid) return;
    rss = rss_kib(*cfg_.pid).value_or(-1);
    anon = anon_rss_kib(*cfg_.pid).value_or(-1);
}

void LuDriver::start_update(Engine& e) {
    if (figures_.empty()) sample_rss(rss_before, anon_before);
    current_ = {};
    update_began_ = e.now();
    phase_ = Phase::kUpdating;
    control_ = Control::kBinary;
    e.send(control(e), wire::kControl, 0, {z("live-update") + z("-f") + z(cfg_.binary)});
}

// -s again after BUSY (as xenstore-control does); the update's clock runs
// from the first one.
void LuDriver::send_start(Engine& e) {
    if (control_ != Control::kStart) {
        control_ = Control::kStart;
        s_sent_ = e.now();
        gaps_.begin(s_sent_);
    }
    std::string p = z("live-update") + z("-s") + z("-t") + z("60");
    if (cfg_.version) p += z("-v") + z(std::to_string(*cfg_.version));
    e.send(control(e), wire::kControl, 0, {p});
}

void LuDriver::control_reply(Engine& e, const Reply& r) {
    // The binary by its file name: the message lands in reports, which name no machine's paths.
    std::string which = control_ == Control::kBinary ? "-f " + cfg_.binary.substr(cfg_.binary.rfind('/') + 1) : "-s";
    std::string update = "update " + std::to_string(figures_.size() + 1) + ": ";
    if (r.is_error()) {
        // A daemon without the command says so at -f: it cannot be measured.
        auto status = control_ == Control::kBinary ? kStatusUnsupported : kStatusError;
        return e.fail(Failure{std::string(status), update + "CONTROL live-update " + which + ": " +
                                                       std::string(r.error())});
    }
    std::string_view text = text_of(r.payload);
    if (control_ == Control::kStart && text == "BUSY") {
        ++current_.busy;
        return send_start(e);
    }
    if (text != "OK") return e.fail(update + "live-update " + which + " answered '" + std::string(text) + "'");
    if (control_ == Control::kBinary) return send_start(e);
    update_done(e);
}

void LuDriver::update_done(Engine& e) {
    std::uint64_t t = e.now();
    gaps_.end(t);
    current_.s_to_ok_ms = static_cast<double>(t - s_sent_) / 1e6;
    longest_update_ns_ = std::max(longest_update_ns_, t - s_sent_);
    sample_rss(rss_after, anon_after);
    last_ok_ = t;
    control_ = Control::kNone;
    phase_ = Phase::kLoad;
    next_update_ = t + cfg_.interval_ns;
}

void LuDriver::close_update() {
    current_.gaps = gaps_.close();
    figures_.push_back(current_);
}

// ---------------------------------------------------------------- timers

// Between updates every awaited reply or event comes soon; one that does
// not was lost (in the update before, or by the daemon anyway).
void LuDriver::check_silence(Engine& e) {
    if (phase_ == Phase::kUpdating) return;
    std::uint64_t now = e.now();
    std::uint64_t limit = std::max(kLostAfterNs, 2 * longest_update_ns_);
    for (const LuClient& c : clients_) {
        if (c.step == LuClient::Step::kIdle) continue;
        std::uint64_t from = std::max(c.since_ns, last_ok_);
        if (now - from <= limit) continue;
        std::string what = c.step == LuClient::Step::kWrite && c.got_reply
                               ? "no watch event for WRITE " + std::string(current_path(c))
                               : "no reply to " + std::string(c.step == LuClient::Step::kWrite ? "WRITE " : "READ ") +
                                     std::string(current_path(c));
        std::string after = last_ok_ ? " (" + seconds_text(now - last_ok_) + " after the OK of update " +
                                           std::to_string(figures_.size() + (gaps_.open() ? 1 : 0)) + ")"
                                     : "";
        return e.fail(c.label + ": " + what + " " + seconds_text(now - c.since_ns) + " after it was sent" + after +
                      ": lost");
    }
}

void LuDriver::on_tick(Engine& e) {
    std::uint64_t now = e.now();
    next_tick_ = now + kTickNs;
    check_silence(e);
    switch (phase_) {
        case Phase::kLoad:
            if (now < next_update_) return;
            if (gaps_.open()) {
                if (!gaps_.settled()) return;  // a client still waits since the update
                close_update();
            }
            if (figures_.size() < cfg_.updates) return start_update(e);
            phase_ = Phase::kDraining;
            return;
        case Phase::kUpdating:
            if (now - update_began_ > cfg_.timeout_ns)
                e.fail(Failure{std::string(kStatusTimeout), "update " + std::to_string(figures_.size() + 1) +
                                                                ": no OK within " + seconds_text(cfg_.timeout_ns)});
            return;
        case Phase::kDraining:
            if (idle_ < clients_.size()) return;
            phase_ = Phase::kSettling;
            settle_until_ = now + kSettleNs;
            return;
        case Phase::kSettling:
            if (now >= settle_until_) phase_ = Phase::kDone;
            return;
        case Phase::kDone:
            return;
    }
}

}  // namespace xs::bench
