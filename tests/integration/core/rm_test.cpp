// RM over the socket: subtree deletion, the missing-node rules, RM /, and
// which watches fire (cxenstored.md §1.7 RM, §4.2).
#include <doctest/doctest.h>

#include <string>

#include "tests/support/harness.hpp"

using namespace std::string_literals;
using namespace xs::testing;
namespace wire = xs::wire;

TEST_CASE("RM deletes the whole subtree") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/r/a/b", "1")) == "OK");
    REQUIRE(outcome(c.write("/r/a/c", "2")) == "OK");
    REQUIRE(outcome(c.write("/r/d", "3")) == "OK");
    auto r = c.call(wire::kRm, "/r/a\0"s);
    REQUIRE(r);
    CHECK(r->header.type == wire::kRm);
    CHECK(r->payload == "OK\0"s);
    CHECK(outcome(c.read("/r/a")) == "ENOENT");
    CHECK(outcome(c.read("/r/a/b")) == "ENOENT");
    CHECK(outcome(c.read("/r/a/c")) == "ENOENT");
    CHECK(joined(c.directory("/r")) == "d");
    // Re-creating the removed path starts empty.
    REQUIRE(outcome(c.mkdir("/r/a")) == "OK");
    CHECK(joined(c.directory("/r/a")) == "");
}

TEST_CASE("RM of a missing node: OK when its parent exists, ENOENT otherwise") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/rp", "")) == "OK");
    CHECK(outcome(c.rm("/rp/missing")) == "OK");
    CHECK(outcome(c.rm("/rp/missing/deeper")) == "ENOENT");
    CHECK(outcome(c.rm("/nothere/x")) == "ENOENT");
    CHECK(joined(c.directory("/rp")) == "");
}

TEST_CASE("RM of a missing node fires no watch") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/rq", "")) == "OK");
    REQUIRE(outcome(c.watch("/rq", "t")) == "OK");
    CHECK(joined(take_events(c)) == "/rq|t");  // the initial event
    REQUIRE(outcome(c.rm("/rq/missing")) == "OK");
    CHECK(joined(take_events(c)) == "");
}

TEST_CASE("RM / is EINVAL and removes nothing") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.rm("/")) == "EINVAL");
    CHECK(joined(c.directory("/")) == "tool");
}

TEST_CASE("RM errors: special names, bad paths, malformed arguments") {
    Harness h;
    auto& c = h.client();
    CHECK(outcome(c.rm("@releaseDomain")) == "EINVAL");
    CHECK(outcome(c.rm("@introduceDomain")) == "EINVAL");
    CHECK(outcome(c.get_perms("@releaseDomain")) == "OK");
    CHECK(outcome(c.rm("/tool/")) == "EINVAL");
    CHECK(summary(c.call(wire::kRm, "/tool"s)) == "EINVAL");
    CHECK(summary(c.call(wire::kRm, "/tool\0/local\0"s)) == "EINVAL");
    CHECK(joined(c.directory("/")) == "tool");
}

TEST_CASE("RM events: the subtree root fires subtree watches, deleted nodes fire exact watches") {
    Harness h;
    auto& writer = h.client();
    auto watcher = h.connect();
    auto& w = *watcher;
    REQUIRE(outcome(writer.write("/ev/top/a/b", "1")) == "OK");
    REQUIRE(outcome(writer.write("/ev/top/c", "2")) == "OK");

    REQUIRE(outcome(w.watch("/ev/top", "root")) == "OK");        // the root itself
    REQUIRE(outcome(w.watch("/ev", "ancestor")) == "OK");        // an ancestor
    REQUIRE(outcome(w.watch("/ev/top/a/b", "leaf")) == "OK");    // a deleted descendant
    REQUIRE(outcome(w.watch("/ev/top/a", "mid")) == "OK");       // a deleted descendant
    REQUIRE(outcome(w.watch("/ev/top/zz", "ghost")) == "OK");    // inside, never existed
    REQUIRE(outcome(w.watch("/ev/top/a/b/x", "ghost2")) == "OK");
    REQUIRE(outcome(w.watch("/ev/other", "sibling")) == "OK");   // outside
    REQUIRE(take_events(w).size() == 7);                         // initial events

    REQUIRE(outcome(writer.rm("/ev/top")) == "OK");
    auto ev = sorted(take_events(w));
    CHECK(joined(ev) == "/ev/top|ancestor;/ev/top|root;/ev/top/a|mid;/ev/top/a/b|leaf");
}

TEST_CASE("RM of a subtree does not give a depth-limited ancestor watch the descendants") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/dd/x/y/z", "1")) == "OK");
    REQUIRE(outcome(c.watch("/dd", "any")) == "OK");
    REQUIRE(outcome(c.watch("/dd", "d0", 0u)) == "OK");
    REQUIRE(outcome(c.watch("/dd", "d1", 1u)) == "OK");
    REQUIRE(take_events(c).size() == 3);
    REQUIRE(outcome(c.rm("/dd/x/y")) == "OK");
    // The root /dd/x/y is two levels below /dd: only the unlimited watch.
    CHECK(joined(take_events(c)) == "/dd/x/y|any");
    REQUIRE(outcome(c.rm("/dd/x")) == "OK");
    CHECK(joined(sorted(take_events(c))) == "/dd/x|any;/dd/x|d1");
}

TEST_CASE("RM fires the writer's own watches before the RM reply") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/own/n", "1")) == "OK");
    REQUIRE(outcome(c.watch("/own", "t")) == "OK");
    REQUIRE(take_events(c).size() == 1);
    c.send_raw(raw_message(wire::kRm, "/own/n\0"s, 0x5150));
    auto first = c.receive(c.timeout);
    REQUIRE(first);
    CHECK(first->header.type == wire::kWatchEvent);
    CHECK(parse_event(*first) == Event{"/own/n", "t"});
    auto second = c.receive(c.timeout);
    REQUIRE(second);
    CHECK(second->header.type == wire::kRm);
    CHECK(second->header.req_id == 0x5150);
}

TEST_CASE("RM events come children first, the subtree root last") {
    Harness h;
    auto& c = h.client();
    REQUIRE(outcome(c.write("/po/a/b", "1")) == "OK");
    REQUIRE(outcome(c.watch("/po", "root")) == "OK");
    REQUIRE(outcome(c.watch("/po/a", "mid")) == "OK");
    REQUIRE(outcome(c.watch("/po/a/b", "leaf")) == "OK");
    REQUIRE(take_events(c).size() == 3);
    REQUIRE(outcome(c.rm("/po")) == "OK");
    CHECK(joined(take_events(c)) == "/po/a/b|leaf;/po/a|mid;/po|root");
}
