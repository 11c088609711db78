#include <doctest/doctest.h>

#include <cerrno>
#include <memory>
#include <string>

#include "store/path.hpp"
#include "store/store.hpp"
#include "tree_support.hpp"

using namespace test;

namespace {

struct Fixture {
    Store store{0};
    Accounts accounts = recount(store.tree());

    OpContext ctx(Caller c, Budget b = {}) { return store.context(c, b); }
    void track(const Result<Effects>& r) {
        if (r) apply_deltas(accounts, r->deltas);
    }
    Result<Effects> write(Caller c, std::string_view p, std::string_view v) {
        auto r = store.edit([&](Tree& t) { return t.write(ctx(c), p, v); });
        track(r);
        return r;
    }
    Result<Effects> commit(store::Transaction& t, Caller c, Budget b = {}) {
        auto r = store.commit(t, c, b);
        track(r);
        return r;
    }
    std::unique_ptr<store::Transaction> begin(std::uint32_t limit = 0) { return store.begin(limit); }
    std::string value(std::string_view p) {
        const Node* n = store.tree().lookup(p);
        return n ? std::string(n->value()) : std::string("<absent>");
    }
    void check_accounts() { CHECK(normalized(accounts) == normalized(recount(store.tree()))); }
    void home(DomId d) {
        std::string h = home_path(d);
        track(store.edit([&](Tree& t) { return t.write(ctx(priv()), h, ""); }));
        track(store.edit([&](Tree& t) { return t.set_perms(ctx(priv()), h, make_perms({{d, kAccessNone, false}})); }));
    }
};

template <class T>
int code(const Result<T>& r) {
    return r ? 0 : r.error().code;
}

std::string read_in(store::Transaction& t, Fixture& f, Caller c, std::string_view p) {
    auto n = t.fetch(f.ctx(c), p, kAccessRead, store::ReadKind::Value);
    return n ? std::string((*n)->value()) : "<err " + std::to_string(n.error().code) + ">";
}

}  // namespace

TEST_CASE("a transaction sees its own writes; others see them only after commit") {
    Fixture f;
    REQUIRE(f.write(priv(), "/a", "a"));
    auto t = f.begin();
    REQUIRE(t->write(f.ctx(priv()), "/a", "b"));
    CHECK(read_in(*t, f, priv(), "/a") == "b");
    CHECK(f.value("/a") == "a");
    REQUIRE(f.commit(*t, priv()));
    CHECK(f.value("/a") == "b");
    f.check_accounts();
}

TEST_CASE("read-only transactions always commit") {
    Fixture f;
    REQUIRE(f.write(priv(), "/a", "a"));
    auto t = f.begin();
    CHECK(read_in(*t, f, priv(), "/a") == "a");
    REQUIRE(f.write(priv(), "/a", "changed"));
    CHECK(f.commit(*t, priv()));
}

TEST_CASE("test-xenstore 'ta err': a value read then changed by someone else is a conflict") {
    Fixture f;
    REQUIRE(f.write(priv(), "/x", "a"));
    auto t = f.begin();
    CHECK(read_in(*t, f, priv(), "/x") == "a");
    REQUIRE(f.write(priv(), "/x", "b"));
    CHECK(read_in(*t, f, priv(), "/x") == "a");  // snapshot isolation
    REQUIRE(t->write(f.ctx(priv()), "/x", "c"));
    CHECK(code(f.commit(*t, priv())) == EAGAIN);
    CHECK(f.value("/x") == "b");
}

TEST_CASE("creating different children of one parent: both commit") {
    Fixture f;
    auto t1 = f.begin();
    auto t2 = f.begin();
    REQUIRE(t1->write(f.ctx(priv()), "/local/domain/5/name", "vm5"));
    REQUIRE(t2->write(f.ctx(priv()), "/local/domain/6/name", "vm6"));
    REQUIRE(f.commit(*t1, priv()));
    REQUIRE(f.commit(*t2, priv()));
    CHECK(f.value("/local/domain/5/name") == "vm5");
    CHECK(f.value("/local/domain/6/name") == "vm6");
    f.check_accounts();
}

