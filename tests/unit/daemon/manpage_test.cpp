// xstored(8) documents everything the daemon accepts: every option the
// parser takes (found by trying each letter, and each long name getopt is
// given), every signal it acts on, every environment variable it reads,
// the files it uses by default.
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/config/handoff_env.hpp"
#include "daemon/config/option_table.hpp"
#include "daemon/config/options.hpp"
#include "daemon/config/signals.hpp"

using namespace xs::daemon;

namespace {

// The page as text a reader sees: roff's escaped hyphens and backslashes
// turned back.
std::string page_text() {
    const char* path = std::getenv("XSTORED_MAN");
    REQUIRE_MESSAGE(path, "XSTORED_MAN names the generated page");
    std::ifstream in(path);
    REQUIRE(in);
    std::ostringstream s;
    s << in.rdbuf();
    std::string out;
    std::string raw = s.str();
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '-' || raw[i + 1] == 'e')) {
            out += raw[i + 1] == '-' ? '-' : '\\';
            ++i;
        } else {
            out += raw[i];
        }
    }
    return out;
}

std::string section(const std::string& page, const std::string& name) {
    std::size_t at = page.find(".SH " + name + "\n");
    REQUIRE_MESSAGE(at != std::string::npos, "no section " << name);
    std::size_t end = page.find("\n.SH ", at + 1);
    return page.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

struct Probe {
    ParseOutcome outcome;
    std::set<std::string> env_read;
};

Probe parse(std::vector<std::string> args) {
    args.insert(args.begin(), "xstored");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    Probe p;
    p.outcome = parse_options(static_cast<int>(args.size()), argv.data(), [&p](const char* name) -> const char* {
        p.env_read.insert(name);
        return nullptr;
    });
    return p;
}

// Whether the parser knows the option at all (a bad value is still "known").
bool accepted(const std::string& opt) {
    for (const char* value : {"", "1"}) {
        std::vector<std::string> args{opt};
        if (*value) args.push_back(value);
        std::string msg = parse(args).outcome.message;
        if (msg.find("unknown option") == std::string::npos && msg.find("unexpected argument") == std::string::npos)
            return true;
    }
    return false;
}

}  // namespace

TEST_CASE("every short option the parser accepts is in the page's OPTIONS") {
    std::string options = section(page_text(), "OPTIONS");
    int found = 0;
    for (char c = '0'; c <= 'z'; ++c) {
        if (!std::isalnum(static_cast<unsigned char>(c))) continue;
        std::string opt = std::string("-") + c;
        if (!accepted(opt)) continue;
        ++found;
        CAPTURE(opt);
        CHECK(options.find(".B " + opt + ", --") != std::string::npos);
    }
    CHECK(found >= 20);  // the probe works: the C daemon's letters are there
}

TEST_CASE("every long option the parser accepts is in the page's OPTIONS") {
    std::string options = section(page_text(), "OPTIONS");
    for (const OptionSpec& o : option_specs()) {
        std::string opt = std::string("--") + o.long_name;
        CAPTURE(opt);
        REQUIRE(accepted(opt));
        CHECK(options.find(opt) != std::string::npos);
    }
    CHECK(!accepted("--no-such-option"));
}

TEST_CASE("every signal the daemon acts on is in SIGNALS") {
    std::string signals = section(page_text(), "SIGNALS");
    for (int s = 1; s < NSIG; ++s) {
        if (action_for(s) == SignalAction::None) continue;
        std::string name = std::string("SIG") + sigabbrev_np(s);
        CAPTURE(name);
        CHECK(signals.find(name) != std::string::npos);
    }
    CHECK(signals.find("SIGPIPE") != std::string::npos);  // ignored, said so
}

TEST_CASE("every environment variable the daemon reads is in ENVIRONMENT") {
    std::string env = section(page_text(), "ENVIRONMENT");
    Probe p = parse({});
    REQUIRE(p.outcome.config);
    CHECK(p.env_read.size() >= 2);
    for (const std::string& name : p.env_read) {
        CAPTURE(name);
        CHECK(env.find(".B " + name + "\n") != std::string::npos);
    }
    for (const char* name : {"NOTIFY_SOCKET", "JOURNAL_STREAM"}) CHECK(env.find(name) != std::string::npos);
    for (const char* name : handoff::kAll) {  // a live update's own, set for the program it executes
        CAPTURE(name);
        CHECK(env.find(".B " + std::string(name) + "\n") != std::string::npos);
    }
}

TEST_CASE("--help and the page come from one table") {
    std::string usage = usage_text();
    std::string page = page_text();
    for (const OptionSpec& o : option_specs()) {
        CAPTURE(o.long_name);
        CHECK(usage.find(std::string("--") + o.long_name) != std::string::npos);
        CHECK(page.find(o.detail) != std::string::npos);
    }
}

TEST_CASE("FILES names the files the daemon uses by default") {
    std::string files = section(page_text(), "FILES");
    Probe p = parse({});
    REQUIRE(p.outcome.config);
    const Config& c = *p.outcome.config;
    for (const std::string& f : {c.socket_path, c.rundir + "/state_dump", c.dom0_kva, c.dom0_port}) {
        CAPTURE(f);
        CHECK(files.find(f) != std::string::npos);
    }
    CHECK(files.find("xstored.conf") != std::string::npos);  // what the unit passes to --config
}
