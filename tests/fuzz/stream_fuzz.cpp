// libFuzzer target for the migration stream: the codec and the state layer
// above it (docs/fuzzing.md).
//
// The input is a stream. It is read record by record until END or an error,
// every field of every record touched; each record is written again with a
// Writer of the stream's version and byte order (the length layout picked
// by the input's size). Oracles: the sanitizers (no crash, no overread, no
// leak, no UB), the writer accepts every record the reader returned, and
// the rewritten stream reads back to equal records: what version 1 leaves
// out aside, and an unknown record's body gaining its padding when the
// length counts it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "migration/reader.hpp"
#include "migration/state.hpp"
#include "migration/writer.hpp"

using namespace xs::migration;

namespace {

[[noreturn]] void fail(const char* what, const Reader& r) {
    std::fprintf(stderr, "xstore-fuzz-stream: %s: %s\n", what, r.error("").describe().c_str());
    std::abort();
}

// Reads every byte of every field (the sanitizers check each read). Sums
// in unsigned 64 bits: a signed sum of fuzzed values could overflow.
struct Toucher {
    std::uint64_t sum = 0;
    template <class... V>
    void mix(V... v) {
        ((sum = sum * 31 + static_cast<std::uint64_t>(v)), ...);
    }
    void bytes(std::string_view s) {
        for (char c : s) mix(static_cast<unsigned char>(c));
    }
    template <class T>
    void all(std::span<const T> items) {
        for (const auto& i : items) (*this)(i);
    }
    void operator()(const xs::store::PermEntry& p) { mix(p.domid, p.access, p.ignore); }
    void operator()(const NamedValue& v) { bytes(v.name), mix(v.value); }
    void operator()(const NamedValue64& v) { bytes(v.name), mix(v.value); }
    void operator()(const XsConnection::OutInfo& o) { mix(o.reply, o.source); }
    void operator()(const XsTransaction::Delta& d) { mix(d.domid, d.nodes, d.bytes); }
    void operator()(const XsTransaction::Entry& e) {
        mix(static_cast<int>(e.op), e.need, e.kind, e.code, e.digest);
        bytes(e.path), bytes(e.value), all(e.perms);
    }
    void operator()(const GlobalData& r) { mix(r.socket_fd, r.evtchn_fd); }
    void operator()(const ConnectionData& r) {
        mix(r.conn_id, static_cast<int>(r.kind), r.domid, r.target, r.evtchn, r.fd, r.out_partial);
        bytes(r.in), bytes(r.out), mix(r.unique_id.value_or(0));
    }
    void operator()(const WatchData& r) { mix(r.conn_id, r.depth.value_or(0)), bytes(r.path), bytes(r.token); }
    void operator()(const TransactionData& r) { mix(r.conn_id, r.tx_id); }
    void operator()(const NodeData& r) { mix(r.conn_id, r.tx_id, r.access), bytes(r.path), bytes(r.value), all(r.perms); }
    void operator()(const GlobalQuotaData& r) { all(r.per_domain), all(r.global); }
    void operator()(const DomainData& r) { mix(r.domid, r.features), all(r.quotas); }
    void operator()(const XsGlobal& r) { all(r.values); }
    void operator()(const XsDomain& r) { mix(r.domid), all(r.values); }
    void operator()(const XsConnection& r) { mix(r.conn_id), all(r.values), bytes(r.more_in), all(r.out); }
    void operator()(const XsTransaction& r) {
        mix(r.conn_id, r.tx_id, r.failure, r.flags, r.digest_kind), all(r.entries), all(r.deltas);
    }
    void operator()(const UnknownRecord& r) { mix(r.type), bytes(r.body); }
};

volatile std::uint64_t g_sink;

// Records a version-1 writer leaves out on purpose.
bool dropped_in_v1(const Record& r) {
    if (std::holds_alternative<TransactionData>(r) || std::holds_alternative<XsTransaction>(r)) return true;
    const auto* n = std::get_if<NodeData>(&r);
    return n != nullptr && n->conn_id != 0;
}

// `again` is `first` written with `layout` and read back.
bool same(const Record& first, const Record& again, Layout layout) {
    const auto* a = std::get_if<UnknownRecord>(&first);
    const auto* b = std::get_if<UnknownRecord>(&again);
    if (a == nullptr || b == nullptr || layout == Layout::kDesign) return first == again;
    std::size_t padded = (a->body.size() + 7) / 8 * 8;
    return a->type == b->type && b->body.size() == padded && b->body.starts_with(a->body) &&
           b->body.find_first_not_of('\0', a->body.size()) == std::string_view::npos;
}

// Reads `in` to its end, touching everything; writes what it read into `w`.
// Returns how many records it returned.
std::size_t read_and_rewrite(Reader& r, Writer& w) {
    Toucher t;
    std::size_t n = 0;
    for (;; ++n) {
        auto rec = r.next();
        if (!rec) {
            t.bytes(rec.error().describe());
            break;
        }
        if (!*rec) break;
        std::visit(t, **rec);
        if (!w.add(**rec)) fail(("the writer refused a record the reader returned: " + w.error()).c_str(), r);
    }
    g_sink = t.sum;
    return n;
}

// Reads `in` and the rewritten stream side by side.
void compare(std::string_view in, std::string_view out, std::size_t n, Layout layout) {
    auto a = Reader::open(in);
    auto b = Reader::open(out);
    if (!a || !b) std::abort();
    if (a->version() != b->version() || a->big_endian() != b->big_endian()) fail("header changed", *b);
    for (std::size_t i = 0; i < n; ++i) {
        auto ra = a->next();
        if (!ra || !*ra) fail("the first read changed", *a);
        if (a->version() == kVersion1 && dropped_in_v1(**ra)) continue;
        auto rb = b->next();
        if (!rb || !*rb) fail("the rewritten stream ends early or is malformed", *b);
        if (!same(**ra, **rb, layout)) fail("a record read back differs", *b);
    }
    auto end = b->next();
    if (!end || *end) fail("the rewritten stream does not end where it should", *b);
}

// The state layer on the same input: decode() either refuses it or gives a
// state that encodes (a version-1 stream may carry more pending input than
// version 1 can: that refusal is allowed), and decoding and encoding again
// reaches a fixed point: the second and third streams are the same. (The
// first may differ from the second in the generation counter alone: a
// fuzzed stream can carry one below the number of nodes it loads.)
void check_state(std::string_view in, const Reader& header) {
    auto st = decode(in);
    if (!st) {
        g_sink = st.error().describe().size();
        return;
    }
    WriterOptions opts{header.version(), header.big_endian() ? ByteOrder::kBig : ByteOrder::kLittle};
    auto once = encode(*st, opts);
    if (!once) {
        if (header.version() == kVersion1 && once.error().find("version-1") != std::string::npos) return;
        std::fprintf(stderr, "xstore-fuzz-stream: a decoded state does not encode: %s\n", once.error().c_str());
        std::abort();
    }
    auto trip = [&](const std::string& stream) {
        auto back = decode(stream);
        if (!back) {
            std::fprintf(stderr, "xstore-fuzz-stream: an encoded state does not decode: %s\n",
                         back.error().describe().c_str());
            std::abort();
        }
        auto again = encode(*back, opts);
        if (!again) std::abort();
        return *again;
    };
    std::string twice = trip(*once);
    if (trip(twice) != twice) {
        std::fprintf(stderr, "xstore-fuzz-stream: a state's stream is not stable from its second trip\n");
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto r = Reader::open(in);
    if (!r) {
        g_sink = r.error().describe().size();
        return 0;
    }
    Layout layout = size % 2 ? Layout::kDesign : Layout::kLengthWithPadding;
    Writer w({r->version(), r->big_endian() ? ByteOrder::kBig : ByteOrder::kLittle, layout});
    std::size_t n = read_and_rewrite(*r, w);
    std::string out = w.finish();
    compare(in, out, n, layout);
    check_state(in, *r);
    return 0;
}
