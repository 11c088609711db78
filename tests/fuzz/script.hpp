// Reads the fuzzer's input as a script: single bytes for choices, runs of
// bytes for payloads, and whole xenstore messages built from both. Reading
// past the end gives zeros, so every input is a valid script.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace xs::fuzz {

class Script {
public:
    Script(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    bool done() const { return pos_ >= size_; }
    std::uint8_t byte() { return done() ? 0 : data_[pos_++]; }
    std::uint32_t word();               // four bytes, little-endian
    std::string_view bytes(std::size_t n);  // up to n bytes (fewer at the end)

    // One message: a header (type, request id, transaction id, length) and
    // payload, each chosen by the next bytes. The transaction id is often
    // `live_tx` (the client's last started transaction) so that requests
    // inside transactions are reached; the length usually matches the
    // payload, sometimes not.
    std::string message(std::uint32_t live_tx);
    // A well-formed CONTROL command (check, help, print, quota, quota-soft,
    // stats, memreport, live-update without an exec, live-update-stream)
    // with arguments chosen by the next bytes. `state_only`: only commands
    // whose reply follows from the store's state (no statistics, memory
    // figures or settings a live update does not carry).
    std::string control(bool state_only);

private:
    std::uint32_t type();
    std::uint32_t tx_id(std::uint32_t live_tx);
    std::size_t payload_size();

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

}  // namespace xs::fuzz
