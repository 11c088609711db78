#include <doctest/doctest.h>

#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "daemon/config/log.hpp"
#include "daemon/config/signals.hpp"

using namespace xs::log;
using namespace std::chrono_literals;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "xstored-trace-XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        for (const char* f : {"/trace", "/trace.1"}) ::unlink((path + f).c_str());
        ::rmdir(path.c_str());
    }
};

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("trace lines show NULs as spaces and escape other control characters") {
    using namespace std::string_literals;
    CHECK(format_trace_io("TS", Direction::In, 7, 3, "WRITE", "/local/domain/3/a\0value"s) ==
          "TS IN 7 (d3) WRITE (/local/domain/3/a value)\n");
    CHECK(format_trace_io("TS", Direction::Out, 12, 0, "READ", "x\0"s) == "TS OUT 12 (d0) READ (x )\n");
    CHECK(format_trace_io("TS", Direction::Out, 1, 0, "ERROR", "") == "TS OUT 1 (d0) ERROR ()\n");
    std::string s;
    append_payload(s, "a\nb\x01\x7f\xc3\xa9"s);
    CHECK(s == "a\\x0ab\\x01\\x7f\xc3\xa9");
}

TEST_CASE("trace timestamps have a fixed shape") {
    std::string ts = trace_timestamp(std::chrono::system_clock::time_point{} + 86400s * 365 * 30 + 1234ms);
    REQUIRE(ts.size() == 23);  // YYYY-MM-DD HH:MM:SS.mmm
    CHECK(ts[4] == '-');
    CHECK(ts[10] == ' ');
    CHECK(ts[19] == '.');
    CHECK(ts.substr(20) == "234");
}

TEST_CASE("rate limiting: one message per interval per key") {
    RateLimiter lim(10s);
    const auto t0 = RateLimiter::Clock::time_point{} + 1000s;
    CHECK(lim.allow(5, t0) == 0u);
    CHECK(!lim.allow(5, t0 + 1s));
    CHECK(!lim.allow(5, t0 + 9999ms));
    CHECK(lim.allow(6, t0 + 1s) == 0u);  // other keys are independent
    auto again = lim.allow(5, t0 + 10s);
    REQUIRE(again);
    CHECK(*again == 2u);  // two were refused in between
    CHECK(!lim.allow(5, t0 + 11s));
    CHECK(lim.allow(5, t0 + 30s) == 1u);
    lim.forget(5);
    CHECK(lim.allow(5, t0 + 31s) == 0u);
    CHECK(lim.tracked() == 2);
}

TEST_CASE("rate limiter drops stale keys instead of growing without bound") {
    RateLimiter lim(10s);
    const auto t0 = RateLimiter::Clock::time_point{} + 1000s;
    for (std::uint64_t k = 0; k < 5000; ++k) REQUIRE(lim.allow(k, t0));
    CHECK(lim.tracked() == 5000);  // all recent: nothing may be forgotten
    REQUIRE(lim.allow(99999, t0 + 20s));
    CHECK(lim.tracked() == 1);
}

TEST_CASE("levels") {
    set_level(Level::Warning);
    CHECK(enabled(Level::Error));
    CHECK(enabled(Level::Warning));
    CHECK(!enabled(Level::Info));
    set_level(Level::Debug);
    CHECK(enabled(Level::Debug));
    CHECK(level_name(Level::Warning) == "warning");
    CHECK(format("%s=%d", "x", 5) == "x=5");
    std::string big(1000, 'y');
    CHECK(format("<%s>", big.c_str()) == "<" + big + ">");
    set_level(Level::Info);
}

