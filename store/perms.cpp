#include "store/perms.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

namespace xs::store {

PermList* PermList::make(std::span<const PermEntry> entries) {
    void* mem = std::malloc(sizeof(PermList) + entries.size() * sizeof(PermEntry));
    if (!mem) throw std::bad_alloc();
    auto* p = new (mem) PermList();
    p->count_ = static_cast<std::uint16_t>(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) new (&p->entries_[i]) PermEntry(entries[i]);
    return p;
}

bool PermList::same_as(std::span<const PermEntry> other) const {
    if (other.size() != count_) return false;
    for (std::size_t i = 0; i < count_; ++i)
        if (!(entries_[i] == other[i])) return false;
    return true;
}

void retain(PermList* p) { ++p->refs; }

void release(PermList* p) {
    if (--p->refs == 0) {
        p->~PermList();
        std::free(p);
    }
}

PermRef make_perms(std::span<const PermEntry> entries) { return PermRef(PermList::make(entries)); }

namespace {

bool matches(const Caller& c, DomId domid) {
    return domid == c.domid || (c.target && domid == *c.target) || domid == kDomidAny;
}

}  // namespace

std::uint8_t access_for(const Caller& caller, const PermList& perms) {
    if (caller.privileged) return kAccessAll;
    auto entries = perms.entries();
    if (matches(caller, entries[0].domid)) return kAccessAll;
    for (std::size_t i = 1; i < entries.size(); ++i) {
        const PermEntry& e = entries[i];
        if (!e.ignore && matches(caller, e.domid)) return e.access & kAccessBoth;
    }
    return entries[0].access & kAccessBoth;
}

Result<PermEntry> parse_perm(std::string_view text) {
    if (text.size() < 2) return fail(EINVAL);
    PermEntry e;
    switch (text[0]) {
        case 'r': e.access = kAccessRead; break;
        case 'w': e.access = kAccessWrite; break;
        case 'b': e.access = kAccessBoth; break;
        case 'n': e.access = kAccessNone; break;
        default: return fail(EINVAL);
    }
    // The bases strtol(..., 0) knows, as upstream reads entries: 0x-hex,
    // 0-octal ("r010" is domain 8), decimal. Signs, spaces and values
    // above 65535 are EINVAL.
    std::string_view num = text.substr(1);
    unsigned base = 10;
    if (num.size() > 2 && num[0] == '0' && (num[1] == 'x' || num[1] == 'X')) {
        base = 16;
        num.remove_prefix(2);
    } else if (num.size() > 1 && num[0] == '0') {
        base = 8;
    }
    unsigned long v = 0;
    for (char ch : num) {
        unsigned d;
        if (ch >= '0' && ch <= '9' && static_cast<unsigned>(ch - '0') < base) d = static_cast<unsigned>(ch - '0');
        else if (base == 16 && ch >= 'a' && ch <= 'f') d = static_cast<unsigned>(ch - 'a' + 10);
        else if (base == 16 && ch >= 'A' && ch <= 'F') d = static_cast<unsigned>(ch - 'A' + 10);
        else return fail(EINVAL);
        v = v * base + d;
        if (v > 0xFFFF) return fail(EINVAL);
    }
    e.domid = static_cast<DomId>(v);
    return e;
}

void append_perm(std::string& out, const PermEntry& e) {
    static constexpr char kLetters[4] = {'n', 'r', 'w', 'b'};
    out.push_back(kLetters[e.access & kAccessBoth]);
    char buf[8];
    int n = 0;
    unsigned v = e.domid;
    do {
        buf[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) out.push_back(buf[--n]);
}

}  // namespace xs::store