TEST_CASE("...unless one of them listed that parent") {
    Fixture f;
    REQUIRE(f.write(priv(), "/local/domain", ""));
    auto t1 = f.begin();
    auto t2 = f.begin();
    REQUIRE(t1->fetch(f.ctx(priv()), "/local/domain", kAccessRead, store::ReadKind::Children));
    REQUIRE(t1->write(f.ctx(priv()), "/local/domain/5/name", "vm5"));
    REQUIRE(t2->write(f.ctx(priv()), "/local/domain/6/name", "vm6"));
    REQUIRE(f.commit(*t2, priv()));
    CHECK(code(f.commit(*t1, priv())) == EAGAIN);
}

TEST_CASE("listing a parent the transaction itself added to still commits") {
    Fixture f;
    auto t = f.begin();
    REQUIRE(t->write(f.ctx(priv()), "/local/domain/5", ""));
    REQUIRE(t->fetch(f.ctx(priv()), "/local/domain", kAccessRead, store::ReadKind::Children));
    REQUIRE(f.write(priv(), "/unrelated", "x"));
    CHECK(f.commit(*t, priv()));
}

TEST_CASE("a blind overwrite of a node someone else changed commits") {
    Fixture f;
    REQUIRE(f.write(priv(), "/a", "0"));
    auto t = f.begin();
    REQUIRE(t->write(f.ctx(priv()), "/a", "mine"));
    REQUIRE(f.write(priv(), "/a", "theirs"));
    REQUIRE(f.commit(*t, priv()));
    CHECK(f.value("/a") == "mine");
}

TEST_CASE("a transaction that saw 'x is absent' fails if x appeared") {
    Fixture f;
    auto t = f.begin();
    CHECK(read_in(*t, f, priv(), "/x") == "<err " + std::to_string(ENOENT) + ">");
    REQUIRE(t->write(f.ctx(priv()), "/y", "1"));
    REQUIRE(f.write(priv(), "/x", "new"));
    CHECK(code(f.commit(*t, priv())) == EAGAIN);
    // ... and a mkdir of a node another transaction created before commit.
    auto t1 = f.begin();
    auto t2 = f.begin();
    CHECK(read_in(*t1, f, priv(), "/a") == "<err " + std::to_string(ENOENT) + ">");
    REQUIRE(t2->mkdir(f.ctx(priv()), "/a"));
    REQUIRE(f.commit(*t2, priv()));
    REQUIRE(t1->write(f.ctx(priv()), "/b", "x"));
    CHECK(code(f.commit(*t1, priv())) == EAGAIN);
}

TEST_CASE("permission changes of a touched node conflict when they change a reply") {
    Fixture f;
    f.home(3);
    REQUIRE(f.write(priv(), "/local/domain/3/a", "0"));
    auto t = f.begin();
    REQUIRE(t->write(f.ctx(guest(3)), "/local/domain/3/a", "1"));
    f.track(f.store.edit([&](Tree& t) { return t.set_perms(f.ctx(priv()), "/local/domain/3/a", make_perms({{0, kAccessRead, false}})); }));
    CHECK(code(f.commit(*t, guest(3))) == EAGAIN);  // the guest may no longer write it
    // A privileged writer is not affected by permissions: same reply, commit.
    auto t2 = f.begin();
    REQUIRE(t2->write(f.ctx(priv()), "/local/domain/3/a", "2"));
    f.track(f.store.edit([&](Tree& t) { return t.set_perms(f.ctx(priv()), "/local/domain/3/a", make_perms({{5, kAccessNone, false}})); }));
    CHECK(f.commit(*t2, priv()));
}

TEST_CASE("write then remove inside a transaction leaves nothing, with one change per path") {
    Fixture f;
    auto t = f.begin();
    REQUIRE(t->write(f.ctx(priv()), "/x/y", "1"));
    REQUIRE(t->rm(f.ctx(priv()), "/x"));
    REQUIRE(f.write(priv(), "/other", ""));  // force the replay path
    auto r = f.commit(*t, priv());
    REQUIRE(r);
    CHECK(f.value("/x") == "<absent>");
    f.check_accounts();
}

// Upstream answers the second commit with EAGAIN; by our rule its replies
// (RM of a node whose parent exists is OK) are unchanged, so it commits and
// removes nothing more. What matters: exact accounting, no crash.
TEST_CASE("XSA-440: two transactions deleting the same 50 nodes both commit, accounting exact") {
    Fixture f;
    f.home(3);
    for (int i = 0; i < 50; ++i) REQUIRE(f.write(guest(3), home_path(3) + "/n" + std::to_string(i), "v"));
    auto t1 = f.begin();
    auto t2 = f.begin();
    for (int i = 0; i < 50; ++i) {
        std::string p = home_path(3) + "/n" + std::to_string(i);
        REQUIRE(t1->rm(f.ctx(guest(3)), p));
        REQUIRE(t2->rm(f.ctx(guest(3)), p));
    }
    REQUIRE(f.commit(*t1, guest(3)));
    CHECK(f.commit(*t2, guest(3)));
    CHECK(f.accounts[3].nodes == 1);  // the home node only
    f.check_accounts();
}

