// The domain index against a walk of the whole tree: random requests
// (direct and in transactions, by dom0 and by guests), random permissions,
// domain deaths; after every step the index must be what a rebuild gives,
// and the nodes it leads to must be those a whole-tree walk finds.
#include <doctest/doctest.h>

#include <random>

#include "store/path.hpp"
#include "store/store.hpp"
#include "tree_support.hpp"

using namespace test;

namespace {

constexpr DomId kDomains = 6;  // guests 1..6; 0 is privileged

struct Random {
    std::mt19937 rng;
    explicit Random(unsigned seed) : rng(seed) {}
    std::uint32_t below(std::uint32_t n) { return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng); }
    bool chance(std::uint32_t pct) { return below(100) < pct; }

    DomId dom() { return static_cast<DomId>(below(kDomains + 1)); }
    std::string path() {
        static const char* const kNames[] = {"a", "b", "c", "a-b", "ab"};
        std::string p = chance(60) ? home_path(static_cast<DomId>(1 + below(kDomains))) : "";
        if (p.empty() && chance(30)) p = "/local";
        for (std::uint32_t depth = 1 + below(3); depth > 0; --depth) p += std::string("/") + kNames[below(5)];
        return p;
    }
    std::string any_path() {
        if (chance(5)) return chance(50) ? std::string(kReleaseDomain) : std::string(kIntroduceDomain);
        if (chance(3)) return "/";
        return path();
    }
    PermRef perms() {
        std::vector<PermEntry> e{{dom(), static_cast<std::uint8_t>(below(4)), false}};
        for (std::uint32_t n = below(3); n > 0; --n)
            e.push_back({dom(), static_cast<std::uint8_t>(below(4)), chance(10)});
        return make_perms(std::span<const PermEntry>(e));
    }
    Caller caller() { return chance(50) ? priv() : guest(static_cast<DomId>(1 + below(kDomains))); }
};

// One request on the committed tree or in a transaction.
template <class Target>
void request(Random& r, Target& target, const OpContext& ctx) {
    std::string p = r.any_path();
    switch (r.below(10)) {
        case 0: case 1: case 2: case 3: (void)target.write(ctx, p, "v"); break;
        case 4: (void)target.mkdir(ctx, p); break;
        case 5: case 6: (void)target.rm(ctx, p); break;
        default: (void)target.set_perms(ctx, p, r.perms()); break;
    }
}

void check_index(Store& s) {
    std::string problems;
    CHECK_MESSAGE(s.index().check(s.tree(), problems), problems);
    for (DomId d = 1; d <= kDomains; ++d) {
        std::vector<std::string_view> tops = s.index().tops(d);
        Tree::Mentions walked = s.tree().mentions(d);
        Tree::Mentions indexed = s.tree().mentions(d, tops);
        CHECK(indexed.owned == walked.owned);
        CHECK(indexed.named == walked.named);
    }
}

// Every node's path, value and permissions.
std::vector<std::string> dump(const Tree& t) {
    std::vector<std::string> out;
    t.for_each_node([&](std::string_view path, const Node& n) {
        std::string line(path);
        line.append(" = ").append(n.value()).append(" ");
        for (const PermEntry& e : n.perms->entries()) append_perm(line, e);
        out.push_back(line);
    });
    return out;
}

// A death through the index, compared with the whole-tree walk on a copy.
void kill(Random& r, Store& s) {
    DomId d = static_cast<DomId>(1 + r.below(kDomains));
    bool keep = r.chance(30);
    Tree copy = s.tree();
    std::uint64_t gen = s.generation();
    Effects walked = copy.remove_domain(d, keep, 0, gen);
    Effects indexed = s.remove_domain(d, keep);
    CHECK(dump(s.tree()) == dump(copy));
    CHECK(s.generation() == gen);
    REQUIRE(indexed.changes.size() == walked.changes.size());
    for (std::size_t i = 0; i < walked.changes.size(); ++i) CHECK(indexed.changes[i].path == walked.changes[i].path);
    CHECK(normalized([&] { Accounts a; apply_deltas(a, indexed.deltas); return a; }()) ==
          normalized([&] { Accounts a; apply_deltas(a, walked.deltas); return a; }()));
    CHECK(s.index().tops(d).empty());
}

