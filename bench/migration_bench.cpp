// xstore-bench-migration: how fast the migration stream is written and
// read for a store of the benchmark's shape (BigStorePlan: domain trees
// with frontend and backend directories, a 10,000-child directory), and
// how big it is. In-process: no daemon, no files; what a live update spends
// between the two processes beyond the exec.
//
//   xstore-bench-migration [--nodes LIST] [--repeat N] [--cold]
//   xstore-bench-migration --decode STREAM [--repeat N] [--cold]
//
// --decode times the reading of a stream file (a state_dump kept from a
// live update, say) instead.
// --cold evicts the caches before each decode, as a live update's new
// process meets a stream it never touched.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bench/bigstore_plan.hpp"
#include "bench/options.hpp"
#include "migration/state.hpp"
#include "store/tree.hpp"

using namespace xs;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Writes more memory than any cache holds.
void evict_caches() {
    static std::vector<char> other(std::size_t{128} << 20);
    static char fill = 0;
    std::memset(other.data(), ++fill, other.size());
    asm volatile("" : : "r"(other.data()) : "memory");
}

migration::State build(std::uint64_t nodes) {
    migration::State s;
    s.tree = store::Tree::initial(0, s.generation);
    store::OpContext ctx{store::Caller{}, store::Budget{}, &s.generation};
    bench::BigStorePlan plan("/bench", nodes, 10000);
    std::string payload;
    for (std::uint64_t i = 0; i < plan.writes(); ++i) {
        plan.write_payload(i, payload);
        std::size_t nul = payload.find('\0');
        (void)s.tree.write(ctx, std::string_view(payload).substr(0, nul), std::string_view(payload).substr(nul + 1));
    }
    return s;
}

int decode_file(const char* file, int repeat, bool cold) {
    std::ifstream in(file, std::ios::binary);
    std::string stream((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) {
        std::fprintf(stderr, "cannot read %s\n", file);
        return 1;
    }
    double dec = 1e9;
    std::uint64_t nodes = 0;
    for (int r = 0; r < repeat; ++r) {
        if (cold) evict_caches();
        auto t = Clock::now();
        auto back = migration::decode(stream);
        dec = std::min(dec, seconds_since(t));
        if (!back) {
            std::fprintf(stderr, "%s\n", back.error().describe().c_str());
            return 1;
        }
        nodes = 0;
        back->tree.for_each_node([&](std::string_view, const store::Node&) { ++nodes; });
    }
    std::printf("%-9s %12s %9s %10s %10s\n", "nodes", "stream_B", "B/node", "decode_ms", "decode_MB/s");
    std::printf("%-9llu %12zu %9.1f %10.1f %10.0f\n", static_cast<unsigned long long>(nodes), stream.size(),
                static_cast<double>(stream.size()) / static_cast<double>(nodes), dec * 1e3,
                static_cast<double>(stream.size()) / 1e6 / dec);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::uint64_t> sizes{100000, 1000000};
    int repeat = 3;
    bool cold = false;
    const char* file = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--nodes") && i + 1 < argc && bench::parse_list(argv[i + 1]))
            sizes = *bench::parse_list(argv[++i]);
        else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--cold")) cold = true;
        else if (!std::strcmp(argv[i], "--decode") && i + 1 < argc) file = argv[++i];
        else {
            std::fprintf(stderr, "usage: xstore-bench-migration [--nodes LIST | --decode STREAM] [--repeat N] [--cold]\n");
            return 2;
        }
    }
    if (file) return decode_file(file, repeat, cold);
    std::printf("%-9s %12s %9s %10s %10s %10s %10s\n", "nodes", "stream_B", "B/node", "encode_ms", "encode_MB/s",
                "decode_ms", "decode_MB/s");
    for (std::uint64_t n : sizes) {
        migration::State s = build(n);
        std::uint64_t real = 0;
        s.tree.for_each_node([&](std::string_view, const store::Node&) { ++real; });
        double enc = 1e9, dec = 1e9;
        std::size_t bytes = 0;
        std::string room;  // as the daemon does, into a buffer already the stream's size
        for (int r = 0; r < repeat; ++r) {
            room.reserve(bytes);
            auto t0 = Clock::now();
            auto stream = migration::encode(s, {}, std::move(room));
            enc = std::min(enc, seconds_since(t0));
            if (!stream) return 1;
            bytes = stream->size();
            if (cold) evict_caches();
            auto t1 = Clock::now();
            auto back = migration::decode(*stream);
            dec = std::min(dec, seconds_since(t1));
            if (!back) {
                std::fprintf(stderr, "%s\n", back.error().describe().c_str());
                return 1;
            }
            room = std::move(*stream);
        }
        double mb = static_cast<double>(bytes) / 1e6;
        std::printf("%-9llu %12zu %9.1f %10.1f %10.0f %10.1f %10.0f\n", static_cast<unsigned long long>(real), bytes,
                    static_cast<double>(bytes) / static_cast<double>(real), enc * 1e3, mb / enc, dec * 1e3, mb / dec);
    }
    return 0;
}