TEST_CASE("trace file: off by default, on/off at run time, reopen after rotation, mode 0600") {
    TempDir dir;
    const std::string file = dir.path + "/trace";
    set_trace_file("");
    REQUIRE(trace_on());  // nothing configured: nothing opened, no error
    CHECK(!trace_enabled());

    set_trace_file(file);
    CHECK(trace_file() == file);
    CHECK(!trace_enabled());
    trace_io(Direction::In, 1, 0, "READ", "/a");  // not traced: tracing is off
    REQUIRE(trace_on());
    CHECK(trace_enabled());
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    trace_io(Direction::In, 1, 0, "READ", std::string("/b\0", 3));
    trace_text("watch event dropped");
    std::string text = slurp(file);
    CHECK(text.find("/a") == std::string::npos);
    CHECK(text.find(" IN 1 (d0) READ (/b )\n") != std::string::npos);
    CHECK(text.find(" watch event dropped\n") != std::string::npos);
    CHECK(text.rfind("\n***\n", 0) == 0);

    // Log messages are copied to the trace while it is on.
    set_level(Level::Info);
    init(Sink::Stderr, Level::Info);
    debug("not at this level");
    CHECK(slurp(file).find("not at this level") == std::string::npos);

    // Rotation: the file moves away, SIGHUP makes the daemon reopen the name.
    REQUIRE(::rename(file.c_str(), (dir.path + "/trace.1").c_str()) == 0);
    REQUIRE(reopen());
    trace_io(Direction::Out, 2, 4, "WRITE", "OK");
    CHECK(slurp(file).find(" OUT 2 (d4) WRITE (OK)\n") != std::string::npos);
    CHECK(slurp(dir.path + "/trace.1").find("WRITE") == std::string::npos);

    trace_off();
    CHECK(!trace_enabled());
    trace_io(Direction::In, 3, 0, "READ", "/after-off");
    CHECK(slurp(file).find("after-off") == std::string::npos);
    REQUIRE(reopen());  // while off: stays off
    CHECK(!trace_enabled());
    set_trace_file("");
}

TEST_CASE("signals: SIGHUP asks for a reopen, SIGTERM and SIGINT for an exit") {
    using xs::daemon::SignalAction;
    CHECK(xs::daemon::action_for(SIGTERM) == SignalAction::Exit);
    CHECK(xs::daemon::action_for(SIGINT) == SignalAction::Exit);
    CHECK(xs::daemon::action_for(SIGHUP) == SignalAction::Reopen);
    CHECK(xs::daemon::action_for(SIGUSR1) == SignalAction::None);
    auto fd = xs::daemon::open_signal_fd();
    REQUIRE(fd);
    CHECK(xs::daemon::read_signal(*fd) == SignalAction::None);  // nothing pending
    REQUIRE(::raise(SIGHUP) == 0);  // blocked, so it waits in the signalfd
    CHECK(xs::daemon::read_signal(*fd) == SignalAction::Reopen);
    REQUIRE(::raise(SIGTERM) == 0);
    CHECK(xs::daemon::read_signal(*fd) == SignalAction::Exit);
    ::close(*fd);
}

namespace {
// Runs fn with stderr redirected to a file; returns what was written.
template <class F>
std::string capture_stderr(F fn) {
    TempDir dir;
    const std::string file = dir.path + "/trace";
    int saved = ::dup(STDERR_FILENO);
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
    fn();
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    return slurp(file);
}
}  // namespace

TEST_CASE("stderr sink: one prefixed line per message, below the level nothing") {
    init(Sink::Stderr, Level::Info);
    std::string out = capture_stderr([] {
        error("disk %s full", "/var");
        warning("w%d", 2);
        info("i");
        debug("hidden");
        write(Level::Error, "plain string");
    });
    CHECK(out == "xstored: error: disk /var full\nxstored: warning: w2\nxstored: info: i\nxstored: error: plain string\n");
}

TEST_CASE("the rate-limited helper writes the first message of a burst only") {
    init(Sink::Stderr, Level::Info);
    RateLimiter lim(1h);
    std::string out = capture_stderr([&] {
        for (int i = 0; i < 5; ++i) limited(lim, 7, Level::Warning, "Domain %u exceeds soft memory quota", 7u);
        limited(lim, 8, Level::Warning, "Domain %u exceeds soft memory quota", 8u);
    });
    CHECK(out ==
          "xstored: warning: Domain 7 exceeds soft memory quota\n"
          "xstored: warning: Domain 8 exceeds soft memory quota\n");
}
