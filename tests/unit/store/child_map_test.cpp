#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "store/child_map.hpp"
#include "store/node.hpp"

using namespace xs::store;

namespace {

PermRef g_perms = make_perms({{0, kAccessNone, false}});

Node* leaf(const std::string& name, const std::string& value = "") {
    return Node::make(name, value, g_perms.get(), nullptr, 1);
}

// Compare a map with a reference model, names and values in order.
void expect_equal(const ChildMap& m, const std::map<std::string, std::string>& ref) {
    const char* why = nullptr;
    REQUIRE_MESSAGE(m.check(why), (why ? why : ""));
    CHECK(m.size() == ref.size());
    std::uint32_t bytes = 0;
    for (auto& [k, v] : ref) bytes += static_cast<std::uint32_t>(k.size() + 1);
    CHECK(m.name_bytes() == bytes);
    auto it = ref.begin();
    bool ok = true;
    m.for_each([&](const Node* n) {
        if (it == ref.end() || n->name() != it->first || n->value() != it->second) {
            ok = false;
            return false;
        }
        ++it;
        return true;
    });
    CHECK(ok);
    CHECK(it == ref.end());
    for (auto& [k, v] : ref) {
        Node* n = m.find(k);
        REQUIRE(n);
        CHECK(n->value() == v);
    }
}

}  // namespace

TEST_CASE("insert, find and erase keep names sorted") {
    ChildMap m;
    std::map<std::string, std::string> ref;
    for (const char* n : {"b", "a", "c"}) {
        m.insert(leaf(n));
        ref[n] = "";
    }
    expect_equal(m, ref);
    CHECK(m.find("zz") == nullptr);
    Node* gone = m.erase("a");
    REQUIRE(gone);
    release(gone);
    ref.erase("a");
    expect_equal(m, ref);
    CHECK(m.erase("nope") == nullptr);
    release(m.erase("b"));
    release(m.erase("c"));
    CHECK(m.empty());
}

TEST_CASE("randomised operations against a std::map, with snapshots staying intact") {
    std::mt19937 rng(12345);
    ChildMap m;
    std::map<std::string, std::string> ref;
    std::vector<std::pair<ChildMap, std::map<std::string, std::string>>> snaps;
    for (int step = 0; step < 20000; ++step) {
        std::string name = "n" + std::to_string(rng() % 3000);
        int op = static_cast<int>(rng() % 10);
        if (op < 6) {
            if (!ref.count(name)) {
                std::string v = std::to_string(step);
                m.insert(leaf(name, v));
                ref[name] = v;
            }
        } else if (op < 9) {
            Node* n = m.erase(name);
            CHECK((n != nullptr) == (ref.erase(name) == 1));
            if (n) release(n);
        } else if (Node** slot = m.find_slot(name)) {
            // Replace the child in place, as the tree does on a write.
            std::string v = "w" + std::to_string(step);
            Node* old = *slot;
            *slot = Node::make(old->name(), v, old->perms, nullptr, 2);
            release(old);
            ref[name] = v;
        }
        if (step % 2500 == 0) snaps.emplace_back(m, ref);
    }
    expect_equal(m, ref);
    CHECK(m.size() > 500);
    for (auto& [snap, sref] : snaps) expect_equal(snap, sref);
    // Tear down to empty.
    for (auto& [k, v] : ref) release(m.erase(k));
    CHECK(m.empty());
    for (auto& [snap, sref] : snaps) expect_equal(snap, sref);
}

TEST_CASE("a change beneath a big shared map copies only a few blocks") {
    ChildMap m;
    for (int i = 0; i < 10000; ++i) m.insert(leaf("c" + std::to_string(i)));
    ChildMap snapshot = m;
    CHECK(m.shared());
    Node** slot = m.find_slot("c5000");
    REQUIRE(slot);
    // Only the blocks on the path were copied: most children are still
    // referenced by exactly the two maps' shared leaves (refs == 1).
    int shared_children = 0;
    m.for_each([&](const Node* n) {
        shared_children += n->refs == 1;
        return true;
    });
    CHECK(shared_children > 9800);
    CHECK(snapshot.size() == 10000);
}

