// xstore-diff: the differential run of xstored against Xen's C xenstored
// 4.17 on the fake-Xen harness (docs/conformance.md, "Differential
// testing").
//
//   xstore-diff [--seed N] [--episodes N | --minutes M] [--steps N] [--out DIR] [--shrink SECONDS]
//   xstore-diff --replay FILE...
//
// Exit status: 0 when every difference was explained by a rule (or when
// this machine cannot run the C daemon: "SKIPPED:" is printed), 1 when one
// was not, 2 for a usage error.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/differential/explore.hpp"
#include "tests/support/env.hpp"

using namespace xs::diff;

namespace {

std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

struct Args {
    Programs programs;
    ExploreOptions explore;
    std::vector<std::string> replay;
};

const char* kUsage =
    "usage: xstore-diff [--seed N] [--episodes N | --minutes M] [--steps N] [--out DIR] [--shrink SECONDS] [--trace]\n"
    "       xstore-diff --replay FILE... | --replay-dir DIR\n"
    "programs: --xstored PATH --c-daemon PATH --fakexen PATH --fakexen-libdir DIR\n"
    "          (defaults: $XSTORED_BIN, $XSTORED_REFERENCE_C, $XSTORE_FAKEXEN_CLI, $XSTORE_FAKEXEN_LIBDIR)\n";

// Every reproducer (*.steps) in `dir`, in name order.
bool reproducers_in(const std::string& dir, std::vector<std::string>& out) {
    std::error_code ec;
    std::vector<std::string> found;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.path().extension() == ".steps") found.push_back(e.path().string());
    if (ec) return false;
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
    if (out.empty()) out.push_back("");  // nothing to replay: still a replay run
    return true;
}

bool parse(int argc, char** argv, Args& a) {
    a.programs.xstored = env_or("XSTORED_BIN", "xstored");
    a.programs.c_daemon = env_or("XSTORED_REFERENCE_C", "/usr/lib/xen-4.17/bin/xenstored");
    a.programs.fakexen_cli = env_or("XSTORE_FAKEXEN_CLI", "xstore-fakexen");
    a.programs.fakexen_libdir = env_or("XSTORE_FAKEXEN_LIBDIR", "");
    a.programs.reply_wait = xs::testing::scaled(std::chrono::milliseconds(5000));
    a.explore.seed = std::random_device{}();
    for (int i = 1; i < argc; ++i) {
        std::string opt = argv[i];
        auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (opt == "--seed") a.explore.seed = std::stoull(value());
        else if (opt == "--episodes") a.explore.episodes = std::stoul(value());
        else if (opt == "--minutes")
            a.explore.until = std::chrono::steady_clock::now() + std::chrono::minutes(std::stoul(value()));
        else if (opt == "--steps") a.explore.steps = std::stoul(value());
        else if (opt == "--out") a.explore.out_dir = value();
        else if (opt == "--shrink") a.explore.shrink_budget = std::chrono::seconds(std::stoul(value()));
        else if (opt == "--trace") a.explore.trace = true;
        else if (opt == "--xstored") a.programs.xstored = value();
        else if (opt == "--c-daemon") a.programs.c_daemon = value();
        else if (opt == "--fakexen") a.programs.fakexen_cli = value();
        else if (opt == "--fakexen-libdir") a.programs.fakexen_libdir = value();
        else if (opt == "--replay") {
            while (i + 1 < argc && argv[i + 1][0] != '-') a.replay.push_back(argv[++i]);
        } else if (opt == "--replay-dir") {
            if (!reproducers_in(value(), a.replay)) return false;
        } else return false;
    }
    return true;
}

int skipped(const StartError& e) {
    std::printf("SKIPPED: cannot run Xen's C xenstored on the fake-Xen harness here: %s\n", e.why.c_str());
    return 0;
}

int replay_files(const Args& a) {
    int status = 0;
    for (const std::string& file : a.replay) {
        if (file.empty()) continue;
        std::ifstream in(file);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::string why;
        auto script = parse_script(text, why);
        if (!in || !script) {
            std::printf("%s: cannot read: %s\n", file.c_str(), why.c_str());
            return 2;
        }
        ReplayResult r = replay(a.programs, script->steps, a.explore.trace);
        if (r.start_error) {
            if (r.start_error->cannot) return skipped(*r.start_error);
            std::printf("%s: %s\n", file.c_str(), r.start_error->why.c_str());
            return 1;
        }
        std::printf("%s: %zu steps, %s\n", file.c_str(), script->steps.size(),
                    r.difference ? "DIFFERENCE" : "no unexplained difference");
        if (r.difference) {
            std::printf("%s", r.difference->report.c_str());
            status = 1;
        }
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    Args a;
    if (!parse(argc, argv, a)) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    if (!a.replay.empty()) return replay_files(a);
    std::printf("xstore-diff: seed %llu\n", static_cast<unsigned long long>(a.explore.seed));
    ExploreResult r = explore(a.programs, a.explore);
    if (r.start_error) {
        if (r.start_error->cannot) return skipped(*r.start_error);
        std::printf("cannot start the daemons: %s\n", r.start_error->why.c_str());
        return 1;
    }
    std::printf("%s", r.tally.text().c_str());
    return r.tally.differences.empty() ? 0 : 1;
}
