// libFuzzer target: live update must carry the whole state. A fuzzed
// script drives four dom0 socket clients against a daemon; at steps the
// script chooses, the newest daemon writes its migration stream (version 2,
// either byte order and length layout), a fresh daemon is restored from it,
// and the canonical dumps of the daemon that never updated and of the
// restored one are compared (every node with its permissions and value,
// watches, transactions with their logs and views, every queued message,
// quota values and usage). The rest of the script then runs on both, and
// every byte each client receives, the dumps after every step, the
// sockets' flow control and closes must stay the same. docs/fuzzing.md
// explains it.
//
// Guests are left out: the two daemons would share their ring pages and
// event channels on the one fake host (a live update hands them over, it
// does not copy them); the stream target covers ring connections' records.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"
#include "migration/state.hpp"
#include "tests/fuzz/fake_loop.hpp"
#include "tests/fuzz/script.hpp"
#include "tests/fuzz/small_quotas.hpp"
#include "tests/fuzz/streams.hpp"
#include "transport/wire.hpp"

namespace xs::fuzz {
namespace {

constexpr int kClients = 4;
// Sockets get fds no process has open (a restore sets FD_CLOEXEC on them).
constexpr int kFdBase = 1 << 22;
constexpr int kMaxRounds = 64;  // turns to let output drain at the end

int report_fd = 2;

[[noreturn]] void fail(const std::string& why) {
    std::string line = "update_fuzz: " + why + "\n";
    (void)!::write(report_fd, line.data(), line.size());
    std::abort();
}

// Small bounds, so that flow control and queues are reached (the clients
// are privileged: quotas do not limit them, but usage is counted).
daemon::Config fuzz_config() {
    daemon::Config cfg;
    cfg.rundir = "/nonexistent";
    cfg.socket_queue_bytes = 16 * 1024;
    cfg.event_queue = 64;
    cfg.event_queue_bytes = 64 * 1024;
    cfg.write_rate = 0;
    // A continued transaction counts what its snapshot pins afresh in the
    // new process: the two daemons would rebase it at different times, and
    // its reads could then see different data (both allowed).
    cfg.transaction_pin = 0;
    xs::fuzz::set_small_quotas(cfg);
    return cfg;
}

// One daemon with its loop; `ids` are the clients' connections in it.
struct Side {
    explicit Side(const daemon::Config& cfg) : daemon(cfg, loop) {}
    FakeLoop loop;
    daemon::Daemon daemon;
    daemon::ConnId ids[kClients]{};
};

class Driver {
public:
    Driver() : cfg_(fuzz_config()) {
        sides_[0] = std::make_unique<Side>(cfg_);
        for (int k = 0; k < kClients; ++k) connect(k);
    }

    void run(Script& s) {
        while (!s.done()) {
            step(s);
            compare("after a step");
        }
        finish();
    }

private:
    struct Client {
        int fd = -1;
        InputGuard guard{true};
        OutputCheck check;
        std::string backlog;   // input not taken yet (the kernel would hold it)
        bool stalled = false;  // not reading its replies
    };

    // The sides in use: the daemon that never updated, then (after the
    // first update) the one restored last.
    int count() const { return sides_[1] ? 2 : 1; }
    Side& side(int i) { return *sides_[i]; }

    void connect(int k) {
        Client& c = clients_[k];
        c = Client{};
        c.fd = next_fd_++;
        for (int i = 0; i < count(); ++i) {
            side(i).ids[k] = side(i).daemon.on_accept(-1, c.fd);
            if (side(i).ids[k] == 0) fail("connection refused");
        }
    }

    void step(Script& s) {
        std::uint8_t op = s.byte();
        int k = op & 3;
        if (op >= 0xe0) {  // the actions beyond the daemon target's eight
            switch ((op >> 2) % 4) {
                case 0: deliver(k, s.control(true)); break;
                case 1: update(s); break;
                case 2: {
                    auto by = std::chrono::milliseconds(100) * (s.byte() + 1);
                    for (int i = 0; i < count(); ++i) side(i).loop.advance(by);
                    break;
                }
                default: turn(); break;
            }
        } else {
            switch ((op >> 2) % 8) {
                case 0:
                case 1:
                case 2: deliver(k, s.message(clients_[k].check.last_tx())); break;
                case 3: deliver(k, s.bytes(s.byte() % 64)); break;
                case 4: turn(); break;
                case 5: clients_[k].stalled = !clients_[k].stalled; break;
                case 6: hang_up(k); break;
                default: complete(k, s.byte()); break;
            }
        }
        for (int j = 0; j < kClients; ++j) {
            bool closed = side(0).loop.closed(side(0).ids[j]);
            for (int i = 1; i < count(); ++i)
                if (side(i).loop.closed(side(i).ids[j]) != closed) fail("client " + std::to_string(j) + " closed on one side only");
            if (closed) connect(j);  // the daemon dropped it: a new client
        }
    }

