// libFuzzer target: the production daemon core (dispatch, store,
// transactions, watches, accounting, quotas, flow control, guest rings and
// domain deaths) driven by a fuzzed script of two dom0 socket clients, two
// guests and dom0's own ring on a fake Xen host: messages with fuzzed
// headers and payloads, CONTROL commands, raw bytes, hangups, clients that
// stop reading, partial sends, hostile ring indices, bare kicks,
// reconnections, guests shutting down, dying or dying halfway, and time
// passing (write-rate limit, watch-event expiry, transaction age). The
// oracles: no crash or sanitizer report, the event-loop contract kept,
// every socket reply well formed, output drained once everybody reads, and
// CONTROL check finding the store and accounts consistent after every
// step. docs/fuzzing.md explains it.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "daemon/config/log.hpp"
#include "daemon/daemon.hpp"
#include "tests/fuzz/fake_loop.hpp"
#include "tests/fuzz/guest_host.hpp"
#include "tests/fuzz/script.hpp"
#include "tests/fuzz/small_quotas.hpp"
#include "tests/fuzz/streams.hpp"
#include "transport/wire.hpp"

namespace xs::fuzz {
namespace {

constexpr int kSockets = 2;                               // clients 0, 1: dom0 tools
constexpr int kClients = kSockets + GuestHost::kGuests + 1;  // 2, 3: guests (domains 1, 2); 4: dom0's ring
constexpr int kDom0Ring = kSockets + GuestHost::kDom0;
static_assert(kDom0Ring == 4, "a script step picks clients 0-3 with two bits, dom0's ring with an extra action");
constexpr int kMaxRounds = 64;  // turns to let output drain at the end
constexpr auto kDrainTick = std::chrono::seconds(1);  // time passing at each of those turns

// Where findings are reported: stderr as it was at start, so that
// -close_fd_mask=2 silences the daemon's log but not the reason of a failure.
int report_fd = 2;

[[noreturn]] void fail(const std::string& why) {
    std::string line = "daemon_fuzz: " + why + "\n";
    (void)!::write(report_fd, line.data(), line.size());
    GuestHost::get().discard();
    std::abort();
}

// Small bounds, so that flow control, quotas, the write-rate limit and
// event expiry are reached (time is the fake loop's: inputs replay exactly).
daemon::Config fuzz_config(const GuestHost& host) {
    daemon::Config cfg;
    cfg.rundir = "/nonexistent";
    cfg.dom0_kva = host.xsd_kva();
    cfg.dom0_port = host.xsd_port();
    cfg.socket_queue_bytes = 64 * 1024;
    cfg.event_queue = 64;
    cfg.event_queue_bytes = 32 * 1024;
    cfg.transaction_pin = 2048;  // transactions are rebased often
    cfg.write_rate = 20;
    cfg.write_burst = 4;
    cfg.watch_event_timeout_s = 5;
    xs::fuzz::set_small_quotas(cfg);
    return cfg;
}

class Driver {
public:
    Driver() : host_(GuestHost::get()), cfg_(fuzz_config(host_)), daemon_(cfg_, loop_) {
        host_.prepare();
        std::string why;
        auto hv = transport::Hypervisor::open(why);
        if (!hv) fail("no fake hypervisor: " + why);
        daemon_.attach_hypervisor(std::move(hv));
        if (auto r = daemon_.introduce_store_domain(); !r) fail("dom0's ring: " + std::string(std::strerror(r.error().code)));
        for (int k = 0; k < kClients; ++k) connect(clients_[k], k);
        for (int i = 0; i < GuestHost::kGuests; ++i) introduce(i);
    }

    void run(Script& s) {
        while (!s.done()) step(s);
        finish();
    }

private:
    struct Client {
        daemon::ConnId id = 0;  // sockets
        int guest = -1;         // guests: index in the host
        InputGuard guard;
        OutputCheck check;
        std::string backlog;   // input not taken yet (the kernel or the ring would hold it)
        bool stalled = false;  // not reading its replies
    };

    void connect(Client& c, int k) {
        c = Client{};
        if (k >= kSockets) {
            c.guest = k - kSockets;
            return;
        }
        c.id = daemon_.on_accept(-1, -1);
        if (c.id == 0) fail("connection refused");
    }