TEST_CASE("same_names compares child lists, not identity") {
    ChildMap a, b;
    for (int i = 0; i < 200; ++i) {
        a.insert(leaf("x" + std::to_string(i)));
        b.insert(leaf("x" + std::to_string(199 - i)));
    }
    CHECK(a.same_names(b));
    release(b.erase("x7"));
    CHECK_FALSE(a.same_names(b));
    b.insert(leaf("x7", "other value"));
    CHECK(a.same_names(b));
    release(b.erase("x7"));
    b.insert(leaf("x7a"));
    CHECK_FALSE(a.same_names(b));
}

TEST_CASE("for_each_from starts at the entry holding a byte offset, in maps of every size") {
    std::mt19937 rng(99);
    for (int n : {0, 1, 5, 64, 65, 700, 5000}) {
        ChildMap m;
        std::string flat;  // the DIRECTORY list: names each followed by a NUL
        std::map<std::string, std::string> ref;
        for (int i = 0; i < n; ++i) ref["name" + std::to_string(rng() % 100000)] = "";
        for (auto& [k, v] : ref) m.insert(leaf(k));
        for (auto& [k, v] : ref) flat += k + '\0';
        const char* why = nullptr;
        REQUIRE(m.check(why));
        for (int trial = 0; trial < 50; ++trial) {
            std::uint32_t offset = flat.empty() ? 0 : static_cast<std::uint32_t>(rng() % (flat.size() + 3));
            std::string got;
            m.for_each_from(offset, [&](const Node* c, std::uint32_t skip) {
                got.append(c->name().substr(std::min<std::size_t>(skip, c->name().size())));
                got.push_back('\0');
                return true;
            });
            std::string want = offset < flat.size() ? flat.substr(offset) : std::string();
            CAPTURE(n);
            CAPTURE(offset);
            CHECK(got == want);
        }
    }
}

TEST_CASE("append in name order builds the same map, with full blocks, and leaves snapshots alone") {
    for (int n : {1, 63, 64, 65, 2048, 64 * 32 + 1, 70000}) {
        CAPTURE(n);
        ChildMap m;
        std::map<std::string, std::string> ref;
        ChildMap snapshot;
        for (int i = 0; i < n; ++i) {
            char name[16];
            std::snprintf(name, sizeof name, "c%07d", i);
            CHECK((m.last() == nullptr || m.last()->name() < std::string_view(name)));
            m.append(leaf(name, std::to_string(i)));
            ref[name] = std::to_string(i);
            if (i == n / 2) snapshot = m;  // shares blocks: later appends must copy them
        }
        expect_equal(m, ref);
        REQUIRE(m.last());
        CHECK(m.last()->name() == ref.rbegin()->first);
        // Lookups, inserts and erases work on an appended map as on any other.
        CHECK(m.find("c0000000"));
        Node* erased = m.erase("c0000000");
        CHECK(erased != nullptr);
        if (erased) release(erased);
        m.insert(leaf("b-first"));
        ref.erase("c0000000");
        ref["b-first"] = "";
        expect_equal(m, ref);
        std::map<std::string, std::string> half;
        for (auto& [k, v] : ref)
            if (k != "b-first" && std::stoi(k.substr(1)) <= n / 2) half[k] = v;
        half["c0000000"] = "0";  // erased from the map, not from the snapshot
        expect_equal(snapshot, half);
    }
}

// find() scans small leaves and searches larger ones: both must tell apart
// names that share their last byte or a prefix, at sizes either side of
// the switch, and find nothing for a name between, before or after them.
TEST_CASE("find and find_slot on leaves either side of the scan size") {
    for (int count : {1, 2, 15, 16, 17, 40, 64}) {
        CAPTURE(count);
        ChildMap m;
        std::vector<std::string> names;
        for (int i = 0; i < count; ++i) {
            names.push_back("k" + std::to_string(i));
            m.insert(leaf(names.back(), names.back()));
        }
        for (const auto& n : names) {
            Node* found = m.find(n);
            REQUIRE(found);
            CHECK(found->value() == n);
            Node** slot = m.find_slot(n);
            REQUIRE(slot);
            CHECK((*slot)->name() == n);
        }
        for (const char* absent : {"k", "j9", "k1x", "k" "999", "x1", "1k", "K1", "k01"}) {
            CHECK(m.find(absent) == nullptr);
            CHECK(m.find_slot(absent) == nullptr);
        }
        const char* why = nullptr;
        CHECK_MESSAGE(m.check(why), (why ? why : ""));
    }
}
