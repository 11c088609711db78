// The bookkeeping both loop backends share: connection ids to slots, the
// connections to reconcile at the end of the turn, and the parts of the
// EventLoop interface that only touch that state. A backend derives from
// ConnBook<Self, Conn> (Conn: its per-connection record with at least id,
// fd, reading, hung_up, dirty, send_queued and out, plus send_busy()).
#pragma once

#include <sys/uio.h>

#include <cassert>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "daemon/loop/loop.hpp"
#include "daemon/loop/slot_table.hpp"

namespace xs::daemon::loop {

template <class Conn>
class ConnBook {
protected:
    Conn* find_conn(ConnId id) {
        auto it = ids_.find(id);
        return it == ids_.end() ? nullptr : &conns_[it->second];
    }

    void mark_dirty(std::uint32_t i) {
        Conn& c = conns_[i];
        if (c.dirty) return;
        c.dirty = true;
        dirty_.push_back(i);
    }

    // A new connection; its I/O is set up at the end of the turn.
    void book_socket(ConnId id, int fd) {
        assert(id != 0 && !ids_.contains(id));
        Conn c;
        c.id = id;
        c.fd = fd;
        std::uint32_t i = conns_.add(std::move(c));
        ids_.emplace(id, i);
        mark_dirty(i);
    }

    void book_reading(ConnId id, bool enabled) {
        auto it = ids_.find(id);
        if (it == ids_.end() || conns_[it->second].reading == enabled) return;
        conns_[it->second].reading = enabled;
        mark_dirty(it->second);
    }

    void book_send(ConnId id, std::span<const iovec> iov) {
        auto it = ids_.find(id);
        if (it == ids_.end()) return;
        Conn& c = conns_[it->second];
        if (c.hung_up) return;  // no callbacks after on_hangup, so nothing to report
        assert(!c.send_queued && !c.send_busy());
        c.out.assign(iov);
        c.send_queued = true;
        mark_dirty(it->second);
    }

    SlotTable<Conn> conns_;
    std::unordered_map<ConnId, std::uint32_t> ids_;
    std::vector<std::uint32_t> dirty_;  // connections to reconcile at the end of the turn
};

}  // namespace xs::daemon::loop