    // As a toolstack does: the guest owns its home, then INTRODUCE.
    void introduce(int i) {
        std::string id = std::to_string(host_.domid(i));
        std::string home = "/local/domain/" + id;
        auto rec = host_.record(i);
        std::string gfn = std::to_string(rec.ring_gfn), port = std::to_string(rec.store_port);
        std::string replies = request(wire::kMkdir, {home}) + request(wire::kSetPerms, {home, "n" + id}) +
                              request(wire::kIntroduce, {id, gfn, port});
        if (replies != std::string("OK\0OK\0OK\0", 9)) fail("setting up guest " + id + ": " + replies);
    }

    void step(Script& s) {
        std::uint8_t op = s.byte();
        if (op >= 0xe0) extra(op, s);
        else act(clients_[op & 3], (op >> 2) % 8, s);
        for (int k = 0; k < kSockets; ++k)
            if (loop_.closed(clients_[k].id)) connect(clients_[k], k);  // the daemon dropped it: a new client
        if (std::string problems = daemon_.check_consistency(); !problems.empty())
            fail("CONTROL check after a step: " + problems);
    }

    void act(Client& c, int action, Script& s) {
        switch (action) {
            case 0:
            case 1:
            case 2: deliver(c, s.message(c.check.last_tx())); break;
            case 3: deliver(c, s.bytes(s.byte() % 64)); break;
            case 4: turn(); break;
            case 5: c.stalled = !c.stalled; break;
            case 6: c.guest < 0 ? hang_up(c) : mischief(c, s); break;
            default: complete(c, s.byte()); break;
        }
    }

    // Steps from 0xe0 up: what the first eight actions do not reach. The
    // ring acted on: the guest the low bits name, or dom0's for 0 and 1.
    void extra(std::uint8_t op, Script& s) {
        Client& ring = clients_[(op & 3) < kSockets ? kDom0Ring : op & 3];
        switch ((op >> 2) % 8) {
            case 0: deliver(clients_[op & 3], s.control(false)); break;
            case 1: loop_.advance(std::chrono::milliseconds(100) * (s.byte() + 1)); break;
            case 2: poke(ring, s); break;
            case 3:
                (void)host_.guest(ring.guest).notify();
                kicks();
                break;
            case 4: die(clients_[kSockets + (op & 1)], s); break;
            case 5: act(clients_[kDom0Ring], s.byte() % 8, s); break;
            default: turn(); break;
        }
    }

    // Any value in one of the ring's four indices, no kick.
    void poke(Client& c, Script& s) {
        ring::Interface& page = host_.guest(c.guest).page();
        std::uint8_t which = s.byte();
        std::uint32_t value = s.word();
        std::uint32_t* index[] = {&page.req_cons, &page.req_prod, &page.rsp_cons, &page.rsp_prod};
        __atomic_store_n(index[which % 4], value, __ATOMIC_RELEASE);
        c.check = OutputCheck{};
    }

    // The guest's domain shuts down, dies, or stops at dying (the daemon
    // sees it at its next look at the domains).
    void die(Client& c, Script& s) {
        std::uint8_t how = s.byte();
        switch (how % 3) {
            case 0: host_.destroy(c.guest); break;
            case 1: host_.destroy(c.guest, true); break;
            default: host_.shutdown(c.guest, how / 3 % 5); break;
        }
        kicks();
    }

    void deliver(Client& c, std::string_view bytes) {
        c.backlog += c.guard.pass(bytes);
        if (c.backlog.empty()) return;
        if (c.guest >= 0) {
            if (!host_.alive(c.guest)) return c.backlog.clear();
            auto n = host_.guest(c.guest).write_raw(c.backlog);  // as much as fits, then a kick
            if (n) c.backlog.erase(0, *n);
            return kicks();
        }
        if (!loop_.reading(c.id)) return;
        std::string now;
        now.swap(c.backlog);
        daemon_.on_receive(c.id, now);
    }

    // The daemon's event channel fd is readable whenever a guest kicked.
    void kicks() {
        for (int token : loop_.watched()) daemon_.on_readable(token);
    }

    void hang_up(Client& c) {
        daemon::ConnId id = c.id;
        daemon_.on_hangup(id);
        daemon_.on_turn_end();
        if (!loop_.closed(id)) fail("a hung-up connection was not closed by the end of the turn");
        connect(c, static_cast<int>(&c - clients_));
    }

    // What a hostile or unlucky guest does to its page and its domain.
    void mischief(Client& c, Script& s) {
        ring::Interface& page = host_.guest(c.guest).page();
        std::uint8_t what = s.byte();
        std::uint32_t by = s.byte() * 17u;
        switch (what % 5) {
            case 0: __atomic_store_n(&page.connection, ring::kReconnect, __ATOMIC_RELEASE); break;
            case 1: __atomic_fetch_add(&page.req_prod, by, __ATOMIC_RELEASE); break;
            case 2: __atomic_fetch_add(&page.rsp_cons, by, __ATOMIC_RELEASE); break;
            case 3: __atomic_fetch_sub(&page.req_prod, by, __ATOMIC_RELEASE); break;
            default: host_.destroy(c.guest); break;
        }
        c.check = OutputCheck{};  // the response stream restarts somewhere
        (void)host_.guest(c.guest).notify();
        kicks();
    }

