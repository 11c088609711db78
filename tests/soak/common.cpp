// The soak's shared pieces: violations and counters, percentiles, RssAnon,
// and the toolstack steps every domain goes through (home, INTRODUCE,
// release and the check that nothing of it is left).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

#include "tests/soak/soak.hpp"
#include "tests/support/protocol.hpp"
#include "tools/fakexen/domains.hpp"
#include "transport/wire.hpp"

namespace xs::soak {

using namespace std::chrono_literals;

std::unique_ptr<client::Client> Run::connect() {
    auto c = daemon_->connect();
    c->timeout = 10000ms;
    return c;
}

void Run::violation(const std::string& what) {
    std::lock_guard g(m_);
    ++violation_count_;
    if (violations_.size() < 50) violations_.push_back(what);
}

std::vector<std::string> Run::violations() {
    std::lock_guard g(m_);
    return violations_;
}

std::uint64_t Run::violation_count() {
    std::lock_guard g(m_);
    return violation_count_;
}

void Run::add(const Counts& c) {
    std::lock_guard g(m_);
    for (const auto& [k, v] : c) counts_[k] += v;
}

Counts Run::counts() {
    std::lock_guard g(m_);
    return counts_;
}

double Latencies::percentile(double p) const {
    if (us.empty()) return 0;
    std::vector<double> s = us;
    std::size_t k = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(s.size()))) - 1;
    k = std::min(k, s.size() - 1);
    std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(k), s.end());
    return s[k];
}

std::map<std::string, Latencies::KindFigures> Latencies::by_kind() const {
    std::map<std::string, Latencies> split;
    for (std::size_t i = 0; i < us.size() && i < kinds.size(); ++i) split[kinds[i]].us.push_back(us[i]);
    double tail = percentile(99);
    std::map<std::string, KindFigures> out;
    for (const auto& [kind, l] : split) {
        KindFigures f{l.us.size(), 0, l.percentile(50), l.percentile(99)};
        f.in_tail = static_cast<std::size_t>(std::count_if(l.us.begin(), l.us.end(), [tail](double v) { return v > tail; }));
        out[kind] = f;
    }
    return out;
}

std::optional<std::size_t> rss_anon(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (in >> key) {
        if (key == "RssAnon:") {
            std::size_t kib = 0;
            in >> kib;
            return kib * 1024;
        }
        std::string rest;
        std::getline(in, rest);
    }
    return std::nullopt;
}

std::optional<RunQueueWait> run_queue_wait(pid_t pid, pid_t tid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/schedstat");
    std::uint64_t on_cpu = 0, waiting = 0;
    if (!(in >> on_cpu >> waiting)) return std::nullopt;
    return RunQueueWait{std::chrono::nanoseconds(on_cpu), std::chrono::nanoseconds(waiting)};
}

bool create_and_introduce(Run& run, client::Client& c, DomId d) {
    std::string home = "/local/domain/" + std::to_string(d);
    std::string id = std::to_string(d);
    auto step = [&](const char* what, const Result<>& r) {
        if (!r) run.violation("toolstack " + std::string(what) + " for domain " + id + ": " + testing::outcome(r));
        return r.has_value();
    };
    return step("write home", c.write(home, "")) && step("home perms", c.set_perms(home, {"n0", "r" + id})) &&
           step("write domid", c.write(home + "/domid", id)) && step("write data", c.write(home + "/data", "")) &&
           step("data perms", c.set_perms(home + "/data", {"n" + id})) &&
           step("INTRODUCE", [&]() -> Result<> {
               auto info = fakexen::domain_info(run.host(), d);
               if (!info) return fail(info.error());
               auto r = c.request_string(wire::kIntroduce, {id, std::to_string(info->record.ring_gfn),
                                                            std::to_string(info->record.store_port)});
               if (!r) return fail(r.error());
               return {};
           }());
}

bool verify_released(Run& run, client::Client& c, DomId d, Counts& counts) {
    std::string id = std::to_string(d);
    auto deadline = Clock::now() + 30s;
    for (;;) {
        auto r = c.request_string(wire::kIsDomainIntroduced, {id});
        if (r && *r == "F") break;
        if (Clock::now() > deadline) {
            run.violation("domain " + id + " still introduced 30 s after its destruction");
            return false;
        }
        std::this_thread::sleep_for(5ms);
    }
    bool ok = true;
    auto data = c.read("/local/domain/" + id + "/data");
    if (testing::outcome(data) != "ENOENT") {
        run.violation("domain " + id + ": its data survived its death (" + testing::outcome(data) + ")");
        ok = false;
    }
    if (auto q = c.control({"quota", id})) {
        for (const char* item : {"nodes", "watches", "transactions", "outstanding"})
            if (testing::quota_row(*q, item).value_or(0) != 0) {
                run.violation("domain " + id + " dead, but still accounted " + item + ": " + *q);
                ok = false;
            }
    }
    auto rm = c.rm("/local/domain/" + id);
    if (!rm) run.violation("toolstack rm of dead domain " + id + "'s home: " + testing::outcome(rm));
    ++counts["hostile deaths verified"];
    return ok;
}

}  // namespace xs::soak
