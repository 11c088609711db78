#include "tests/fuzz/script.hpp"

#include "transport/wire.hpp"

namespace xs::fuzz {

std::uint32_t Script::word() {
    std::uint32_t w = 0;
    for (int i = 0; i < 4; ++i) w |= static_cast<std::uint32_t>(byte()) << (8 * i);
    return w;
}

std::string_view Script::bytes(std::size_t n) {
    std::size_t take = n < size_ - pos_ ? n : size_ - pos_;
    std::string_view out(reinterpret_cast<const char*>(data_ + pos_), take);
    pos_ += take;
    return out;
}

// Mostly the protocol's types (and the holes in it), now and then any value.
std::uint32_t Script::type() {
    std::uint8_t b = byte();
    return b < 0xf0 ? b % (wire::kTypeCount + 1) : word();
}

std::uint32_t Script::tx_id(std::uint32_t live_tx) {
    std::uint8_t b = byte();
    switch (b & 3) {
        case 0: return 0;
        case 1: return live_tx;
        case 2: return b >> 2;
        default: return word();
    }
}

// Short payloads mostly; sizes up to the protocol's bound in 128-byte steps.
std::size_t Script::payload_size() {
    std::uint8_t b = byte();
    return b < 0xe0 ? b : static_cast<std::size_t>(b - 0xe0 + 1) * 128;
}

std::string Script::message(std::uint32_t live_tx) {
    wire::Header h{};
    h.type = type();
    h.req_id = byte();
    h.tx_id = tx_id(live_tx);
    std::string payload(bytes(payload_size()));
    std::uint8_t len_choice = byte();
    h.len = len_choice < 0xf8 ? static_cast<std::uint32_t>(payload.size()) : word();
    std::string out(reinterpret_cast<const char*>(&h), sizeof h);
    return out + payload;
}

}  // namespace xs::fuzz