TEST_CASE("transaction-nodes limit: N touched nodes allowed, the next fails and poisons") {
    Fixture f;
    auto t = f.begin(2);
    CHECK(t->write(f.ctx(priv()), "/a", "1"));
    CHECK(t->write(f.ctx(priv()), "/b", "1"));
    CHECK(t->write(f.ctx(priv()), "/a", "2"));  // already touched
    auto over = t->write(f.ctx(priv()), "/c", "1");
    REQUIRE_FALSE(over);
    CHECK(over.error().code == ENOSPC);
    CHECK(t->failure() == ENOSPC);
    // Poisoned, it still answers what stays within the limit (as upstream;
    // found by the differential run); a new path is refused again.
    CHECK(t->write(f.ctx(priv()), "/a", "3"));
    auto read = t->fetch(f.ctx(priv()), "/b", kAccessRead, store::ReadKind::Value);
    REQUIRE(read);
    CHECK((*read)->value() == "1");
    CHECK(code(t->fetch(f.ctx(priv()), "/c", kAccessRead, store::ReadKind::Value)) == ENOSPC);
    CHECK(t->touched() == 2);
    CHECK(code(f.commit(*t, priv())) == ENOSPC);
    CHECK(f.value("/a") == "<absent>");
}

TEST_CASE("a transaction poisoned by a quota refusal answers its later requests; its commit fails") {
    Fixture f;
    f.home(4);
    Budget b{true, 0, 2, Budget{}.memory_left};
    auto t = f.begin();
    REQUIRE(t->write(f.ctx(guest(4), b), home_path(4) + "/a", "x"));
    CHECK(code(t->write(f.ctx(guest(4), b), home_path(4) + "/b/c/d", "x")) == ENOSPC);
    auto a = t->fetch(f.ctx(guest(4), b), home_path(4) + "/a", kAccessRead, store::ReadKind::Value);
    REQUIRE(a);
    CHECK((*a)->value() == "x");
    CHECK(code(t->fetch(f.ctx(guest(4), b), home_path(4) + "/b", kAccessRead, store::ReadKind::Value)) == ENOENT);
    CHECK(code(f.commit(*t, guest(4), b)) == ENOSPC);
    CHECK(f.value(home_path(4) + "/a") == "<absent>");
    f.check_accounts();
}

TEST_CASE("XSA-421: create-then-delete inside transactions; node quota charged at commit") {
    Fixture f;
    f.home(4);
    const std::int64_t quota = 10;
    auto owned = [&] { return f.accounts[4].nodes; };
    int committed = 0;
    for (int k = 0; k < 20; ++k) {
        Budget b{true, 0, quota - owned(), Budget{}.memory_left};
        auto t = f.begin();
        std::string base = home_path(4);
        bool ok = t->write(f.ctx(guest(4), b), base + "/n" + std::to_string(k), "x").has_value();
        ok = ok && t->write(f.ctx(guest(4), b), base + "/tmp", "t").has_value();
        ok = ok && t->rm(f.ctx(guest(4), b), base + "/tmp").has_value();
        auto r = f.commit(*t, guest(4), b);
        if (r) ++committed;
        CHECK(f.value(base + "/tmp") == "<absent>");
        CHECK(owned() <= quota);
    }
    CHECK(owned() == quota);       // the home node + 9 children
    CHECK(committed == quota - 1);
    f.check_accounts();
}

TEST_CASE("XSA-414/415: a quota failure inside a transaction fails the commit, nothing partial") {
    Fixture f;
    f.home(4);
    Budget b{true, 0, 2, Budget{}.memory_left};
    auto t = f.begin();
    auto w = t->write(f.ctx(guest(4), b), home_path(4) + "/a/b/c/d/e", "x");
    REQUIRE_FALSE(w);
    CHECK(w.error().code == ENOSPC);
    CHECK(code(f.commit(*t, guest(4), b)) == ENOSPC);
    CHECK(f.value(home_path(4) + "/a") == "<absent>");
    f.check_accounts();
}

