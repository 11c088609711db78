#include "store/path.hpp"

#include <algorithm>
#include <array>
#include <cerrno>

namespace xs::store {

namespace {

constexpr std::array<bool, 256> make_valid_table() {
    std::array<bool, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    t['-'] = t['/'] = t['_'] = t['@'] = true;
    return t;
}
constexpr auto kValid = make_valid_table();

// Non-empty, only valid characters, no empty name ("//") and no trailing
// "/" except for "/" itself, in one pass: every request that names a path
// runs this, and separate scans (validity, then a search for "//") cost a
// library call each. A relative path is joined to its home with one "/"
// and never starts with "/", so a "//" or a trailing "/" in the result
// can only come from `raw`.
bool well_formed(std::string_view raw) {
    if (raw.empty()) return false;
    unsigned char prev = 0;
    for (unsigned char c : raw) {
        if (!kValid[c] || (c == '/' && prev == '/')) return false;
        prev = c;
    }
    return raw.size() == 1 || prev != '/';
}

void append_decimal(std::string& out, unsigned v) {
    char buf[12];
    int n = 0;
    do {
        buf[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) out.push_back(buf[--n]);
}

}  // namespace

bool is_special(std::string_view canon) { return !canon.empty() && canon[0] == '@'; }

bool is_canonical_absolute(std::string_view p, std::size_t max_name) {
    if (p.empty() || p[0] != '/') return false;
    std::size_t name = 0;
    for (std::size_t i = 1; i < p.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(p[i]);
        if (c == '/') {
            if (name == 0) return false;
            name = 0;
        } else if (!kValid[c] || ++name > max_name) {
            return false;
        }
    }
    return p.size() == 1 || name > 0;
}

bool is_valid_name(std::string_view name, std::size_t max_name) {
    if (name.empty() || name.size() > max_name) return false;
    for (unsigned char c : name)
        if (c == '/' || !kValid[c]) return false;
    return true;
}

bool is_relative(std::string_view raw) { return raw.empty() || (raw[0] != '/' && raw[0] != '@'); }

std::size_t local_prefix_len(std::string_view p) {
    constexpr std::string_view kPrefix = "/local/domain/";
    if (p.substr(0, kPrefix.size()) != kPrefix) return 0;
    std::size_t i = kPrefix.size();
    std::size_t digits = 0;
    while (i < p.size() && p[i] >= '0' && p[i] <= '9' && digits < 6) {
        ++i;
        ++digits;
    }
    if (digits == 0 || digits > 5 || i >= p.size() || p[i] != '/') return 0;
    return i + 1;
}

std::string home_path(DomId domid) {
    std::string s = "/local/domain/";
    append_decimal(s, domid);
    return s;
}

Result<> canonicalize(std::string& out, std::string_view raw, const PathRules& rules) {
    if (!well_formed(raw)) return fail(EINVAL);
    if (raw[0] == '@' && !rules.allow_special) return fail(EINVAL);
    out.clear();
    if (is_relative(raw)) {  // appended in place: no temporary string per request
        out.append("/local/domain/");
        append_decimal(out, rules.home);
        out.push_back('/');
    }
    out.append(raw);
    if (rules.path_max != 0) {
        std::size_t len = out.size() - local_prefix_len(out);
        if (len > rules.path_max) return fail(EINVAL);  // a quota of N allows exactly N
    }
    return {};
}

std::string_view parent_of(std::string_view canon) {
    std::size_t slash = canon.rfind('/');
    if (slash == std::string_view::npos) return canon;  // "@name": its own root
    if (slash == 0) return "/";
    return canon.substr(0, slash);
}

std::string_view basename_of(std::string_view canon) {
    std::size_t slash = canon.rfind('/');
    if (slash == std::string_view::npos) return canon;
    return canon.substr(slash + 1);
}

namespace {

// Tree paths first, then the special names in for_each_node's order.
int walk_rank(std::string_view p) {
    if (!is_special(p)) return 0;
    return p.starts_with("@releaseDomain") ? 1 : 2;
}

}  // namespace

// Names never hold '/' or NUL, so comparing bytes with '/' lowest of all
// compares name by name: "/a/b" (a child of "/a") before "/a-b".
bool walk_order(std::string_view a, std::string_view b) {
    int ra = walk_rank(a), rb = walk_rank(b);
    if (ra != rb) return ra < rb;
    std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        auto ca = static_cast<unsigned char>(a[i] == '/' ? 0 : a[i]);
        auto cb = static_cast<unsigned char>(b[i] == '/' ? 0 : b[i]);
        if (ca != cb) return ca < cb;
    }
    return a.size() < b.size();
}

bool within(std::string_view path, std::string_view top) {
    if (!path.starts_with(top)) return false;
    if (path.size() == top.size()) return true;
    if (is_special(top)) return false;
    return top == "/" ? !is_special(path) : path[top.size()] == '/';
}

}  // namespace xs::store
