// Debian's unmodified xenstore clients (xenstore-utils, xen-utils-4.17)
// against the daemon's socket, found through XENSTORED_PATH as in
// production: their output and exit codes, and Xen's own test-xenstore.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace xs::testing;

namespace {

// Xen's tools live outside PATH; meson passes their location.
std::string tool(const char* env_var, const char* fallback) {
    const char* v = std::getenv(env_var);
    return (v && *v) ? v : fallback;
}

std::string test_xenstore() { return tool("TEST_XENSTORE", "/usr/lib/xen-4.17/bin/test-xenstore"); }
std::string xenstore_control() { return tool("XENSTORE_CONTROL", "/usr/lib/xen-4.17/bin/xenstore-control"); }

CommandResult run(Harness& h, std::vector<std::string> argv, std::chrono::milliseconds limit = 30000ms) {
    return run_command(argv, {{"XENSTORED_PATH", h.daemon().socket_path()}}, scaled(limit));
}

}  // namespace

TEST_CASE("xenstore-write and xenstore-read") {
    Harness h;
    auto w = run(h, {"xenstore-write", "/deb/a", "hello", "/deb/b", "world"});
    INFO(w.describe());
    CHECK(w.exit_code == 0);
    CHECK(w.out == "");
    CHECK(value(h.client().read("/deb/a")) == "hello");
    CHECK(value(h.client().read("/deb/b")) == "world");

    auto r = run(h, {"xenstore-read", "/deb/a"});
    INFO(r.describe());
    CHECK(r.exit_code == 0);
    CHECK(r.out == "hello\n");
    auto two = run(h, {"xenstore-read", "/deb/a", "/deb/b"});
    CHECK(two.exit_code == 0);
    CHECK(two.out == "hello\nworld\n");
    auto prefixed = run(h, {"xenstore-read", "-p", "/deb/a"});
    CHECK(prefixed.exit_code == 0);
    CHECK(prefixed.out == "/deb/a: hello\n");
}

TEST_CASE("xenstore-read of a missing node fails with exit 1") {
    Harness h;
    auto r = run(h, {"xenstore-read", "/deb/missing"});
    INFO(r.describe());
    CHECK(r.exit_code == 1);
    CHECK(r.out == "");
    CHECK(r.err.find("/deb/missing") != std::string::npos);
}

TEST_CASE("xenstore-write escapes: the value's bytes round-trip") {
    Harness h;
    auto w = run(h, {"xenstore-write", "/deb/esc", "tab\\there\\x01"});
    CHECK(w.exit_code == 0);
    CHECK(value(h.client().read("/deb/esc")) == "tab\there\x01");
    auto r = run(h, {"xenstore-read", "/deb/esc"});
    CHECK(r.out == "tab\\there\\001\n");
    auto raw = run(h, {"xenstore-read", "-R", "/deb/esc"});
    CHECK(raw.out == "tab\there\x01");
}

TEST_CASE("xenstore-exists") {
    Harness h;
    REQUIRE(outcome(h.client().write("/deb/here", "")) == "OK");
    auto yes = run(h, {"xenstore-exists", "/deb/here"});
    INFO(yes.describe());
    CHECK(yes.exit_code == 0);
    CHECK(yes.out == "");
    auto no = run(h, {"xenstore-exists", "/deb/not-here"});
    INFO(no.describe());
    CHECK(no.exit_code == 1);
}

TEST_CASE("xenstore-list lists children sorted; -p prefixes the path") {
    Harness h;
    auto& c = h.client();
    for (const char* n : {"zeta", "alpha", "mid"}) REQUIRE(outcome(c.write("/deb/l/"s + n, "")) == "OK");
    auto l = run(h, {"xenstore-list", "/deb/l"});
    INFO(l.describe());
    CHECK(l.exit_code == 0);
    CHECK(l.out == "alpha\nmid\nzeta\n");
    auto p = run(h, {"xenstore-list", "-p", "/deb/l"});
    CHECK(p.out == "/deb/l/alpha\n/deb/l/mid\n/deb/l/zeta\n");
    auto root = run(h, {"xenstore-list", "/"});
    CHECK(root.out == "deb\ntool\n");
    auto missing = run(h, {"xenstore-list", "/deb/none"});
    CHECK(missing.exit_code == 1);
}

TEST_CASE("xenstore-ls prints the tree with values; -f full paths; -p permissions") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/deb/t/b", "two")) == "OK");
    REQUIRE(outcome(c.write("/deb/t/a/x", "one")) == "OK");
    auto ls = run(h, {"xenstore-ls", "/deb/t"});
    INFO(ls.describe());
    CHECK(ls.exit_code == 0);
    CHECK(ls.out == "a = \"\"\n x = \"one\"\nb = \"two\"\n");
    auto flat = run(h, {"xenstore-ls", "-f", "/deb/t"});
    CHECK(flat.out == "/deb/t/a = \"\"\n/deb/t/a/x = \"one\"\n/deb/t/b = \"two\"\n");
    REQUIRE(outcome(c.set_perms("/deb/t/b", {"n0", "r5"})) == "OK");
    auto perms = run(h, {"xenstore-ls", "-f", "-p", "/deb/t"});
    CHECK(perms.exit_code == 0);
    auto line_at = perms.out.find("/deb/t/b = \"two\" ");
    REQUIRE(line_at != std::string::npos);
    std::string line = perms.out.substr(line_at, perms.out.find('\n', line_at) - line_at);
    CHECK(line.size() >= 7);
    CHECK(line.substr(line.size() - 7) == "(n0,r5)");
    auto whole = run(h, {"xenstore-ls"});
    CHECK(whole.exit_code == 0);
    CHECK(whole.out.find("tool = \"\"\n xenstored = \"\"\n") != std::string::npos);
}

