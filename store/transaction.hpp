// A transaction: a private copy-on-write view of the tree taken at
// TRANSACTION_START (O(1)), and the log of its requests with a digest of
// each reply, replayed onto the live tree at commit.
//
// Conflict rule (spec README, decision 4): a transaction that changed
// something commits iff every reply it gave would be the same if its
// requests ran again, in order, against the tree as it is at commit. That is
// exactly what the commit does: it replays every logged request (reads
// included) onto a snapshot of the live tree and compares each reply with
// the one the client got. Read-only transactions always commit; when nothing
// was committed since the start, the view itself is installed.
//
// Old versions: the snapshot keeps alive what the committed tree replaced
// since (Tree::superseded). When that grows past a limit the daemon rebases
// the transaction: its view becomes the committed tree with its own changes
// run again on it, and the old snapshot goes. The commit still replays the
// log, so its outcome is the same; reads after a rebase see newer data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "store/effects.hpp"
#include "store/tree.hpp"

namespace xs::store {

// What a read-type request returns (its reply is a digest of that).
enum class ReadKind : std::uint8_t { Value, Children, Perms };

// 64-bit digest of what a read returns from node `n`.
std::uint64_t reply_digest(const Node& n, ReadKind kind);

class Transaction {
public:
    enum class Op : std::uint8_t { Fetch, Write, Mkdir, Rm, SetPerms };
    // One request with (a digest of) its reply.
    struct Logged {
        Op op;
        std::uint8_t need = 0;         // Fetch: the access asked for
        ReadKind kind = ReadKind::Value;
        int code = 0;                  // the reply's error, 0 for success
        std::uint64_t digest = 0;      // Fetch: digest of what it returned
        std::string path;
        std::string value;             // Write
        PermRef perms;                 // SetPerms
    };
    // What a live update carries of an open transaction. The snapshot it
    // started from is not carried: a continued transaction's commit always
    // replays its log (same outcome, no fast path).
    struct Image {
        Tree view;
        std::vector<Logged> log;
        Deltas deltas;     // net node and byte change per owner so far
        int failure = 0;
        bool changed = false;
    };

    // `node_limit`: distinct paths it may touch (transaction-nodes); 0 = unlimited.
    Transaction(const Tree& base, std::uint32_t node_limit);
    // A transaction continued from an image (live update); `pin_mark` as
    // for rebase().
    Transaction(Image image, std::uint32_t node_limit, std::uint64_t pin_mark = 0);
    Image image() const { return Image{view_, log_, effects_.deltas, failure_, changed_}; }

    // The requests, run against the private view and logged. Effects of
    // changes are kept for the commit, not applied.
    Result<const Node*> fetch(const OpContext& ctx, std::string_view path, std::uint8_t need, ReadKind kind);
    Result<> write(const OpContext& ctx, std::string_view path, std::string_view value);
    Result<> mkdir(const OpContext& ctx, std::string_view path);
    Result<> rm(const OpContext& ctx, std::string_view path);
    Result<> set_perms(const OpContext& ctx, std::string_view path, PermRef perms);

    const Tree& view() const { return view_; }
    const Tree& base() const { return base_; }
    // The committed tree's superseded() when its view was taken: what the
    // view pins is at most what that has grown by since.
    std::uint64_t pin_mark() const { return pin_mark_; }
    // Let go of the old view: take `current` (the committed tree) and run
    // the logged changes that succeeded on it again (their outcome there
    // does not matter: the commit replays the whole log). The commit
    // replays from then on.
    void rebase(const Tree& current, const OpContext& ctx);
    std::uint64_t rebases() const { return rebases_; }
    bool read_only() const { return !changed_; }
    // A transaction that hit a quota or its node limit can only fail.
    int failure() const { return failure_; }
    std::size_t touched() const { return touched_.size(); }
    // Bytes held for bookkeeping (paths, logged values): charged to the domain.
    std::size_t memory() const { return memory_; }
    const std::vector<Logged>& log() const { return log_; }

    // Replay every logged request onto `target`; EAGAIN as soon as a reply
    // differs from the logged one.
    Result<Effects> replay(Tree& target, const OpContext& ctx) const;
    // The effects of all changes as made on the view (valid when nothing
    // was committed since the start: then the view is the result). A
    // continued transaction has only their deltas.
    const Effects& effects() const { return effects_; }

private:
    bool note_touched(std::string_view path);
    bool touch(std::string_view path);
    void remember(Logged entry);
    Result<Effects> run(Tree& t, const OpContext& ctx, const Logged& l) const;
    Result<> change(const OpContext& ctx, Logged entry);

    Tree base_;
    Tree view_;
    std::uint32_t node_limit_;
    std::unordered_set<std::string> touched_;
    std::vector<Logged> log_;
    Effects effects_;
    std::size_t memory_ = 0;
    std::uint64_t pin_mark_ = 0;
    std::uint64_t rebases_ = 0;
    int failure_ = 0;
    bool changed_ = false;
};

}  // namespace xs::store