    // Take the client's output: a socket's send in flight (all of it, or
    // part), a guest's response ring (up to `selector` * 16 bytes, 0: all).
    void complete(Client& c, std::uint8_t selector) {
        if (c.guest >= 0) return read_ring(c, selector == 0 ? ring::kRingSize : selector * 16u);
        FakeLoop::Send s;
        if (!loop_.take_send(c.id, s)) return;
        std::size_t n = selector == 0 || s.bytes == 0 ? s.bytes : 1 + selector % s.bytes;
        std::string why;
        if (!c.check.take(s.head(n), why)) fail(why);
        daemon_.on_sent(c.id, n);
    }

    // Guests' responses are framed only to learn transaction ids: hostile
    // indices and reconnections restart the stream anywhere, so a guest's
    // malformed output is no finding (the socket clients' is).
    void read_ring(Client& c, std::size_t cap) {
        char buf[ring::kRingSize];
        auto n = host_.guest(c.guest).read_raw(buf, std::min(cap, sizeof buf));
        if (!n || *n == 0) return;
        std::string why;
        if (!c.check.take(std::string_view(buf, *n), why)) c.check = OutputCheck{};
        kicks();
    }

    // Kicks in, the turn's end, then every client that reads takes its
    // output and what waited of its input goes in.
    void turn() {
        kicks();
        daemon_.on_turn_end();
        for (Client& c : clients_) {
            if (!c.stalled) complete(c, 0);
            deliver(c, {});
        }
    }

    // Everybody reads again; output and input must drain (except on guest
    // rings the daemon stopped serving for good), and the store be consistent.
    void finish() {
        for (Client& c : clients_) c.stalled = false;
        for (int i = 0; i < kMaxRounds && !busy().empty(); ++i) {
            loop_.advance(kDrainTick);  // rate-limited guests get their credit back
            turn();
        }
        if (std::string what = busy(); !what.empty()) fail(what + " did not drain");
        std::string report = control_check();
        if (report != std::string("OK", 3)) fail("CONTROL check: " + report);
    }

    // What still waits ("" when nothing does).
    std::string busy() {
        if (loop_.any_send()) return "a socket send";
        for (const Client& c : clients_) {
            if (c.guest < 0) {
                if (!c.backlog.empty()) return "a socket's input";
                continue;
            }
            const ring::Interface& page = host_.guest(c.guest).page();
            bool served = host_.alive(c.guest) && host_.bound(c.guest) && page.error == 0 &&
                          page.connection == ring::kConnected &&
                          page.rsp_prod - page.rsp_cons <= ring::kRingSize && page.req_prod - page.req_cons <= ring::kRingSize;
            if (served && !c.backlog.empty()) return "guest " + std::to_string(c.guest) + "'s input";
            if (served && page.rsp_prod != page.rsp_cons) return "guest " + std::to_string(c.guest) + "'s responses";
        }
        return "";
    }

    // One request from a new dom0 client (the others may be inside a
    // message); the reply's payload.
    std::string request(wire::MsgType type, std::initializer_list<std::string_view> args) {
        Client c;
        connect(c, 0);
        std::string payload, msg;
        for (std::string_view a : args) payload.append(a).push_back('\0');
        wire::append_message(msg, wire::Header{type, 0xc4ec4, 0, 0}, payload);
        daemon_.on_receive(c.id, msg);
        wire::Framer replies;
        std::string answer = "no reply";
        for (int i = 0; i < kMaxRounds; ++i) {
            daemon_.on_turn_end();
            FakeLoop::Send s;
            if (!loop_.take_send(c.id, s)) continue;
            replies.feed(s.head(s.bytes));
            daemon_.on_sent(c.id, s.bytes);
            wire::Framer::Message m;
            if (replies.next(m) && m.header.req_id == 0xc4ec4) {
                answer = m.payload;
                break;
            }
        }
        daemon_.on_hangup(c.id);
        return answer;
    }

    std::string control_check() { return request(wire::kControl, {"check"}); }

    GuestHost& host_;
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
    xs::fuzz::report_fd = ::dup(2);  // before libFuzzer applies -close_fd_mask
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