    void deliver(int k, std::string_view bytes) {
        Client& c = clients_[k];
        c.backlog += c.guard.pass(bytes);
        if (c.backlog.empty()) return;
        bool reading = side(0).loop.reading(side(0).ids[k]);
        for (int i = 1; i < count(); ++i)
            if (side(i).loop.reading(side(i).ids[k]) != reading) fail("flow control differs on client " + std::to_string(k));
        if (!reading) return;
        std::string now;
        now.swap(c.backlog);
        for (int i = 0; i < count(); ++i) side(i).daemon.on_receive(side(i).ids[k], now);
    }

    void hang_up(int k) {
        for (int i = 0; i < count(); ++i) {
            side(i).daemon.on_hangup(side(i).ids[k]);
            side(i).daemon.on_turn_end();
        }
        connect(k);
    }

    // Take client k's send in flight on every side (all of it, or part):
    // the sends must be the same bytes.
    void complete(int k, std::uint8_t selector) {
        FakeLoop::Send first;
        bool have = side(0).loop.take_send(side(0).ids[k], first);
        std::string bytes = have ? first.head(first.bytes) : std::string();
        std::size_t n = selector == 0 || first.bytes == 0 ? first.bytes : 1 + selector % first.bytes;
        for (int i = 1; i < count(); ++i) {
            FakeLoop::Send s;
            bool other = side(i).loop.take_send(side(i).ids[k], s);
            if (other != have || (have && s.head(s.bytes) != bytes))
                fail("client " + std::to_string(k) + ": the restored daemon sends other bytes");
        }
        if (!have) return;
        std::string why;
        if (!clients_[k].check.take(bytes.substr(0, n), why)) fail(why);
        for (int i = 0; i < count(); ++i) side(i).daemon.on_sent(side(i).ids[k], n);
    }

    void turn() {
        for (int i = 0; i < count(); ++i) side(i).daemon.on_turn_end();
        for (int k = 0; k < kClients; ++k) {
            if (!clients_[k].stalled) complete(k, 0);
            deliver(k, {});
        }
    }

    // The live update: sends in flight complete (the old process waits for
    // them), the newest daemon writes its stream, a fresh one restores it,
    // and both must hold the same state.
    void update(Script& s) {
        for (int k = 0; k < kClients; ++k) complete(k, 0);
        std::uint8_t how = s.byte();
        migration::WriterOptions opts;
        opts.order = how & 1 ? migration::ByteOrder::kBig : migration::ByteOrder::kLittle;
        opts.layout = how & 2 ? migration::Layout::kDesign : migration::Layout::kLengthWithPadding;
        Side& old = side(count() - 1);
        auto stream = migration::encode(old.daemon.export_state(migration::kVersion2), opts);
        if (!stream) fail("the daemon's state cannot be written: " + stream.error());
        auto state = migration::decode(*stream);
        if (!state) fail("the daemon's stream does not read back");
        auto fresh = std::make_unique<Side>(cfg_);
        fresh->loop.advance(old.loop.now() - fresh->loop.now());  // the steady clock goes on across the exec
        fresh->daemon.restore(std::move(*state));
        for (int k = 0; k < kClients; ++k) {
            fresh->ids[k] = fresh->loop.socket(clients_[k].fd);
            if (fresh->ids[k] == 0) fail("client " + std::to_string(k) + "'s connection was not restored");
        }
        sides_[1] = std::move(fresh);
        compare("after a live update");
        turn();
    }

    void compare(const char* when) {
        if (count() < 2) return;
        std::string a = side(0).daemon.dump_state(), b = side(1).daemon.dump_state();
        if (a == b) return;
        std::size_t at = 0;
        while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
        std::size_t from = a.rfind('\n', at);
        from = from == std::string::npos ? 0 : from + 1;
        fail(std::string("states differ ") + when + " at:\n  updated:   " + b.substr(from, b.find('\n', at) - from) +
             "\n  never updated: " + a.substr(from, a.find('\n', at) - from));
    }

    // Everybody reads again; output must drain on both, and the states
    // (compared after every step) stay the same.
    void finish() {
        for (Client& c : clients_) c.stalled = false;
        for (int i = 0; i < kMaxRounds && side(0).loop.any_send(); ++i) {
            turn();
            compare("while draining");
        }
        for (int i = 0; i < count(); ++i)
            if (side(i).loop.any_send()) fail("output did not drain");
    }

    daemon::Config cfg_;
    std::unique_ptr<Side> sides_[2];
    Client clients_[kClients];
    int next_fd_ = kFdBase;
};

}  // namespace
}  // namespace xs::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    xs::fuzz::report_fd = ::dup(2);  // before libFuzzer applies -close_fd_mask
    xs::log::init(xs::log::Sink::Stderr, xs::log::Level::Error);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    xs::fuzz::Script script(data, size);
    xs::fuzz::Driver driver;
    driver.run(script);
    return 0;
}
