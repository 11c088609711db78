// The live-update workload's pure parts: how the watches are spread over
// the load connections, how many nodes each one cycles through, and the
// downtime of an update as the clients saw it. No I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace xs::bench {

// Connection `conn`'s share of `watches` spread over `conns` connections
// (the first watches % conns get one more).
std::uint64_t lu_watches_of(std::uint64_t conn, std::uint64_t conns, std::uint64_t watches);

// The nodes a connection writes and reads in turn: one per watch it holds
// (each watch is on one of its own nodes, so its writes cause events), and
// at least four.
std::uint64_t lu_keys_of(std::uint64_t watches_held);

// Median and maximum of a list (the median of an even count is the mean of
// the middle two, as the report's medians are); zeros when empty.
struct Spread {
    double median = 0;
    double max = 0;
};
Spread spread_of(std::vector<double> values);

// Downtime as the clients saw it. For each update, and each connection,
// the longest interval between two consecutive replies on that connection
// that overlaps the update: from the -s request leaving to its OK arriving.
// With a request always in flight, that is the longest time the client
// waited for an answer because of the update.
class DowntimeTracker {
public:
    // Every connection's "previous reply" starts at `start_ns`, when the load began.
    DowntimeTracker(std::size_t conns, std::uint64_t start_ns);

    void begin(std::uint64_t s_sent_ns);  // the -s request left
    void end(std::uint64_t ok_ns);        // its OK arrived
    void reply(std::size_t conn, std::uint64_t t_ns);

    // An update has begun and its figures are not yet taken.
    bool open() const { return open_; }
    // Every connection has had a reply after the OK: no gap can grow any more.
    bool settled() const;

    struct Gaps {
        double max_ms = 0;  // the longest gap of any connection
        double p50_ms = 0;  // the median over connections of each one's longest gap
    };
    // The figures of the update; the tracker is ready for the next one.
    Gaps close();

private:
    std::vector<std::uint64_t> last_;  // previous reply per connection
    std::vector<std::uint64_t> gap_;   // longest overlapping gap of this update
    std::vector<bool> after_ok_;       // a reply arrived after the OK
    std::uint64_t s_ = 0, ok_ = 0;
    bool open_ = false, ended_ = false;
};

}  // namespace xs::bench
