#include "bench/mix_driver.hpp"

#include <charconv>

namespace xs::bench {

namespace {

constexpr std::uint64_t kWriteBit = std::uint64_t{1} << 63;

}  // namespace

MixDriver::MixDriver(MixSpec spec, std::size_t conns, Meter& meter) : spec_(std::move(spec)), meter_(meter) {
    paths_.resize(conns);
    gens_.resize(conns);
    for (std::size_t c = 0; c < conns; ++c) {
        for (std::uint64_t k = 0; k < spec_.keys; ++k) {
            paths_[c].push_back(key_path(spec_.root, c, k));
            paths_[c].back().push_back('\0');
        }
        gens_[c].assign(spec_.keys, 0);
    }
}

std::string MixDriver::key_path(const std::string& root, std::size_t conn, std::uint64_t key) {
    return root + "/c" + std::to_string(conn) + "/k" + std::to_string(key);
}

void MixDriver::value_of(std::uint64_t gen, std::size_t size, std::string& out) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, gen);
    out.assign(1, 'v');
    out.append(buf, r.ptr);
    if (out.size() < size) out.append(size - out.size(), 'x');
}

std::uint64_t MixDriver::random() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
}

void MixDriver::begin_measuring(Engine& e) {
    measuring_ = true;
    meter_.start();
    t0_ = e.refresh_now();
}

void MixDriver::start(Engine& e) {
    if (spec_.warmup == 0) begin_measuring(e);
    for (auto& c : e.conns()) pump(e, *c);
}

void MixDriver::pump(Engine& e, Conn& c) {
    auto ci = static_cast<std::size_t>(c.index());
    while (c.can_send() && sent_ < spec_.warmup + spec_.ops) {
        std::uint64_t r = random();
        auto key = static_cast<std::uint32_t>((r >> 8) % spec_.keys);
        const std::string& path = paths_[ci][key];
        if (r % 100 < spec_.write_pct) {
            std::uint32_t gen = ++gens_[ci][key];
            value_of(gen, spec_.value_size, scratch_);
            e.send(c, wire::kWrite, 0, {path, scratch_}, kWriteBit | (std::uint64_t{key} << 32) | gen);
        } else {
            e.send(c, wire::kRead, 0, {path}, (std::uint64_t{key} << 32) | gens_[ci][key]);
        }
        ++sent_;
    }
}

void MixDriver::on_reply(Engine& e, Conn& c, const Reply& r) {
    bool write = r.tag & kWriteBit;
    if (r.is_error()) {
        auto key = static_cast<std::uint32_t>((r.tag & ~kWriteBit) >> 32);
        e.fail(std::string(write ? "WRITE " : "READ ") + key_path(spec_.root, static_cast<std::size_t>(c.index()), key) +
               ": " + std::string(r.error()));
        return;
    }
    if (!write && spec_.check) {
        value_of(static_cast<std::uint32_t>(r.tag), spec_.value_size, scratch_);
        if (r.payload != scratch_) {
            e.fail("READ returned '" + std::string(r.payload.substr(0, 64)) + "', expected '" + scratch_ + "'");
            return;
        }
    }
    if (measuring_) latency_.record(r.latency_ns);
    if (++done_ == spec_.warmup && !measuring_) begin_measuring(e);
    if (finished()) t1_ = e.now();
}

}  // namespace xs::bench
