#include <doctest/doctest.h>

#include <cerrno>
#include <random>
#include <string>

#include "store/path.hpp"
#include "store/tree.hpp"
#include "tree_support.hpp"

using namespace test;

namespace {

struct Fixture {
    std::uint64_t gen = 0;
    Tree tree = Tree::initial(0, gen);
    Accounts accounts = recount(tree);

    OpContext ctx(Caller c, Budget b = {}) { return OpContext{c, b, &gen}; }
    // Run an operation and keep the accounting model in step with it.
    Result<Effects> track(Result<Effects> r) {
        if (r) apply_deltas(accounts, r->deltas);
        return r;
    }
    Result<Effects> write(Caller c, std::string_view p, std::string_view v, Budget b = {}) {
        return track(tree.write(ctx(c, b), p, v));
    }
    Result<Effects> mkdir(Caller c, std::string_view p, Budget b = {}) { return track(tree.mkdir(ctx(c, b), p)); }
    Result<Effects> rm(Caller c, std::string_view p) { return track(tree.rm(ctx(c), p)); }
    Result<Effects> set_perms(Caller c, std::string_view p, PermRef perms, Budget b = {}) {
        return track(tree.set_perms(ctx(c, b), p, std::move(perms)));
    }
    Result<std::string> read(Caller c, std::string_view p) {
        auto n = tree.fetch(ctx(c), p, kAccessRead);
        if (!n) return fail(n.error());
        return std::string((*n)->value());
    }
    void check_accounts() { CHECK(normalized(accounts) == normalized(recount(tree))); }
    // Give domain `d` its home, as a toolstack does.
    void home(DomId d) {
        std::string h = home_path(d);
        REQUIRE(write(priv(), h, ""));
        REQUIRE(set_perms(priv(), h, make_perms({{d, kAccessNone, false}})));
    }
};

int err(const Result<Effects>& r) { return r ? 0 : r.error().code; }
int err(const Result<std::string>& r) { return r ? 0 : r.error().code; }

}  // namespace

TEST_CASE("the initial tree: as the C daemon's, no /local until a toolstack writes one") {
    Fixture f;
    CHECK(f.tree.lookup("/local") == nullptr);
    for (const char* p : {"/", "/tool", "/tool/xenstored"}) {
        const Node* n = f.tree.lookup(p);
        REQUIRE_MESSAGE(n, p);
        CHECK(n->perms->size() == 1);
        CHECK(n->owner() == 0);
        CHECK(n->perms->owner().access == kAccessNone);
    }
    const Node* rel = f.tree.lookup("@releaseDomain");
    REQUIRE(rel);
    REQUIRE(rel->perms->size() == 2);
    CHECK(rel->perms->entries()[1] == PermEntry{kDomidAny, kAccessRead, false});
    REQUIRE(f.tree.lookup("@introduceDomain"));
    CHECK(f.tree.lookup("/tool/xenstored/domid") == nullptr);
    CHECK(f.tree.lookup("@other") == nullptr);
}

TEST_CASE("write creates missing parents that inherit permissions") {
    Fixture f;
    f.home(5);
    REQUIRE(f.write(priv(), "/local/domain/5/a/b/c", "v"));
    const Node* a = f.tree.lookup("/local/domain/5/a");
    REQUIRE(a);
    CHECK(a->owner() == 5);  // inherited, dom0 keeps the inherited owner
    CHECK(a->value().empty());
    CHECK(f.read(priv(), "/local/domain/5/a/b/c").value() == "v");
    // An unprivileged creator becomes the owner of what it creates.
    PermRef shared = make_perms({{0, kAccessNone, false}, {6, kAccessBoth, false}});
    REQUIRE(f.write(priv(), "/shared", ""));
    REQUIRE(f.set_perms(priv(), "/shared", shared));
    REQUIRE(f.write(guest(6), "/shared/x/y", "1"));
    const Node* x = f.tree.lookup("/shared/x");
    REQUIRE(x);
    CHECK(x->owner() == 6);
    CHECK(x->perms->entries()[1] == PermEntry{6, kAccessBoth, false});
    f.check_accounts();
}

TEST_CASE("error masking: missing nodes under unreadable parents are EACCES") {
    Fixture f;
    f.home(5);
    REQUIRE(f.write(priv(), "/secret/inner", "x"));
    CHECK(err(f.read(guest(5), "/secret/inner")) == EACCES);
    CHECK(err(f.read(guest(5), "/secret/missing")) == EACCES);
    CHECK(err(f.read(guest(5), "/local/domain/5/missing")) == ENOENT);
    CHECK(err(f.read(priv(), "/secret/missing")) == ENOENT);
    // Creating needs WRITE on the closest existing ancestor.
    CHECK(err(f.write(guest(5), "/secret/new/deep", "x")) == EACCES);
    CHECK(f.write(guest(5), "/local/domain/5/new/deep", "x"));
    CHECK(err(f.write(guest(6), "/local/domain/5/other", "x")) == EACCES);
}

