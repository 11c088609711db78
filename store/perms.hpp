// Node permissions: an owner entry plus an ACL, shared between nodes.
//
// A permission list is immutable and reference counted: a new node inherits
// its parent's list by pointer, so most nodes of a tree share a handful of
// lists. Only SET_PERMS (and an unprivileged creator becoming the owner)
// allocates a new one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/domid.hpp"
#include "base/result.hpp"

namespace xs::store {

// Access bits. Read and Write are what entries grant; Owner is computed.
inline constexpr std::uint8_t kAccessNone = 0;
inline constexpr std::uint8_t kAccessRead = 1;
inline constexpr std::uint8_t kAccessWrite = 2;
inline constexpr std::uint8_t kAccessBoth = kAccessRead | kAccessWrite;
inline constexpr std::uint8_t kAccessOwner = 8;
inline constexpr std::uint8_t kAccessAll = kAccessBoth | kAccessOwner;

struct PermEntry {
    DomId domid = 0;
    std::uint8_t access = kAccessNone;  // kAccessRead / kAccessWrite bits
    bool ignore = false;  // granted to a domid that did not exist then: inactive
    friend bool operator==(const PermEntry&, const PermEntry&) = default;
};

// Who is asking. A privileged caller (dom0, sockets) has every right.
struct Caller {
    DomId domid = 0;
    bool privileged = true;
    std::optional<DomId> target;  // SET_TARGET: acts with this domain's rights too
};

class PermList {
public:
    static PermList* make(std::span<const PermEntry> entries);  // refs == 1
    std::span<const PermEntry> entries() const { return {entries_, count_}; }
    const PermEntry& owner() const { return entries_[0]; }
    std::size_t size() const { return count_; }
    bool same_as(std::span<const PermEntry> other) const;
    // Whether any entry (the owner or another) is `dom`.
    bool names(DomId dom) const {
        for (const PermEntry& e : entries())
            if (e.domid == dom) return true;
        return false;
    }

    std::uint32_t refs = 1;

private:
    PermList() = default;
    std::uint16_t count_ = 0;
    PermEntry entries_[];
};

void retain(PermList* p);
void release(PermList* p);

// Owning handle.
class PermRef {
public:
    PermRef() = default;
    explicit PermRef(PermList* adopt) : p_(adopt) {}
    static PermRef share(PermList* p) { retain(p); return PermRef(p); }
    PermRef(const PermRef& o) : p_(o.p_) { if (p_) retain(p_); }
    PermRef(PermRef&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    PermRef& operator=(PermRef o) noexcept { std::swap(p_, o.p_); return *this; }
    ~PermRef() { if (p_) release(p_); }
    PermList* get() const { return p_; }
    PermList* operator->() const { return p_; }
    const PermList& operator*() const { return *p_; }
    explicit operator bool() const { return p_ != nullptr; }
    PermList* detach() { PermList* p = p_; p_ = nullptr; return p; }

private:
    PermList* p_ = nullptr;
};

PermRef make_perms(std::span<const PermEntry> entries);
inline PermRef make_perms(std::initializer_list<PermEntry> entries) {
    return make_perms(std::span<const PermEntry>(entries.begin(), entries.size()));
}

// Rights of `caller` on a node with these permissions (kAccess* bits).
std::uint8_t access_for(const Caller& caller, const PermList& perms);

// "r5" / "w0" / "b7" / "n32757" <-> entries. Domids are decimal (or 0x-hex)
// in 0..65535; anything else is EINVAL.
Result<PermEntry> parse_perm(std::string_view text);
void append_perm(std::string& out, const PermEntry& e);  // appends "r5" (no NUL)

}  // namespace xs::store
