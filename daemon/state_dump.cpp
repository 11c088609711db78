// A canonical text of everything the daemon holds: two daemons that hold
// the same state give the same text, whatever their connection ids, the
// order their hash maps keep or the shape of their trees' memory. The
// live-update fuzzer compares a daemon with the one restored from its
// stream through it; it is built from the live objects, not from what a
// migration stream carries, so a value the stream loses shows up.
#include <algorithm>
#include <vector>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"
#include "store/tree.hpp"

namespace xs::daemon {

namespace {

void dump_perms(std::string& out, const store::PermList& perms) {
    for (const store::PermEntry& e : perms.entries()) {
        out.push_back(' ');
        store::append_perm(out, e);
    }
}

// Every node under `path` (itself included), depth first, children in name
// order. Not whether a node is stored as a directory (one that has or had
// children), nor its generation: a restore builds its nodes anew.
void dump_tree(std::string& out, const store::Node* n, const std::string& path) {
    struct Item {
        const store::Node* node;
        std::string path;
    };
    std::vector<Item> todo{{n, path}};
    while (!todo.empty()) {
        Item it = std::move(todo.back());
        todo.pop_back();
        out += it.path;
        dump_perms(out, it.node->permissions());
        out += log::format(" value=%zu:", it.node->value().size());
        out.append(it.node->value());
        out.push_back('\n');
        std::vector<const store::Node*> kids;  // in name order
        it.node->children().for_each([&](const store::Node* c) {
            kids.push_back(c);
            return true;
        });
        for (auto c = kids.rbegin(); c != kids.rend(); ++c)  // popped in name order
            todo.push_back(Item{*c, (it.path == "/" ? "/" : it.path + "/") + std::string((*c)->name())});
    }
}

void dump_whole_tree(std::string& out, const store::Tree& t) {
    dump_tree(out, t.root(), "/");
    for (std::string_view special : {store::kIntroduceDomain, std::string_view("@releaseDomain")})
        if (const store::Node* n = t.lookup(special)) dump_tree(out, n, std::string(special));
}

void dump_usage(std::string& out, const char* what, const std::array<std::int64_t, quota::kItemCount>& v) {
    out += what;
    for (std::int64_t x : v) out += log::format(" %lld", static_cast<long long>(x));
    out.push_back('\n');
}

}  // namespace

std::string Daemon::dump_state() {
    // Not the generation counter: a restore numbers the nodes it loads anew
    // (the stream carries no node's generation), so it differs by design.
    std::string out;
    dump_whole_tree(out, store_.tree());
    for (auto& [name, value] : quotas_.named_values(std::nullopt)) out += log::format("quota %s %u\n", name.c_str(), value);
    dump_usage(out, "global-max", global_max_.max_seen);
    out += log::format("open-transactions %zu\n", open_transactions_);
    for (const auto& [id, d] : domains_.all()) {
        out += log::format("domain %u introduced=%d noticed=%d features=%u unique=%llu node-bytes=%lld\n", id,
                           d.introduced ? 1 : 0, d.shutdown_noticed ? 1 : 0, d.features,
                           static_cast<unsigned long long>(d.unique_id), static_cast<long long>(d.node_bytes));
        dump_usage(out, " usage", d.usage.current);
        dump_usage(out, " max", d.usage.max_seen);
        for (auto& [name, value] : quotas_.overrides(id)) out += log::format(" quota %s %u\n", name.c_str(), value);
    }
    std::vector<ConnId> ids;
    for (const auto& [id, c] : conns_)
        if (!c->closing) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const Connection& c = *conns_.at(ids[i]);
        out += log::format("connection %zu %s dom=%u priv=%d fd=%d ignored=%d features=%u last-tx=%u outstanding=%u\n",
                           i, c.kind() == Connection::Kind::Ring ? "ring" : "socket", c.domid(),
                           c.privileged() ? 1 : 0, c.fd, c.ignored ? 1 : 0, c.features, c.last_transaction_id(),
                           c.outstanding);
        std::string_view in = c.framer.unprocessed();
        out += log::format(" input %zu:", in.size());
        out.append(in);
        // Unsent bytes: a restored queue holds only the rest of a partly
        // written message, while the old one counts it whole until it is
        // done (docs/fuzzing.md, "Known differences").
        std::size_t unsent = 0;
        c.out.for_each([&](const OutMsg& m, std::size_t sent) { unsent += m.bytes.size() - sent; });
        out += log::format("\n queue %zu unsent bytes, %zu replies\n", unsent, c.out.replies());
        c.out.for_each([&](const OutMsg& m, std::size_t sent) {
            out += log::format(" out reply=%d source=%u unsent=%zu:", m.reply ? 1 : 0, m.source, m.bytes.size() - sent);
            out.append(m.bytes, sent);
            out.push_back('\n');
        });
        watches_.for_each_of(c.id(), [&](const watch::Watch& w) {
            out += log::format(" watch %s depth=%d strip=%u token=", w.path.c_str(), w.depth, w.strip);
            out += w.token;
            out.push_back('\n');
        });
        c.for_each_transaction([&](std::uint32_t id, const store::Transaction& t) {
            out += log::format(" transaction %u changed=%d failure=%d touched=%zu memory=%zu\n", id,
                               t.read_only() ? 0 : 1, t.failure(), t.touched(), t.memory());
            for (const store::Transaction::Logged& l : t.log()) {
                out += log::format("  log op=%d need=%u kind=%d code=%d digest=%llx %s", static_cast<int>(l.op),
                                   l.need, static_cast<int>(l.kind), l.code,
                                   static_cast<unsigned long long>(l.digest), l.path.c_str());
                if (l.perms) dump_perms(out, *l.perms);
                out += log::format(" value=%zu:", l.value.size());
                out += l.value;
                out.push_back('\n');
            }
            dump_whole_tree(out, t.view());
        });
    }
    return out;
}

}  // namespace xs::daemon