TEST_CASE("mkdir of an existing node changes nothing") {
    Fixture f;
    REQUIRE(f.write(priv(), "/a", "keep"));
    REQUIRE(f.write(priv(), "/a/kid", ""));
    std::uint64_t g = f.tree.lookup("/a")->gen();
    auto r = f.mkdir(priv(), "/a");
    REQUIRE(r);
    CHECK(r->changes.empty());
    CHECK(f.tree.lookup("/a")->gen() == g);
    CHECK(f.read(priv(), "/a").value() == "keep");
    auto c = f.mkdir(priv(), "/b/c");
    REQUIRE(c);
    CHECK(c->changes.size() == 1);
}

TEST_CASE("rm removes whole subtrees; missing nodes with a parent are fine") {
    Fixture f;
    f.home(5);
    REQUIRE(f.write(priv(), "/local/domain/5/a/b", "1"));
    REQUIRE(f.write(priv(), "/local/domain/5/a/c", "2"));
    auto r = f.rm(guest(5), "/local/domain/5/a");
    REQUIRE(r);
    REQUIRE(r->changes.size() == 1);
    CHECK(r->changes[0].path == "/local/domain/5/a");
    REQUIRE(r->changes[0].removed);
    CHECK(r->changes[0].removed->children().size() == 2);
    CHECK(f.tree.lookup("/local/domain/5/a") == nullptr);
    CHECK(f.rm(guest(5), "/local/domain/5/a"));         // parent exists: OK
    CHECK(err(f.rm(guest(5), "/local/domain/5/a/b")) == ENOENT);
    CHECK(err(f.rm(priv(), "/")) == EINVAL);
    CHECK(err(f.rm(guest(5), "/")) == EACCES);  // permission first, as upstream (differential run)
    CHECK(err(f.rm(guest(5), "/local/domain")) == EACCES);
    f.check_accounts();
}

TEST_CASE("a guest cannot delete or recreate a child it may only read (XSA-57 model)") {
    Fixture f;
    f.home(7);
    REQUIRE(f.write(priv(), "/local/domain/7/p/c", "trusted"));
    REQUIRE(f.set_perms(priv(), "/local/domain/7/p/c", make_perms({{0, kAccessNone, false}, {7, kAccessRead, false}})));
    CHECK(err(f.rm(guest(7), "/local/domain/7/p/c")) == EACCES);
    CHECK(err(f.write(guest(7), "/local/domain/7/p/c", "evil")) == EACCES);
    CHECK(err(f.set_perms(guest(7), "/local/domain/7/p/c", make_perms({{7, kAccessNone, false}}))) == EACCES);
    CHECK(f.read(guest(7), "/local/domain/7/p/c").value() == "trusted");
    // Removing the parent, which the guest owns, removes the child with it.
    CHECK(f.rm(guest(7), "/local/domain/7/p"));
    CHECK(f.tree.lookup("/local/domain/7/p/c") == nullptr);
}

TEST_CASE("set_perms: owner rights, EPERM for owner changes by guests, ignored owner") {
    Fixture f;
    f.home(5);
    REQUIRE(f.write(priv(), "/local/domain/5/n", ""));
    CHECK(f.set_perms(guest(5), "/local/domain/5/n", make_perms({{5, kAccessRead, false}})));
    CHECK(err(f.set_perms(guest(5), "/local/domain/5/n", make_perms({{6, kAccessRead, false}}))) == EPERM);
    CHECK(err(f.set_perms(guest(6), "/local/domain/5/n", make_perms({{5, kAccessRead, false}}))) == EACCES);
    CHECK(err(f.set_perms(priv(), "/local/domain/5/n", make_perms({{5, kAccessNone, true}}))) == ENOENT);
    CHECK(f.set_perms(priv(), "/local/domain/5/n", make_perms({{6, kAccessNone, false}})));
    CHECK(f.tree.lookup("/local/domain/5/n")->owner() == 6);
    CHECK(f.set_perms(priv(), "@releaseDomain", make_perms({{0, kAccessNone, false}, {5, kAccessRead, false}})));
    CHECK(err(f.set_perms(priv(), "@nonexistent", make_perms({{0, kAccessNone, false}}))) == ENOENT);
    f.check_accounts();
}