TEST_CASE("xenstore-rm, and -t removing empty parents") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/deb/r/keep", "k")) == "OK");
    REQUIRE(outcome(c.write("/deb/r/t/x/y", "v")) == "OK");
    auto rm = run(h, {"xenstore-rm", "/deb/r/keep"});
    INFO(rm.describe());
    CHECK(rm.exit_code == 0);
    CHECK(outcome(c.read("/deb/r/keep")) == "ENOENT");
    REQUIRE(outcome(c.write("/deb/r/keep", "k")) == "OK");
    auto tidy = run(h, {"xenstore-rm", "-t", "/deb/r/t/x/y"});
    INFO(tidy.describe());
    CHECK(tidy.exit_code == 0);
    CHECK(outcome(c.read("/deb/r/t")) == "ENOENT");
    CHECK(joined(c.directory("/deb/r")) == "keep");
    // Removing a missing node under an existing parent succeeds (upstream semantics).
    CHECK(run(h, {"xenstore-rm", "/deb/r/nothing"}).exit_code == 0);
    CHECK(run(h, {"xenstore-rm", "/deb/nothing/deeper"}).exit_code == 1);
}

TEST_CASE("xenstore-chmod sets permissions, -r recursively") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/deb/p/c/d", "")) == "OK");
    auto ch = run(h, {"xenstore-chmod", "/deb/p", "n0", "r5", "b6"});
    INFO(ch.describe());
    CHECK(ch.exit_code == 0);
    CHECK(joined(c.get_perms("/deb/p")) == "n0,r5,b6");
    CHECK(joined(c.get_perms("/deb/p/c")) == "n0");
    auto rec = run(h, {"xenstore-chmod", "-r", "/deb/p", "n0", "w7"});
    CHECK(rec.exit_code == 0);
    CHECK(joined(c.get_perms("/deb/p/c/d")) == "n0,w7");
    auto bad = run(h, {"xenstore-chmod", "/deb/missing", "n0"});
    CHECK(bad.exit_code != 0);
}

TEST_CASE("xenstore-watch prints the initial event and later changes") {
    Harness h;
    Process p = Process::spawn(SpawnOptions{{"xenstore-watch", "-n", "3", "/deb/w"},
                                            {{"XENSTORED_PATH", h.daemon().socket_path()}},
                                            Redirect::pipe(), Redirect::pipe(), 0, {}});
    auto first = p.read_line(scaled(10000ms));
    REQUIRE(first);
    CHECK(*first == "/deb/w");  // the initial event: the watch is registered now
    REQUIRE(outcome(h.client().write("/deb/w/child", "1")) == "OK");
    REQUIRE(outcome(h.client().write("/deb/other", "1")) == "OK");  // not watched
    REQUIRE(outcome(h.client().rm("/deb/w")) == "OK");
    auto second = p.read_line(scaled(10000ms));
    auto third = p.read_line(scaled(10000ms));
    CHECK(second.value_or("<none>") == "/deb/w/child");
    CHECK(third.value_or("<none>") == "/deb/w");
    CHECK(p.wait_exit(scaled(10000ms)));
    CHECK(p.exit_code() == 0);
}

TEST_CASE("xenstore-control talks CONTROL") {
    Harness h;
    auto check = run(h, {xenstore_control(), "check"});
    INFO(check.describe());
    CHECK(check.exit_code == 0);
    CHECK(check.out == "OK\n");
    auto quota = run(h, {xenstore_control(), "quota"});
    CHECK(quota.exit_code == 0);
    CHECK(quota.out.rfind("Quota settings:\nnodes            :     1000 Nodes per domain\n", 0) == 0);
    auto unknown = run(h, {xenstore_control(), "no-such-command"});
    CHECK(unknown.exit_code == 3);
    CHECK((unknown.out + unknown.err).find("Command not supported") != std::string::npos);
}

TEST_CASE("test-xenstore: every test passes") {
    Harness h;
    auto r = run(h, {test_xenstore()}, 120000ms);
    INFO(r.describe());
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("failed") == std::string::npos);
    // It cleans up after itself.
    CHECK(outcome(h.client().read("/local/domain/0/xenstore-test")) == "ENOENT");
}

TEST_CASE("test-xenstore -i 20") {
    Harness h;
    auto r = run(h, {test_xenstore(), "-i", "20"}, 120000ms);
    INFO(r.describe());
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("failed") == std::string::npos);
}

TEST_CASE("test-xenstore -r 5 (random tests for five seconds)") {
    Harness h;
    auto r = run(h, {test_xenstore(), "-r", "5"}, 120000ms);
    INFO(r.describe());
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("failed") == std::string::npos);
}

TEST_CASE("two clients at once: test-xenstore runs beside a writer") {
    Harness h;
    Process p = Process::spawn(SpawnOptions{{test_xenstore(), "-i", "10"},
                                            {{"XENSTORED_PATH", h.daemon().socket_path()}},
                                            Redirect::pipe(), Redirect::pipe(), 0, {}});
    auto& c = h.client();
    int writes = 0;
    while (p.running() && writes < 20000) {
        REQUIRE(outcome(c.write("/busy/n" + std::to_string(writes % 100), std::to_string(writes))) == "OK");
        ++writes;
    }
    REQUIRE(p.wait_exit(scaled(120000ms)));
    p.drain(2000ms);
    INFO(p.out());
    INFO(p.err());
    CHECK(p.exit_code() == 0);
}
