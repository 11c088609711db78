// xstore-echo: the physical-limit baseline. A minimal single-threaded server
// on a unix socket that answers every request at once with a canned reply
// (same type, req_id and tx_id), reading and writing in large batches. It
// stores nothing: whatever the benchmark measures against it is the cost of
// the transport and of the benchmark client itself.
#pragma once

#include <csignal>
#include <cstdint>
#include <string>
#include <string_view>

namespace xs::bench::echo {

// The canned payload answering a request of `type`: "OK\0" for most,
// "1\0" for TRANSACTION_START (a transaction id), "0\0\0" for
// DIRECTORY_PART (generation 0, end of list).
std::string_view canned_reply(std::uint32_t type);

// Answer every complete request at the front of `in`, appending the replies
// to `out`. Returns the bytes consumed, or -1 when a header announces more
// than the protocol's payload maximum (the connection must be dropped).
long answer_requests(std::string_view in, std::string& out);

// Serve `socket_path` until `stop` becomes non-zero (set by a signal).
// Returns a process exit status; reasons for failure go to stderr.
int serve(const std::string& socket_path, volatile std::sig_atomic_t& stop);

}  // namespace xs::bench::echo