TEST_CASE("node quota: N allowed exactly, implicit parents counted, nothing partial on failure") {
    Fixture f;
    f.home(5);
    Budget b{true, 0, 3, 1 << 20};
    CHECK(err(f.write(guest(5), "/local/domain/5/a/b/c/d", "x", b)) == ENOSPC);
    CHECK(f.tree.lookup("/local/domain/5/a") == nullptr);
    CHECK(f.write(guest(5), "/local/domain/5/a/b/c", "x", b));
    f.check_accounts();
    // Rewriting an existing node needs no new node.
    Budget none{true, 0, 0, 1 << 20};
    CHECK(f.write(guest(5), "/local/domain/5/a/b/c", "y", none));
    CHECK(err(f.mkdir(guest(5), "/local/domain/5/z", none)) == ENOSPC);
    CHECK(f.mkdir(guest(5), "/local/domain/5/a", none));
}

TEST_CASE("node-size quota covers the node and its growing parent") {
    Fixture f;
    f.home(5);
    // Record: 16 + 8 per perm + value + children names.
    Budget b{true, 16 + 8 + 10, Budget{}.nodes_left, Budget{}.memory_left};
    CHECK(f.write(guest(5), "/local/domain/5/v", std::string(10, 'x'), b));
    CHECK(err(f.write(guest(5), "/local/domain/5/v", std::string(11, 'x'), b)) == ENOSPC);
    REQUIRE(f.write(guest(5), "/local/domain/5/p", "", b));
    CHECK(f.write(guest(5), "/local/domain/5/p/abcd", "", b));      // p's children: 5 bytes
    CHECK(f.write(guest(5), "/local/domain/5/p/efgh", "", b));      // 10 bytes
    CHECK(err(f.write(guest(5), "/local/domain/5/p/i", "", b)) == ENOSPC);  // p would need 12 bytes of names
    Budget priv_budget{};  // privileged callers are not limited
    CHECK(f.write(priv(), "/local/domain/5/p/i", std::string(100, 'y'), priv_budget));
}

TEST_CASE("memory quota counts records plus paths") {
    Fixture f;
    f.home(5);
    std::int64_t need = 16 + 8 + 3 + static_cast<std::int64_t>(std::string("/local/domain/5/m").size()) + 2;
    Budget tight{true, 0, Budget{}.nodes_left, need - 1};
    CHECK(err(f.write(guest(5), "/local/domain/5/m", "abc", tight)) == ENOSPC);
    Budget ok{true, 0, Budget{}.nodes_left, need};
    CHECK(f.write(guest(5), "/local/domain/5/m", "abc", ok));
    f.check_accounts();
}

TEST_CASE("snapshots are O(1) and never change") {
    Fixture f;
    REQUIRE(f.write(priv(), "/a/b", "1"));
    Tree snap = f.tree;
    CHECK(snap.same_as(f.tree));
    REQUIRE(f.write(priv(), "/a/b", "2"));
    REQUIRE(f.write(priv(), "/a/c", "3"));
    REQUIRE(f.rm(priv(), "/tool"));
    CHECK_FALSE(snap.same_as(f.tree));
    CHECK(snap.lookup("/a/b")->value() == "1");
    CHECK(snap.lookup("/a/c") == nullptr);
    CHECK(snap.lookup("/tool/xenstored") != nullptr);
    CHECK(f.tree.lookup("/a/b")->value() == "2");
    std::string problems;
    CHECK(snap.check(problems));
    CHECK(f.tree.check(problems));
    CHECK(problems.empty());
}

TEST_CASE("generations: directories get one, bumped on their changes and their children's") {
    Fixture f;
    REQUIRE(f.write(priv(), "/g", "1"));
    CHECK(f.tree.lookup("/g")->gen() == 0);  // a leaf: nothing to list, no generation
    CHECK_FALSE(f.tree.lookup("/g")->is_dir());
    std::uint64_t root1 = f.tree.lookup("/")->gen();
    REQUIRE(f.write(priv(), "/g/child", ""));
    const Node* g = f.tree.lookup("/g");
    REQUIRE(g->is_dir());  // its first child made it a directory
    CHECK(g->value() == "1");
    std::uint64_t g1 = g->gen();
    CHECK(g1 > root1);
    REQUIRE(f.write(priv(), "/g", "2"));
    std::uint64_t g2 = f.tree.lookup("/g")->gen();
    CHECK(g2 > g1);
    REQUIRE(f.write(priv(), "/g/child", "x"));  // a grandchild's value: not this node's change
    CHECK(f.tree.lookup("/g")->gen() == g2);
    REQUIRE(f.write(priv(), "/g/other", ""));
    CHECK(f.tree.lookup("/g")->gen() > g2);
    (void)f.read(priv(), "/g");
    CHECK(f.tree.lookup("/")->gen() == root1);  // "/" lost and gained no child
}

