// How fast the migration codec streams a big store: writes N NODE_DATA
// records (paths and values shaped like a toolstack's, two permissions
// each), reads them back, and prints both times. A benchmark, not a test:
// `meson test -C build --benchmark migration-speed`, or run it directly
// (optional arguments: N, default 1000000; "reserve"). Use a release build.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "migration/reader.hpp"
#include "migration/writer.hpp"

using namespace xs::migration;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    std::vector<std::string> paths(n), values(n);
    for (std::size_t i = 0; i < n; ++i) {
        paths[i] = "/local/domain/" + std::to_string(i % 1000) + "/device/vif/" + std::to_string(i);
        values[i] = "value-" + std::to_string(i * 7919);
    }
    xs::store::PermEntry perms[] = {{1, xs::store::kAccessNone, false}, {0, xs::store::kAccessRead, false}};

    // A caller that knows the store's size reserves the stream at once
    // (Writer::reserve): argument 2 "reserve" measures that.
    bool reserve = argc > 2 && std::string(argv[2]) == "reserve";
    auto t0 = Clock::now();
    Writer w({kVersion2, ByteOrder::kNative, Layout::kLengthWithPadding});
    if (reserve) w.reserve(n * 96);
    NodeData node;
    node.perms = perms;
    for (std::size_t i = 0; i < n; ++i) {
        node.path = paths[i];
        node.value = values[i];
        w.add(node);
    }
    std::string stream = w.finish();
    double write_ms = ms_since(t0);

    auto t1 = Clock::now();
    auto r = Reader::open(stream);
    std::size_t nodes = 0, bytes = 0;
    for (;;) {
        auto rec = r->next();
        if (!rec) {
            std::fprintf(stderr, "%s\n", rec.error().describe().c_str());
            return 1;
        }
        if (!*rec) break;
        const auto& nd = std::get<NodeData>(**rec);
        ++nodes;
        bytes += nd.path.size() + nd.value.size() + nd.perms.size();
    }
    double read_ms = ms_since(t1);
    if (nodes != n || !w.error().empty()) return 1;
    std::printf("%s%zu NODE_DATA records, %.1f MB stream (%zu bytes of content): write %.0f ms (%.0f ns/record), "
                "read %.0f ms (%.0f ns/record), both %.0f ms\n",
                reserve ? "reserved: " : "", n, stream.size() / 1e6, bytes, write_ms, write_ms * 1e6 / n, read_ms, read_ms * 1e6 / n,
                write_ms + read_ms);
    return 0;
}
