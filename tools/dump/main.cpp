// xstore-dump: print a migration stream (a live-update state file) as text.
//
//   xstore-dump [--summary] STREAM
//
// Exit status: 0 the stream reads to END, 1 it is malformed or unreadable
// (what was read is printed, the error goes to stderr), 2 usage error.
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

#include "migration/reader.hpp"
#include "tools/dump/format.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: xstore-dump [--summary] STREAM\n"
    "Prints every record of a xenstore migration stream with its offset and length,\n"
    "then a summary; --summary prints only the summary.\n";

int usage(std::string_view why) {
    std::cerr << "xstore-dump: " << why << "\n" << kUsage;
    return 2;
}

bool read_whole(const std::string& path, std::string& out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return !f.bad();
}

int dump(std::string_view stream, bool summary_only) {
    using namespace xs;
    auto reader = migration::Reader::open(stream);
    if (!reader) {
        std::cerr << "xstore-dump: " << reader.error().describe() << "\n";
        return 1;
    }
    dump::Totals totals;
    for (;;) {
        auto rec = reader->next();
        if (!rec) {
            std::cout.flush();
            std::cerr << "xstore-dump: " << rec.error().describe() << "\n";
            return 1;
        }
        dump::Frame f{reader->offset(), reader->type(), reader->length(), reader->big_endian()};
        if (!*rec) {
            totals.end(f);
            if (!summary_only) std::cout << "@" << f.offset << " END\n";
            break;
        }
        totals.add(f, **rec);
        if (!summary_only) std::cout << dump::describe(f, **rec) << "\n";
    }
    std::cout << totals.text(reader->version(), reader->big_endian(), stream.size()) << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bool summary_only = false;
    std::string path;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        }
        if (a == "--summary") {
            summary_only = true;
        } else if (a.starts_with("-")) {
            return usage("unknown option " + std::string(a));
        } else if (!path.empty()) {
            return usage("one stream at a time");
        } else {
            path = a;
        }
    }
    if (path.empty()) return usage("no stream given");
    std::string stream;
    if (!read_whole(path, stream)) {
        std::cerr << "xstore-dump: cannot read " << path << "\n";
        return 1;
    }
    return dump(stream, summary_only);
}