void run(unsigned seed, int steps) {
    Random r(seed);
    Store s(0);
    for (int i = 0; i < steps; ++i) {
        std::uint32_t what = r.below(20);
        if (what == 0) {
            kill(r, s);
        } else if (what <= 4) {
            // A transaction; another request may commit meanwhile.
            Caller c = r.caller();
            auto t = s.begin(0);
            for (std::uint32_t n = 1 + r.below(6); n > 0; --n) request(r, *t, s.context(c, Budget{}));
            if (r.chance(40)) {
                Caller other = r.caller();
                (void)s.edit([&](Tree& tree) {
                    OpContext ctx = s.context(other, Budget{});
                    std::string p = r.path();
                    return r.chance(50) ? tree.write(ctx, p, "w") : tree.rm(ctx, p);
                });
            }
            (void)s.commit(*t, c, Budget{});
        } else {
            Caller c = r.caller();
            struct Direct {
                Store& s;
                Result<Effects> write(const OpContext& x, std::string_view p, std::string_view v) {
                    return s.edit([&](Tree& t) { return t.write(x, p, v); });
                }
                Result<Effects> mkdir(const OpContext& x, std::string_view p) {
                    return s.edit([&](Tree& t) { return t.mkdir(x, p); });
                }
                Result<Effects> rm(const OpContext& x, std::string_view p) {
                    return s.edit([&](Tree& t) { return t.rm(x, p); });
                }
                Result<Effects> set_perms(const OpContext& x, std::string_view p, PermRef perms) {
                    return s.edit([&](Tree& t) { return t.set_perms(x, p, std::move(perms)); });
                }
            } direct{s};
            request(r, direct, s.context(c, Budget{}));
        }
        check_index(s);
    }
}

}  // namespace

TEST_CASE("the domain index equals a whole-tree walk after random requests, transactions and deaths") {
    for (unsigned seed = 1; seed <= 6; ++seed) {
        CAPTURE(seed);
        run(seed, 300);
    }
}

TEST_CASE("a domain's tops are the nodes naming it beneath nodes that do not") {
    Store s(0);
    OpContext dom0 = s.context(priv(), Budget{});
    auto edit = [&](auto op) { REQUIRE(s.edit(op)); };
    edit([&](Tree& t) { return t.write(dom0, "/local/domain/5/a/b", "x"); });
    edit([&](Tree& t) { return t.set_perms(dom0, "/local/domain/5", make_perms({{5, kAccessNone, false}})); });
    CHECK(s.index().tops(5) == std::vector<std::string_view>{"/local/domain/5"});
    // A guest's nodes inherit its home's list: no new top.
    edit([&](Tree& t) { return t.write(s.context(guest(5), Budget{}), "/local/domain/5/c/d", "y"); });
    CHECK(s.index().tops(5).size() == 1);
    // The home no longer names 5: the child 5 made (with the home's list) is a top now.
    edit([&](Tree& t) { return t.set_perms(dom0, "/local/domain/5", make_perms({{0, kAccessRead, false}})); });
    CHECK(s.tree().mentions(5).owned == std::vector<std::string>{"/local/domain/5/c", "/local/domain/5/c/d"});
    CHECK(s.index().tops(5) == std::vector<std::string_view>{"/local/domain/5/c"});
    // A backend granting 5 read access, created in one write.
    edit([&](Tree& t) { return t.write(dom0, "/backend/vif/5/0/state", "1"); });
    edit([&](Tree& t) {
        return t.set_perms(dom0, "/backend/vif/5", make_perms({{0, kAccessNone, false}, {5, kAccessRead, false}}));
    });
    CHECK(s.index().tops(5).size() == 2);
    // Removing a subtree takes its tops with it.
    edit([&](Tree& t) { return t.rm(dom0, "/local/domain/5"); });
    CHECK(s.index().tops(5) == std::vector<std::string_view>{"/backend/vif/5"});
    Effects e = s.remove_domain(5, false);
    CHECK(s.tree().lookup("/backend/vif/5")->perms->size() == 1);
    CHECK(s.index().tops(5).empty());
    CHECK(e.changes.empty());
}
