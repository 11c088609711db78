// CONTROL stats texts and the per-minute request rate.
#include <doctest/doctest.h>

#include <string>

#include "daemon/stats.hpp"

using namespace xs::daemon;

namespace {

StatsSnapshot sample(std::size_t domains) {
    StatsSnapshot s;
    s.version = "1.2.3";
    s.pid = 42;
    s.uptime_s = 3725.5;
    s.live_updates = 2;
    s.event_loop = "epoll";
    s.sockets = 3;
    s.rings = 2;
    s.domains = 2;
    s.nodes = 70;
    s.memory = 9000;
    s.rss = 1 << 20;
    s.watches = 5;
    s.transactions = 1;
    s.events_queued = 4;
    s.output_queued = 100;
    s.requests = 1000;
    s.quota_refusals = 7;
    s.per_s_since_start = 0.25;
    s.per_s_last_minute = 2.5;
    for (std::size_t i = 0; i < domains; ++i)
        s.per_domain.push_back(DomainFigures{static_cast<xs::DomId>(i), 10, static_cast<std::int64_t>(5000 - i), 1, 0, 2});
    return s;
}

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("stats text: one figure a line, then a table of domains") {
    std::string t = format_stats_text(sample(2), 4095);
    CHECK(t.rfind("xstored 1.2.3, pid 42, up 1h02m05s, 2 live updates, epoll loop\n", 0) == 0);
    CHECK(has(t, "\nconnections: 5 (3 sockets, 2 rings)\n"));
    CHECK(has(t, "\ndomains: 2\nnodes: 70\n"));
    CHECK(has(t, "\nmemory: 9000 bytes accounted, 1048576 bytes resident\n"));
    CHECK(has(t, "\nwatches: 5\ntransactions: 1 open\n"));
    CHECK(has(t, "\nevents queued: 4 (100 bytes of output queued)\n"));
    CHECK(has(t, "\nrequests: 1000 (0.2/s since start, 2.5/s over the last minute)\n"));
    CHECK(has(t, "\nquota refusals: 7\n"));
    CHECK(has(t, "\n     0        10       5000        1      0           2\n"));
    CHECK(has(t, "\n     1        10       4999        1      0           2\n"));
    CHECK(!has(t, "not shown"));
}

TEST_CASE("stats JSON: the documented fields") {
    std::string j = format_stats_json(sample(1), 4095);
    CHECK(j == "{\"schema\":1,\"version\":\"1.2.3\",\"pid\":42,\"uptime_s\":3725.500,\"live_updates\":2,"
               "\"event_loop\":\"epoll\",\"connections\":{\"sockets\":3,\"rings\":2},\"domains\":2,\"nodes\":70,"
               "\"memory\":{\"accounted\":9000,\"resident\":1048576},\"watches\":5,\"transactions\":1,"
               "\"events_queued\":4,\"output_queued_bytes\":100,"
               "\"requests\":{\"total\":1000,\"per_s_since_start\":0.250,\"per_s_last_minute\":2.500},"
               "\"quota_refusals\":7,\"per_domain\":[{\"domid\":0,\"nodes\":10,\"memory\":5000,\"watches\":1,"
               "\"transactions\":0,\"outstanding\":2}],\"per_domain_omitted\":0}\n");
}

TEST_CASE("stats texts fit the reply: the largest domains stay, the rest are counted") {
    StatsSnapshot s = sample(500);
    std::string t = format_stats_text(s, 4095);
    std::string j = format_stats_json(s, 4095);
    CHECK(t.size() <= 4095);
    CHECK(j.size() <= 4095);
    CHECK(has(t, "more domains not shown)\n"));
    CHECK(has(t, "       5000 "));  // domain 0 (most memory) is first
    CHECK(has(j, "\"per_domain_omitted\":"));
    CHECK(!has(j, "\"per_domain_omitted\":0}"));
    CHECK(j.back() == '\n');
    CHECK(j[j.size() - 2] == '}');
}

TEST_CASE("requests per second over the last minute") {
    RateWindow w;
    CHECK(w.per_second(1000, 500) == 0.0);
    w.add(1000, 30);
    w.add(1000, 30);
    w.add(1030, 60);
    CHECK(w.per_second(1030, 500) == doctest::Approx(2.0));  // 120 over 60 s
    CHECK(w.per_second(1059, 500) == doctest::Approx(2.0));
    CHECK(w.per_second(1060, 500) == doctest::Approx(1.0));  // second 1000 left the window
    CHECK(w.per_second(1090, 500) == doctest::Approx(0.0));
    RateWindow young;
    young.add(5, 20);
    CHECK(young.per_second(5, 10.0) == doctest::Approx(2.0));  // a daemon up 10 s: over 10 s
    w.add(1060 + 60, 6);  // the slot second 1060 used: reused, not added to
    CHECK(w.per_second(1120, 500) == doctest::Approx(0.1));
}
