// xstore-bench-memory: where a store's bytes go. Builds stores of the
// benchmark's shape (BigStorePlan: domain trees with frontend and backend
// device directories, short values) in-process, optionally with every value
// padded to a given length, and prints per node: the heap the store takes
// (malloc's bytes in use, the node pool's slabs included), the node records
// (rounded as the pool rounds them), the child lists, the pool's free room,
// and the rest (permission lists, inner child-list blocks).
//
//   xstore-bench-memory [--nodes LIST] [--value-bytes N]
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bigstore_plan.hpp"
#include "bench/options.hpp"
#include "store/pool.hpp"
#include "store/tree.hpp"

using namespace xs;

namespace {

struct Figures {
    std::uint64_t nodes = 0;
    double heap = 0, records = 0, child_lists = 0, pool_free = 0, rest = 0;  // bytes
};

std::size_t heap_in_use() {
    struct mallinfo2 m = ::mallinfo2();
    return m.uordblks + m.hblkhd;
}

Figures measure(std::uint64_t target, std::size_t value_bytes) {
    std::size_t heap0 = heap_in_use();
    store::Pool::Stats pool0 = store::pool_stats();
    std::uint64_t generation = 0;
    store::Tree tree = store::Tree::initial(0, generation);
    store::OpContext ctx{store::Caller{}, store::Budget{}, &generation};
    bench::BigStorePlan plan("/bench", target, std::min<std::uint64_t>(10000, target / 2));
    std::string payload, value;
    for (std::uint64_t i = 0; i < plan.writes(); ++i) {
        plan.write_payload(i, payload);
        std::size_t nul = payload.find('\0');
        value.assign(payload, nul + 1);
        if (value.size() < value_bytes) value.resize(value_bytes, 'v');
        (void)tree.write(ctx, std::string_view(payload).substr(0, nul), value);
    }
    Figures f;
    std::size_t records = 0;
    tree.for_each_node([&](std::string_view, const store::Node& n) {
        ++f.nodes;
        records += n.alloc_size() > store::Pool::kMaxSmall ? n.alloc_size() : store::Pool::rounded(n.alloc_size());
    });
    store::Pool::Stats pool = store::pool_stats();
    std::size_t small = pool.small_bytes - pool0.small_bytes, large = pool.large_bytes - pool0.large_bytes;
    std::size_t heap = heap_in_use() - heap0;
    f.heap = static_cast<double>(heap);
    f.records = static_cast<double>(records);
    f.child_lists = static_cast<double>(small + large) - f.records;  // leaf blocks: the rest of the pool's chunks
    f.pool_free = static_cast<double>((pool.slab_bytes - pool0.slab_bytes) - small);
    f.rest = f.heap - f.records - f.child_lists - f.pool_free;
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::uint64_t> sizes{100000, 1000000};
    std::size_t value_bytes = 0;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--nodes") && i + 1 < argc && bench::parse_list(argv[i + 1]))
            sizes = *bench::parse_list(argv[++i]);
        else if (!std::strcmp(argv[i], "--value-bytes") && i + 1 < argc) value_bytes = std::strtoull(argv[++i], nullptr, 10);
        else {
            std::fprintf(stderr, "usage: xstore-bench-memory [--nodes LIST] [--value-bytes N]\n");
            return 2;
        }
    }
    std::printf("%-9s %9s %10s %9s %9s %9s %9s %9s\n", "nodes", "value_B", "heap_MiB", "B/node", "records",
                "children", "pool_free", "rest");
    for (std::uint64_t n : sizes) {
        // Each size in a fresh process: a pool and a heap that already hold
        // the last store's free room would hide what this one takes.
        std::fflush(stdout);
        pid_t child = ::fork();
        if (child < 0) return 1;
        if (child > 0) {
            int status = 0;
            ::waitpid(child, &status, 0);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
            continue;
        }
        Figures f = measure(n, value_bytes);
        auto per = [&](double b) { return b / static_cast<double>(f.nodes); };
        std::printf("%-9llu %9zu %10.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", static_cast<unsigned long long>(f.nodes),
                    value_bytes, f.heap / 1048576.0, per(f.heap), per(f.records), per(f.child_lists), per(f.pool_free),
                    per(f.rest));
        std::fflush(stdout);
        ::_exit(0);
    }
    return 0;
}
