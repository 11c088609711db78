#include "tests/support/tree_count.hpp"

#include <cerrno>
#include <deque>
#include <string_view>

#include "tests/support/protocol.hpp"
#include "transport/wire.hpp"

namespace xs::testing {
namespace {

// Requests in flight at once during the walk.
constexpr std::size_t kBatch = 64;

std::string child_path(const std::string& parent, const std::string& name) {
    return parent == "/" ? "/" + name : parent + "/" + name;
}

std::string with_nul(const std::string& s) { return s + std::string(1, '\0'); }

// Record the owner named by a GET_PERMS reply.
void count_owner(TreeCount& out, const std::string& path, const std::optional<client::Message>& m) {
    if (!m || m->is_error()) {
        out.problems.push_back("GET_PERMS " + path + ": " + summary(m));
        return;
    }
    auto entries = m->strings();
    auto owner = entries.empty() ? std::nullopt : perm_domid(entries[0]);
    if (!owner) {
        out.problems.push_back("GET_PERMS " + path + ": unparsable reply");
        return;
    }
    ++out.nodes_by_owner[*owner];
    ++out.total;
}

}  // namespace

std::optional<DomId> perm_domid(const std::string& entry) {
    if (entry.size() < 2) return std::nullopt;
    std::uint32_t v = 0;
    for (char ch : std::string_view(entry).substr(1)) {
        if (ch < '0' || ch > '9' || v > 0xFFFF) return std::nullopt;
        v = v * 10 + static_cast<std::uint32_t>(ch - '0');
    }
    if (v > 0xFFFF) return std::nullopt;
    return static_cast<DomId>(v);
}

Result<std::vector<std::string>> list_children(client::Client& c, const std::string& path) {
    auto dir = c.call(wire::kDirectory, with_nul(path));
    if (!dir) return fail(EIO);
    if (!dir->is_error()) return dir->strings();
    if (dir->error() != "E2BIG") return fail(wire::error_code(dir->error()));
    // Long list: read it in chunks, starting again if the node changes.
    for (int attempt = 0; attempt < 10; ++attempt) {
        std::vector<std::string> names;
        std::string gen;
        std::size_t offset = 0;
        bool restart = false;
        for (;;) {
            auto m = c.call(wire::kDirectoryPart, with_nul(path) + with_nul(std::to_string(offset)));
            if (!m) return fail(EIO);
            if (m->is_error()) return fail(wire::error_code(m->error()));
            auto part = parse_dir_part(*m);
            if (!part) return fail(EBADMSG);
            if (!gen.empty() && part->gen != gen) {
                restart = true;
                break;
            }
            gen = part->gen;
            names.insert(names.end(), part->names.begin(), part->names.end());
            offset += part->chunk_bytes;
            if (part->last) break;
            if (part->chunk_bytes == 0) return fail(EBADMSG);  // no progress
        }
        if (!restart) return names;
    }
    return fail(EAGAIN);
}

TreeCount count_tree(client::Client& c) {
    TreeCount out;
    for (const char* special : {"@introduceDomain", "@releaseDomain"})
        count_owner(out, special, c.call(wire::kGetPerms, with_nul(special)));
    std::deque<std::string> todo = {"/"};
    while (!todo.empty()) {
        std::vector<std::string> batch;
        while (!todo.empty() && batch.size() < kBatch) {
            batch.push_back(std::move(todo.front()));
            todo.pop_front();
        }
        std::vector<std::pair<std::uint32_t, std::uint32_t>> ids;
        for (const auto& p : batch)
            ids.emplace_back(c.send(wire::kGetPerms, with_nul(p)), c.send(wire::kDirectory, with_nul(p)));
        for (std::size_t i = 0; i < batch.size(); ++i) {
            count_owner(out, batch[i], c.wait_reply(ids[i].first));
            auto dir = c.wait_reply(ids[i].second);
            std::vector<std::string> names;
            if (dir && !dir->is_error()) {
                names = dir->strings();
            } else if (dir && dir->error() == "E2BIG") {
                auto all = list_children(c, batch[i]);
                if (all) names = *all;
                else out.problems.push_back("DIRECTORY_PART " + batch[i] + " failed");
            } else {
                out.problems.push_back("DIRECTORY " + batch[i] + ": " + summary(dir));
            }
            for (const auto& n : names) todo.push_back(child_path(batch[i], n));
        }
    }
    return out;
}

}  // namespace xs::testing
