// Slots with generations: the loop's records for connections, listeners and
// watches. A slot is live, retired (closed, but the kernel may still hold an
// operation that points at its memory) or free. Retiring advances the
// generation, so tags issued before no longer match; only release() makes
// the slot reusable.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "daemon/loop/tag.hpp"

namespace xs::daemon::loop {

template <class T>
class SlotTable {
public:
    enum class State : std::uint8_t { free, live, retired };

    // Stores `value` in a free slot (or a new one) and returns its index.
    // References to other slots stay valid (std::deque never moves them).
    std::uint32_t add(T value) {
        std::uint32_t index;
        if (free_.empty()) {
            index = static_cast<std::uint32_t>(entries_.size());
            entries_.emplace_back();
        } else {
            index = free_.back();
            free_.pop_back();
        }
        Entry& e = entries_[index];
        e.value = std::move(value);
        e.state = State::live;
        ++live_;
        return index;
    }

    // The slot's value if it is live and `gen` is its current generation.
    T* find(std::uint32_t index, std::uint32_t gen) {
        if (index >= entries_.size()) return nullptr;
        Entry& e = entries_[index];
        return e.state == State::live && e.gen == (gen & kGenMask) ? &e.value : nullptr;
    }

    T& operator[](std::uint32_t index) { return entries_[index].value; }
    const T& operator[](std::uint32_t index) const { return entries_[index].value; }
    State state(std::uint32_t index) const { return entries_[index].state; }
    std::uint32_t gen(std::uint32_t index) const { return entries_[index].gen; }
    std::uint32_t size() const { return static_cast<std::uint32_t>(entries_.size()); }
    std::size_t live_count() const { return live_; }

    void retire(std::uint32_t index) {
        Entry& e = entries_[index];
        if (e.state != State::live) return;
        e.state = State::retired;
        e.gen = (e.gen + 1) & kGenMask;
        --live_;
    }

    void release(std::uint32_t index) {
        Entry& e = entries_[index];
        if (e.state != State::retired) return;
        e.value = T{};
        e.state = State::free;
        free_.push_back(index);
    }

private:
    struct Entry {
        T value{};
        std::uint32_t gen = 0;
        State state = State::free;
    };
    std::deque<Entry> entries_;
    std::vector<std::uint32_t> free_;
    std::size_t live_ = 0;
};

}  // namespace xs::daemon::loop
