// Where a Writer puts a stream: a string it owns and grows, or memory the
// caller lends (a live update's mapping of the state file, so the stream
// is never copied), which cannot grow. Pure code.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <utility>

namespace xs::migration {

class OutBuffer {
public:
    // An owned string; its content is dropped, its capacity kept.
    explicit OutBuffer(std::string s = {}) : str_(std::move(s)) { str_.clear(); }
    // Lent memory: at most room.size() bytes.
    explicit OutBuffer(std::span<char> room) : room_(room), lent_(true) {}

    bool lent() const { return lent_; }
    std::size_t size() const { return lent_ ? used_ : str_.size(); }
    void reserve(std::size_t bytes) {
        if (!lent_) str_.reserve(bytes);
    }
    // `n` more bytes at the end, for the caller to write every one of, or
    // nullptr when lent memory has no room for them.
    char* extend(std::size_t n) {
        if (lent_) {
            if (n > room_.size() - used_) return nullptr;
            used_ += n;
            return room_.data() + used_ - n;
        }
        std::size_t at = str_.size();
        // The size is ours, not the callback's second argument: libstdc++
        // 12 passes the grown capacity there when it reallocates.
        str_.resize_and_overwrite(at + n, [&](char*, std::size_t) { return at + n; });
        return str_.data() + at;
    }
    // The owned string (empty when lent); the buffer is empty afterwards.
    std::string take() {
        used_ = 0;
        return std::exchange(str_, {});
    }

private:
    std::string str_;
    std::span<char> room_;
    std::size_t used_ = 0;
    bool lent_ = false;
};

}  // namespace xs::migration