TEST_CASE("the replay path and the fast path keep identical accounting") {
    Fixture f;
    f.home(2);
    for (bool contended : {false, true}) {
        auto t = f.begin();
        std::string base = home_path(2) + (contended ? "/c" : "/u");
        REQUIRE(t->write(f.ctx(guest(2)), base + "/x/y", "1234"));
        REQUIRE(t->set_perms(f.ctx(guest(2)), base + "/x", make_perms({{2, kAccessRead, false}, {9, kAccessRead, false}})));
        if (contended) REQUIRE(f.write(priv(), "/bump", "1"));
        REQUIRE(f.commit(*t, guest(2)));
        f.check_accounts();
    }
    CHECK(f.store.commits() == 2);
}

TEST_CASE("creating beneath a shared directory that did not exist yet: both commit (boot storm)") {
    Fixture f;
    auto t1 = f.begin();
    auto t2 = f.begin();
    REQUIRE(t1->write(f.ctx(priv()), "/local/domain/0/backend/vif/5/0/state", "1"));
    REQUIRE(t2->write(f.ctx(priv()), "/local/domain/0/backend/vif/6/0/state", "1"));
    CHECK_FALSE(t2->rm(f.ctx(priv()), "/local/domain/0/backend/vbd/6/0"));  // ENOENT: parent missing
    REQUIRE(f.commit(*t1, priv()));
    REQUIRE(f.commit(*t2, priv()));
    CHECK(f.value("/local/domain/0/backend/vif/5/0/state") == "1");
    CHECK(f.value("/local/domain/0/backend/vif/6/0/state") == "1");
    f.check_accounts();
}

TEST_CASE("a reply that would change makes the commit fail, also for failed requests") {
    Fixture f;
    // RM of a missing node: ENOENT while its parent is missing, OK once it exists.
    auto t = f.begin();
    auto r = t->rm(f.ctx(priv()), "/p/child");
    CHECK_FALSE(r.has_value());
    REQUIRE(t->write(f.ctx(priv()), "/other", "x"));
    REQUIRE(f.write(priv(), "/p", ""));
    CHECK(code(f.commit(*t, priv())) == EAGAIN);
    // A write refused for lack of permission, and then allowed.
    f.home(3);
    REQUIRE(f.write(priv(), "/local/domain/3/ro", ""));
    REQUIRE(f.store.edit([&](Tree& t) { return t.set_perms(f.ctx(priv()), "/local/domain/3/ro", make_perms({{0, kAccessRead, false}})); }));
    auto t2 = f.begin();
    CHECK_FALSE(t2->write(f.ctx(guest(3)), "/local/domain/3/ro", "v").has_value());
    REQUIRE(t2->write(f.ctx(guest(3)), "/local/domain/3/mine", "v"));
    REQUIRE(f.store.edit([&](Tree& t) { return t.set_perms(f.ctx(priv()), "/local/domain/3/ro", make_perms({{3, kAccessNone, false}})); }));
    CHECK(code(f.commit(*t2, guest(3))) == EAGAIN);
}

TEST_CASE("a value rewritten with the same bytes is not a conflict") {
    Fixture f;
    REQUIRE(f.write(priv(), "/v", "same"));
    auto t = f.begin();
    CHECK(read_in(*t, f, priv(), "/v") == "same");
    REQUIRE(t->write(f.ctx(priv()), "/w", "1"));
    REQUIRE(f.write(priv(), "/v", "same"));
    CHECK(f.commit(*t, priv()));
}

namespace {

// What a live update does to an open transaction: only its image crosses.
std::unique_ptr<store::Transaction> continued(const store::Transaction& t) {
    return std::make_unique<store::Transaction>(t.image(), 0);
}

}  // namespace

TEST_CASE("a transaction continued from its image keeps its view, its costs and its commit outcome") {
    for (bool conflict : {false, true}) {
        CAPTURE(conflict);
        Fixture f;
        f.home(5);
        REQUIRE(f.write(priv(), "/local/domain/5/seen", "1"));
        auto t = f.begin();
        CHECK(read_in(*t, f, guest(5), "/local/domain/5/seen") == "1");
        REQUIRE(t->write(f.ctx(guest(5)), "/local/domain/5/new", "x"));
        REQUIRE(t->rm(f.ctx(guest(5)), "/local/domain/5/missing"));
        auto c = continued(*t);
        CHECK(c->memory() == t->memory());
        CHECK(c->touched() == t->touched());
        CHECK(c->read_only() == t->read_only());
        CHECK(c->effects().deltas.of(5).nodes == t->effects().deltas.of(5).nodes);
        CHECK(read_in(*c, f, guest(5), "/local/domain/5/new") == "x");
        if (conflict) REQUIRE(f.write(priv(), "/local/domain/5/seen", "2"));
        auto r = f.commit(*c, guest(5));
        CHECK(code(r) == (conflict ? EAGAIN : 0));
        CHECK(f.value("/local/domain/5/new") == (conflict ? "<absent>" : "x"));
        f.check_accounts();
    }
}

