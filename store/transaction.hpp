// A transaction: a private copy-on-write view of the tree taken at
// TRANSACTION_START (O(1)), what its requests observed, and the changes it
// made, replayed onto the live tree at commit.
//
// Conflict rule (spec README, decision 4): a transaction that changed
// something commits iff every reply it gave would be the same if its
// requests ran again, in order, against the tree as it is at commit. So it
// records the aspects of nodes its replies depended on (a value it read, a
// child list it listed, the existence and permissions of nodes it
// touched), skipping what it had itself written, and at commit compares
// those aspects between its starting snapshot and the live tree.
// Read-only transactions always commit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/effects.hpp"
#include "store/tree.hpp"

namespace xs::store {

class Transaction final : private Observer {
public:
    // `node_limit`: distinct nodes it may touch (transaction-nodes); 0 = unlimited.
    Transaction(const Tree& base, std::uint32_t node_limit);

    // The operations, run against the private view. Results are the
    // replies; effects are kept for the commit, not applied.
    Result<const Node*> fetch(const OpContext& ctx, std::string_view path, std::uint8_t need,
                              std::uint8_t aspects);
    Result<> write(const OpContext& ctx, std::string_view path, std::string_view value);
    Result<> mkdir(const OpContext& ctx, std::string_view path);
    Result<> rm(const OpContext& ctx, std::string_view path);
    Result<> set_perms(const OpContext& ctx, std::string_view path, PermRef perms);

    const Tree& view() const { return view_; }
    const Tree& base() const { return base_; }
    bool read_only() const { return log_.empty(); }
    // A transaction that hit a quota or its node limit can only fail.
    int failure() const { return failure_; }
    std::size_t touched() const { return touched_.size(); }
    // Bytes held for bookkeeping (paths, logged values): charged to the domain.
    std::size_t memory() const { return memory_; }

    // True when every recorded observation still holds in `live`.
    bool still_valid(const Tree& live) const;
    // Re-run the logged changes onto `target`.
    Result<Effects> replay(Tree& target, const OpContext& ctx) const;
    // The effects of all changes as made on the view (valid when nothing
    // was committed since the start: then the view is the result).
    const Effects& effects() const { return effects_; }

private:
    struct Touch {
        std::uint8_t observed = 0;
        std::uint8_t written = 0;
    };
    enum class Op : std::uint8_t { Write, Mkdir, Rm, SetPerms };
    struct Logged {
        Op op;
        std::string path;
        std::string value;
        PermRef perms;
    };

    void observed(std::string_view path, std::uint8_t aspects) override;
    void wrote(std::string_view path, std::uint8_t aspects) override;
    void removed(std::string_view path) override;
    Touch& touch(std::string_view path);
    bool under_removed(std::string_view path) const;
    OpContext with_me(const OpContext& ctx);
    Result<> finish(Result<Effects> r, Logged entry);

    Tree base_;
    Tree view_;
    std::uint32_t node_limit_;
    std::unordered_map<std::string, Touch> touched_;
    std::vector<std::string> removed_roots_;
    std::vector<Logged> log_;
    Effects effects_;
    std::size_t memory_ = 0;
    int failure_ = 0;
    bool over_limit_ = false;
};

}  // namespace xs::store
