// Watch events: matching changes against the watch trie, filtering by the
// watcher's right to read, and queueing WATCH_EVENT messages.
#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"
#include "store/path.hpp"

namespace xs::daemon {

namespace {

// The node at `path` inside a removed subtree whose root was at `root_path`,
// and its parent's permissions.
const store::Node* find_removed(const store::Node* root, std::string_view root_path, std::string_view path,
                                const store::PermList*& parent) {
    const store::Node* cur = root;
    parent = nullptr;
    store::Components c(path.substr(root_path.size()));
    std::string_view comp;
    while (cur && c.next(comp)) {
        parent = cur->perms;
        cur = cur->children().find(comp);
    }
    return cur;
}

bool may_read(const store::Caller& who, const store::PermList* p) {
    return p && (store::access_for(who, *p) & store::kAccessRead);
}

}  // namespace

void Daemon::apply(const store::Effects& e, const Connection& source) {
    account(e.deltas);
    if (!e.changes.empty()) charge_write(source);
    for (const store::Change& ch : e.changes) fire(ch, &source);
    unpin_transactions();
}

// A removal reports its deleted nodes children first and the removed root
// last (as upstream); any other change is one subtree event.
void Daemon::fire(const store::Change& ch, const Connection* source) {
    if (ch.removed) {
        // Watches strictly below the root, on nodes that existed there, get
        // exact events; the walk gives parents first, so deliver in reverse.
        std::vector<std::pair<const watch::Watch*, std::pair<const store::Node*, const store::PermList*>>> below;
        watches_.for_each_below(ch.path, [&](const watch::Watch& w) {
            const store::PermList* parent = nullptr;
            if (const store::Node* n = find_removed(ch.removed.get(), ch.path, w.path, parent))
                below.push_back({&w, {n, parent}});
        });
        for (auto it = below.rbegin(); it != below.rend(); ++it)
            deliver(*it->first, it->first->path, it->second.first->perms, nullptr, it->second.second, source);
    }
    watches_.match_subtree(ch.path, [&](const watch::Watch& w) {
        deliver(w, ch.path, ch.before.get(), ch.after.get(), ch.parent.get(), source);
    });
}

// Queue one watch event for `c` (false: the same event is already waiting),
// traced and charged to the watcher's memory like any output.
bool Daemon::queue_event(Connection& c, std::string_view event, Clock::time_point deadline, DomId src) {
    if (!c.out.push_event(event, deadline, src)) return false;
    if (log::trace_enabled()) log::trace_io(log::Direction::Out, c.id(), c.domid(), "WATCH_EVENT", event);
    if (Domain* d = charged(c)) d->usage.add(quota::Item::Memory, static_cast<std::int64_t>(wire::kHeaderSize + event.size()));
    return true;
}

void Daemon::deliver(const watch::Watch& w, std::string_view event_path, const store::PermList* before,
                     const store::PermList* after, const store::PermList* parent, const Connection* source) {
    Connection* c = find(w.conn);
    if (!c || c->closing || c->ignored) return;
    if (!c->privileged()) {
        store::Caller who = c->caller();
        if (!may_read(who, before) && !may_read(who, after) && !may_read(who, parent)) return;
    }
    std::string_view shown = watch::reported_path(w, event_path);
    std::size_t len = shown.size() + w.token.size() + 2;
    if (len > wire::kPayloadMax) return;  // an event that cannot be sent is dropped
    if (c->out.events() >= cfg_.event_queue ||
        c->out.event_cost() + OutQueue::event_cost(len) > cfg_.event_queue_bytes) {
        log::limited(limiter_, 0x100000000ull | c->id(), log::Level::Warning,
                     "watch events for connection %llu dropped: %zu are waiting (%zu bytes)",
                     static_cast<unsigned long long>(c->id()), c->out.events(), c->out.event_cost());
        return;
    }
    // A guest's queued events count against its memory quota; one that
    // would go over it is dropped.
    if (!exempt(*c) && c->kind() == Connection::Kind::Ring) {
        std::uint32_t mem = limit(*c, quota::Item::Memory);
        if (mem && domains_.get(c->domid()).usage[quota::Item::Memory] + static_cast<std::int64_t>(wire::kHeaderSize + len) > mem)
            return;
    }
    event_buf_.assign(shown);
    event_buf_.push_back('\0');
    event_buf_.append(w.token);
    event_buf_.push_back('\0');
    Clock::time_point deadline{};
    if (!c->privileged() && cfg_.watch_event_timeout_s)
        deadline = loop_.now() + std::chrono::seconds(cfg_.watch_event_timeout_s);
    // An event caused by a guest's request counts as that guest's outstanding
    // work until it leaves the queue.
    DomId src = 0xFFFF;
    if (source && !source->privileged() && source->kind() == Connection::Kind::Ring) src = source->domid();
    if (!queue_event(*c, event_buf_, deadline, src)) return;  // identical event already waiting
    if (src != 0xFFFF) domains_.get(src).usage.add(quota::Item::Outstanding, 1);
    if (deadline != Clock::time_point{} && (next_deadline_ == Clock::time_point{} || deadline < next_deadline_))
        next_deadline_ = deadline;
    mark_dirty(*c);
}

// @introduceDomain / @releaseDomain: watches on the plain name without a
// depth get the plain name; watches on "<name>/<domid>", and watches on the
// name with a depth of at least 1, get "<name>/<domid>". Watchers need read
// access to the special node (or to "/", standing as its parent).
void Daemon::fire_special(std::string_view name, DomId domid) {
    fire_special_numbered(name, domid);
    fire_special_plain(name);
}

void Daemon::fire_special_plain(std::string_view name) {
    const store::Node* node = store_.tree().lookup(name);
    const store::PermList* root = store_.tree().root()->perms;
    watches_.match_exact(name, [&](const watch::Watch& w) {
        if (w.depth < 0) deliver(w, name, node ? node->perms : nullptr, nullptr, root, nullptr);
    });
}

void Daemon::fire_special_numbered(std::string_view name, DomId domid) {
    const store::Node* node = store_.tree().lookup(name);
    const store::PermList* root = store_.tree().root()->perms;
    std::string with_id(name);
    with_id.push_back('/');
    with_id.append(std::to_string(domid));
    watches_.match_subtree(with_id, [&](const watch::Watch& w) {
        if (w.path == name && w.depth < 0) return;
        deliver(w, with_id, node ? node->perms : nullptr, nullptr, root, nullptr);
    });
}

}  // namespace xs::daemon