TEST_CASE("a continued transaction that was poisoned or read-only keeps that") {
    Fixture f;
    REQUIRE(f.write(priv(), "/a", "a"));
    auto ro = f.begin();
    CHECK(read_in(*ro, f, priv(), "/a") == "a");
    REQUIRE(f.write(priv(), "/a", "b"));
    CHECK(code(f.commit(*continued(*ro), priv())) == 0);  // read-only: always commits
    auto poisoned = f.begin(1);
    REQUIRE(poisoned->write(f.ctx(guest(0)), "/a", "c"));
    CHECK(!poisoned->write(f.ctx(guest(0)), "/b", "c"));  // a second path: over the limit
    auto c = continued(*poisoned);
    CHECK(c->failure() == ENOSPC);
    CHECK(code(f.commit(*c, priv())) == ENOSPC);
}

// ---- old versions a snapshot keeps alive, and rebasing ----

TEST_CASE("superseded bytes grow only while a snapshot shares what the tree replaces") {
    Fixture f;
    REQUIRE(f.write(priv(), "/a/b", std::string(100, 'x')));
    std::uint64_t s0 = f.store.tree().superseded();
    // Nobody shares the nodes: rewrites change them in place.
    for (int i = 0; i < 10; ++i) REQUIRE(f.write(priv(), "/a/b", std::string(100, char('a' + i))));
    CHECK(f.store.tree().superseded() == s0);
    auto t = f.begin();
    CHECK(t->pin_mark() == s0);
    REQUIRE(f.write(priv(), "/a/b", std::string(100, 'y')));
    std::uint64_t s1 = f.store.tree().superseded();
    // "/", "/a" and "/a/b" were copied: at least the value's bytes.
    CHECK(s1 >= s0 + 100);
    // The copies are private now: further rewrites pin nothing more.
    REQUIRE(f.write(priv(), "/a/b", std::string(100, 'z')));
    CHECK(f.store.tree().superseded() == s1);
    // A removed subtree counts whole.
    auto t2 = f.begin();
    auto removed = f.store.edit([&](Tree& tr) { return tr.rm(f.ctx(priv()), "/a"); });
    REQUIRE(removed);
    f.track(removed);
    CHECK(f.store.tree().superseded() >= s1 + 100);
    f.check_accounts();
}

TEST_CASE("a rebased transaction sees the committed tree plus its own changes") {
    Fixture f;
    REQUIRE(f.write(priv(), "/a", "old"));
    REQUIRE(f.write(priv(), "/big", std::string(1000, 'o')));
    auto t = f.begin();
    REQUIRE(t->write(f.ctx(priv()), "/mine", "m"));
    REQUIRE(f.write(priv(), "/a", "new"));
    REQUIRE(f.write(priv(), "/big", std::string(1000, 'n')));
    CHECK(read_in(*t, f, priv(), "/a") == "old");
    std::uint64_t before = t->pin_mark();
    t->rebase(f.store.tree(), f.ctx(priv()));
    CHECK(t->rebases() == 1);
    CHECK(t->pin_mark() == f.store.tree().superseded());
    CHECK(t->pin_mark() > before);
    CHECK(read_in(*t, f, priv(), "/a") == "new");
    CHECK(read_in(*t, f, priv(), "/mine") == "m");
    CHECK(f.value("/mine") == "<absent>");
    // It read "/a" as "old" before: that reply would differ now.
    CHECK(code(f.commit(*t, priv())) == EAGAIN);
    CHECK(f.value("/mine") == "<absent>");
    f.check_accounts();
}