TEST_CASE("domain removal deletes owned nodes and strips entries naming it") {
    Fixture f;
    f.home(5);
    f.home(6);
    REQUIRE(f.write(priv(), "/local/domain/5/x/y", "1"));
    REQUIRE(f.set_perms(priv(), "/local/domain/6", make_perms({{6, kAccessNone, false}, {5, kAccessBoth, false}})));
    REQUIRE(f.write(guest(5), "/local/domain/6/from5", "b"));   // owned by 5, in 6's home
    REQUIRE(f.set_perms(priv(), "@releaseDomain", make_perms({{0, kAccessNone, false}, {5, kAccessRead, false}})));
    Effects e = f.tree.remove_domain(5, false, 0, f.gen);
    apply_deltas(f.accounts, e.deltas);
    CHECK(f.tree.lookup("/local/domain/5") == nullptr);
    CHECK(f.tree.lookup("/local/domain/6/from5") == nullptr);
    CHECK(f.tree.lookup("/local/domain/6")->perms->size() == 1);
    CHECK(f.tree.lookup("@releaseDomain")->perms->size() == 1);
    CHECK(e.changes.size() == 2);
    f.check_accounts();
}

TEST_CASE("domain removal hands \"/\" and the special names it owned to the privileged domain") {
    Fixture f;
    f.home(5);
    REQUIRE(f.set_perms(priv(), "/", make_perms({{5, kAccessRead, false}, {2, kAccessBoth, false}})));
    REQUIRE(f.set_perms(priv(), "@introduceDomain", make_perms({{5, kAccessNone, false}})));
    Effects e = f.tree.remove_domain(5, false, 0, f.gen);
    apply_deltas(f.accounts, e.deltas);
    REQUIRE(f.tree.lookup("/"));
    CHECK(f.tree.lookup("/")->owner() == 0);
    CHECK(f.tree.lookup("/")->perms->size() == 2);  // other entries stay, with the default access
    CHECK(f.tree.lookup("/")->perms->entries()[0].access == kAccessRead);
    CHECK(f.tree.lookup("/local"));
    CHECK(f.tree.lookup("@introduceDomain")->owner() == 0);
    CHECK(f.tree.lookup("/local/domain/5") == nullptr);
    f.check_accounts();
}

TEST_CASE("domain removal with keep-orphans hands nodes to the privileged domain") {
    Fixture f;
    f.home(5);
    REQUIRE(f.write(priv(), "/local/domain/5/x", "1"));
    Effects e = f.tree.remove_domain(5, true, 0, f.gen);
    apply_deltas(f.accounts, e.deltas);
    REQUIRE(f.tree.lookup("/local/domain/5/x"));
    CHECK(f.tree.lookup("/local/domain/5/x")->owner() == 0);
    CHECK(e.changes.empty());
    f.check_accounts();
}

TEST_CASE("a 5000-deep chain is created, removed and freed without recursion") {
    Fixture f;
    std::string p;
    for (int i = 0; i < 5000; ++i) p += "/a";
    REQUIRE(f.write(priv(), p, "deep"));
    CHECK(f.read(priv(), p).value() == "deep");
    Tree snap = f.tree;
    REQUIRE(f.rm(priv(), "/a"));
    f.check_accounts();
    snap = Tree::initial(0, f.gen);  // drops the last reference to the chain
}

TEST_CASE("randomised operations keep the accounting exact") {
    Fixture f;
    for (DomId d = 1; d <= 4; ++d) f.home(d);
    std::mt19937 rng(7);
    for (int i = 0; i < 4000; ++i) {
        DomId d = static_cast<DomId>(1 + rng() % 4);
        Caller c = rng() % 3 ? guest(d) : priv();
        std::string path = home_path(static_cast<DomId>(1 + rng() % 4));
        int depth = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < depth; ++k) path += "/" + std::to_string(rng() % 4);
        switch (rng() % 5) {
            case 0: case 1: (void)f.write(c, path, std::string(rng() % 20, 'v')); break;
            case 2: (void)f.mkdir(c, path); break;
            case 3: (void)f.rm(c, path); break;
            case 4: (void)f.set_perms(c, path, make_perms({{d, kAccessRead, false}, {static_cast<DomId>(d % 4 + 1), kAccessBoth, false}})); break;
        }
    }
    f.check_accounts();
    std::string problems;
    CHECK_MESSAGE(f.tree.check(problems), problems);
}
