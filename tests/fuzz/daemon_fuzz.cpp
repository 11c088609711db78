// libFuzzer target: the production daemon core (dispatch, store,
// transactions, watches, accounting, flow control) driven by a fuzzed script
// of three socket clients: messages with fuzzed headers and payloads, raw
// bytes, hangups, clients that stop reading, partial sends. The oracles:
// no crash or sanitizer report, the event-loop contract kept, every reply
// well formed, and CONTROL check finding the store and accounts consistent
// at the end. docs/fuzzing.md explains how to run it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"
#include "tests/fuzz/fake_loop.hpp"
#include "tests/fuzz/script.hpp"
#include "tests/fuzz/streams.hpp"
#include "transport/wire.hpp"

namespace xs::fuzz {
namespace {

constexpr int kClients = 3;
constexpr int kMaxRounds = 64;  // turns to let output drain at the end

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "daemon_fuzz: %s\n", why.c_str());
    std::abort();
}

// Small bounds, so that flow control and event dropping are reached.
daemon::Config fuzz_config() {
    daemon::Config cfg;
    cfg.rundir = "/nonexistent";
    cfg.socket_queue_bytes = 64 * 1024;
    cfg.event_queue = 64;
    return cfg;
}

class Driver {
public:
    Driver() : cfg_(fuzz_config()), daemon_(cfg_, loop_) {
        for (Client& c : clients_) connect(c);
    }

    void run(Script& s) {
        while (!s.done()) step(s);
        finish();
    }

private:
    struct Client {
        daemon::ConnId id = 0;
        InputGuard guard;
        OutputCheck check;
        std::string backlog;   // input the daemon is not reading yet (the kernel would hold it)
        bool stalled = false;  // not reading its replies
    };

    void connect(Client& c) {
        c = Client{};
        c.id = daemon_.on_accept(-1, -1);
        if (c.id == 0) fail("connection refused");
    }

    void step(Script& s) {
        std::uint8_t op = s.byte();
        Client& c = clients_[(op & 3) % kClients];
        switch ((op >> 2) % 8) {
            case 0:
            case 1:
            case 2: deliver(c, s.message(c.check.last_tx())); break;
            case 3: deliver(c, s.bytes(s.byte() % 64)); break;
            case 4: turn(); break;
            case 5: c.stalled = !c.stalled; break;
            case 6: hang_up(c); break;
            default: complete_send(c, s.byte()); break;
        }
        for (Client& k : clients_)
            if (loop_.closed(k.id)) connect(k);  // the daemon dropped it: a new client takes its place
    }

    void deliver(Client& c, std::string_view bytes) {
        c.backlog += c.guard.pass(bytes);
        if (c.backlog.empty() || !loop_.reading(c.id)) return;
        std::string now;
        now.swap(c.backlog);
        daemon_.on_receive(c.id, now);
    }

    void hang_up(Client& c) {
        daemon::ConnId id = c.id;
        daemon_.on_hangup(id);
        daemon_.on_turn_end();
        if (!loop_.closed(id)) fail("a hung-up connection was not closed by the end of the turn");
        connect(c);
    }

    // Complete the send in flight on `c`: all of it (selector 0) or part.
    void complete_send(Client& c, std::uint8_t selector) {
        FakeLoop::Send s;
        if (!loop_.take_send(c.id, s)) return;
        std::size_t n = selector == 0 || s.bytes == 0 ? s.bytes : 1 + selector % s.bytes;
        std::string bytes;
        for (const iovec& v : s.iov) {
            if (bytes.size() >= n) break;
            std::size_t take = std::min(v.iov_len, n - bytes.size());
            bytes.append(static_cast<const char*>(v.iov_base), take);
        }
        std::string why;
        if (!c.check.take(bytes, why)) fail(why);
        daemon_.on_sent(c.id, n);
    }

    // End the turn, then complete every send of the clients that read.
    void turn() {
        daemon_.on_turn_end();
        for (Client& c : clients_) {
            if (!c.stalled) complete_send(c, 0);
            deliver(c, {});
        }
    }

    // Everybody reads again; output must drain, and the store be consistent.
    void finish() {
        for (Client& c : clients_) c.stalled = false;
        for (int i = 0; i < kMaxRounds && (loop_.any_send() || backlog()); ++i) turn();
        if (loop_.any_send() || backlog()) fail("output or input did not drain");
        std::string report = control_check();
        if (report != std::string("OK", 3)) fail("CONTROL check: " + report);
    }

    bool backlog() const {
        for (const Client& c : clients_)
            if (!c.backlog.empty()) return true;
        return false;
    }

    // CONTROL check from a new client (the others may be inside a message).
    std::string control_check() {
        Client c;
        connect(c);
        std::string msg;
        wire::append_message(msg, wire::Header{wire::kControl, 0xc4ec4, 0, 6}, std::string_view("check", 6));
        daemon_.on_receive(c.id, msg);
        wire::Framer replies;
        for (int i = 0; i < kMaxRounds; ++i) {
            daemon_.on_turn_end();
            FakeLoop::Send s;
            if (!loop_.take_send(c.id, s)) continue;
            for (const iovec& v : s.iov) replies.feed(std::string_view(static_cast<const char*>(v.iov_base), v.iov_len));
            daemon_.on_sent(c.id, s.bytes);
            wire::Framer::Message m;
            while (replies.next(m))
                if (m.header.req_id == 0xc4ec4) return std::string(m.payload);
        }
        return "no reply";
    }

    daemon::Config cfg_;
    FakeLoop loop_;
    daemon::Daemon daemon_;
    Client clients_[kClients];
};

}  // namespace
}  // namespace xs::fuzz

// XS_FUZZ_TRACE=FILE writes the daemon's request trace there, to see what
// an input does (run the target on that one input).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    xs::log::init(xs::log::Sink::Stderr, xs::log::Level::Error);
    if (const char* file = std::getenv("XS_FUZZ_TRACE")) {
        xs::log::set_trace_file(file);
        if (!xs::log::trace_on()) std::fprintf(stderr, "daemon_fuzz: cannot trace to %s\n", file);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    xs::fuzz::Script script(data, size);
    xs::fuzz::Driver driver;
    driver.run(script);
    return 0;
}