TEST_CASE("a rebased transaction that read nothing changed since still commits, accounting exact") {
    Fixture f;
    f.home(1);
    Caller g{1, false, std::nullopt};
    REQUIRE(f.write(priv(), "/other", "x"));
    auto t = f.begin();
    CHECK(read_in(*t, f, g, "/local/domain/1") == "");
    REQUIRE(t->write(f.ctx(g), "/local/domain/1/a", "1"));
    REQUIRE(t->write(f.ctx(g), "/local/domain/1/b", "2"));
    REQUIRE(t->rm(f.ctx(g), "/local/domain/1/b"));
    REQUIRE(f.write(priv(), "/other", "y"));
    t->rebase(f.store.tree(), f.ctx(g));
    REQUIRE(f.write(priv(), "/other", "z"));
    // Its pending costs follow the new view: one node more for domain 1.
    store::OwnerDelta d = t->effects().deltas.of(1);
    CHECK(d.nodes == 1);
    REQUIRE(f.commit(*t, g));
    CHECK(f.value("/local/domain/1/a") == "1");
    CHECK(f.value("/local/domain/1/b") == "<absent>");
    f.check_accounts();
}

TEST_CASE("a rebase lets the old snapshot go") {
    Fixture f;
    REQUIRE(f.write(priv(), "/n", "old"));
    const Node* old_node = f.store.tree().lookup("/n");
    auto t = f.begin();
    REQUIRE(f.write(priv(), "/n", "new"));
    // The old node lives on in the snapshot (base and view).
    CHECK(t->view().lookup("/n") == old_node);
    CHECK(old_node->refs >= 1);
    t->rebase(f.store.tree(), f.ctx(priv()));
    CHECK(t->view().lookup("/n") == f.store.tree().lookup("/n"));
    CHECK(t->base().root() == nullptr);
}

TEST_CASE("a rebased read-only or poisoned transaction keeps that") {
    Fixture f;
    REQUIRE(f.write(priv(), "/a", "1"));
    auto ro = f.begin();
    CHECK(read_in(*ro, f, priv(), "/a") == "1");
    REQUIRE(f.write(priv(), "/a", "2"));
    ro->rebase(f.store.tree(), f.ctx(priv()));
    CHECK(ro->read_only());
    CHECK(f.commit(*ro, priv()));

    auto p = f.begin(1);
    REQUIRE(p->write(f.ctx(priv()), "/x", "1"));
    CHECK(code(p->write(f.ctx(priv()), "/y", "1")) == ENOSPC);
    p->rebase(f.store.tree(), f.ctx(priv()));
    CHECK(p->failure() == ENOSPC);
    CHECK(code(f.commit(*p, priv())) == ENOSPC);
    CHECK(f.value("/x") == "<absent>");
}

TEST_CASE("a continued transaction can be rebased and keeps its commit outcome") {
    Fixture f;
    REQUIRE(f.write(priv(), "/a", "1"));
    auto t = f.begin();
    CHECK(read_in(*t, f, priv(), "/a") == "1");
    REQUIRE(t->write(f.ctx(priv()), "/b", "2"));
    store::Transaction cont(t->image(), 0, f.store.tree().superseded());
    REQUIRE(f.write(priv(), "/c", "3"));
    cont.rebase(f.store.tree(), f.ctx(priv()));
    CHECK(read_in(cont, f, priv(), "/c") == "3");
    REQUIRE(f.commit(cont, priv()));
    CHECK(f.value("/b") == "2");
    f.check_accounts();
}

TEST_CASE("a rebase makes again only the changes the client was told succeeded") {
    Fixture f;
    f.home(1);
    Caller g{1, false, std::nullopt};
    REQUIRE(f.write(priv(), "/locked", "x"));
    auto t = f.begin();
    CHECK(code(t->write(f.ctx(g), "/locked/mine", "1")) == EACCES);
    REQUIRE(t->write(f.ctx(g), "/local/domain/1/ok", "1"));
    // Now the guest could write there: the refused write must stay undone.
    auto opened = f.store.edit([&](Tree& tr) {
        return tr.set_perms(f.ctx(priv()), "/locked", make_perms({{0, kAccessNone, false}, {1, kAccessWrite, false}}));
    });
    REQUIRE(opened);
    f.track(opened);
    t->rebase(f.store.tree(), f.ctx(g));
    CHECK(t->view().lookup("/locked/mine") == nullptr);
    CHECK(t->view().lookup("/local/domain/1/ok") != nullptr);
    // The EACCES it was given would now be a success: EAGAIN.
    CHECK(code(f.commit(*t, g)) == EAGAIN);
    f.check_accounts();
}
