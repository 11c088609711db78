#include "tests/fuzz/script.hpp"

#include "quota/items.hpp"
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

std::string Script::control(bool state_only) {
    using namespace std::string_literals;
    std::string name(quota::name(quota::kItems[byte() % quota::kItemCount]));
    std::string value = std::to_string(byte() % 40);
    std::string domid = std::to_string(byte() % 4);
    // The first `kStateful` commands are the ones a live update must not change.
    constexpr std::size_t kStateful = 12;
    const std::string commands[] = {
        "check"s,
        "help"s,
        "print\0"s + std::string(bytes(byte() % 16)),
        "quota"s,
        "quota\0"s + domid,
        "quota\0max"s,
        "quota\0max\0-r"s,
        "quota\0set\0"s + name + "\0"s + value,
        "quota-soft"s,
        "quota-soft\0set\0"s + name + "\0"s + value,
        "quota\0set\0memory\0"s + std::to_string(byte() * 64u),
        "live-update\0-a"s,
        // Process figures and settings, not state.
        "stats"s,
        "stats\0-j"s,
        "memreport"s,
        "live-update-stream"s,
        "live-update-stream\0"s + (byte() & 1 ? "1" : "2"),
        // A session whose exec can never happen: the state file cannot be
        // written (the fuzzers' run directory does not exist), and the
        // "binary" is a directory. Version 1 waits for transactions (their
        // age against -t, on the fake loop's clock).
        "live-update\0-f\0/"s,
        "live-update\0-s"s,
        "live-update\0-s\0-v\0001\0-t\0"s + value,
        "live-update\0-s\0-F\0-v\0001\0-t\0"s + value,
    };
    constexpr std::size_t kCount = sizeof commands / sizeof commands[0];
    std::size_t pick = byte() % (state_only ? kStateful : kCount);
    std::string payload = commands[pick];
    payload.push_back('\0');
    std::string out;
    wire::append_message(out, wire::Header{wire::kControl, byte(), 0, 0}, payload);
    return out;
}

}  // namespace xs::fuzz
