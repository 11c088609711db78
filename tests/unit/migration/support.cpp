#include "support.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace xs::migration::test {

std::string unhex(std::string_view hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    int high = -1;
    for (char c : hex) {
        int n = nibble(c);
        if (n < 0) continue;
        if (high < 0) {
            high = n;
        } else {
            out += static_cast<char>(high * 16 + n);
            high = -1;
        }
    }
    if (high >= 0) throw std::invalid_argument("odd number of hex digits");
    return out;
}

std::string hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0 && i % 8 == 0) s += ' ';
        auto b = static_cast<unsigned char>(bytes[i]);
        s += kDigits[b >> 4];
        s += kDigits[b & 0xF];
    }
    return s;
}

Bytes& Bytes::put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
        int shift = big_ ? 8 * (n - 1 - i) : 8 * i;
        s_ += static_cast<char>((v >> shift) & 0xFF);
    }
    return *this;
}

std::string stream_header(std::uint32_t version, bool big, std::uint32_t flags_extra) {
    return Bytes(true).raw("xenstore").u32(version).u32((big ? 1u : 0u) | flags_extra).bytes();
}

std::string record(std::uint32_t type, std::string_view body, bool big, bool length_with_padding) {
    std::size_t padded = (body.size() + 7) / 8 * 8;
    Bytes b(big);
    b.u32(type).u32(static_cast<std::uint32_t>(length_with_padding ? padded : body.size())).raw(body);
    return b.zeros(padded - body.size()).bytes();
}

std::string end_record(bool big) { return Bytes(big).u32(0).u32(0).bytes(); }

std::string stream_error(std::string_view stream) {
    auto e = for_each_record(stream, [](const Record&, const Reader&) {});
    return e ? e->describe() : std::string();
}

std::string write_stream(WriterOptions opts, std::span<const Record> records) {
    Writer w(opts);
    for (const auto& r : records) w.add(r);
    return w.finish();
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

void write_file(const std::string& path, std::string_view bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace xs::migration::test
