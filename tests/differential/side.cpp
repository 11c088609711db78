#include "tests/differential/side.hpp"

#include <charconv>
#include <cstring>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "tools/fakexen/domains.hpp"
#include "transport/wire.hpp"

namespace xs::diff {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Environment for the daemon about to start (the support library's Daemon
// passes ours on), restored afterwards.
class ScopedEnv {
public:
    void set(const std::string& name, const std::string& value) {
        const char* old = std::getenv(name.c_str());
        saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    void append(const std::string& name, const std::string& value, char sep) {
        const char* old = std::getenv(name.c_str());
        set(name, old && *old ? std::string(old) + sep + value : value);
    }
    ~ScopedEnv() {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
            else ::unsetenv(it->first.c_str());
        }
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

Event parse_event(const client::Message& m) {
    auto s = strings_of(m.payload);
    Event e;
    if (!s.empty()) e.path = s[0];
    if (s.size() > 1) e.token = s[1];
    return e;
}

std::optional<std::uint32_t> decimal(std::string_view s) {
    std::uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

Reply done() { return Reply::with(Reply::Status::Done); }

Reply failed(int code) {
    Reply r = Reply::with(Reply::Status::Failed);
    r.code = static_cast<std::uint32_t>(code);
    return r;
}

}  // namespace

Side::Side(Kind kind, const Programs& programs) : kind_(kind), programs_(programs) {}

Side::~Side() { stop(); }

std::optional<StartError> Side::start() {
    dir_ = std::make_unique<testing::TempDir>(kind_ == Kind::Xstored ? "xstore-diff-x" : "xstore-diff-c");
    auto host = fakexen::init_host(dir_->file("host"));
    if (!host) return StartError{false, "cannot create a fake host: errno " + std::to_string(host.error().code)};
    host_ = *host;
    ScopedEnv env;
    env.set(fakexen::kEnvHost, host_->dir());
    env.append("LD_LIBRARY_PATH", programs_.fakexen_libdir, ':');
    testing::DaemonOptions opts;
    if (kind_ == Kind::Xstored) {
        env.set("XSTORED_BIN", programs_.xstored);
        opts.args = {"--xsd-kva", host_->xsd_kva_path(), "--xsd-port", host_->xsd_port_path()};
        opts.args.insert(opts.args.end(), programs_.xstored_args.begin(), programs_.xstored_args.end());
    } else {
        // Its private /proc hides its own pid from LeakSanitizer (in a
        // sanitizer build it runs with the runtimes preloaded).
        env.append("ASAN_OPTIONS", "detect_leaks=0", ':');
        opts.launcher = {programs_.fakexen_cli, "--host", host_->dir(), "exec", "--"};
        opts.program = programs_.c_daemon;
    }
    try {
        daemon_ = std::make_unique<testing::Daemon>(opts);
    } catch (const std::exception& e) {
        std::string why = e.what();
        return StartError{why.find("cannot set up the private /proc") != std::string::npos, why};
    }
    ctl_ = daemon_->connect();
    ctl_->timeout = programs_.reply_wait;
    // The socket listens before dom0's ring is set up: an answer means start-up is over.
    auto first = ctl_->call(wire::kGetDomainPath, std::string_view("0\0", 2));
    if (!first) return StartError{false, std::string(name()) + " did not answer its first request"};
    if (open(ConnRef{ConnRef::Kind::Socket, 0}).status != Reply::Status::Done)
        return StartError{false, "cannot connect to " + std::string(name())};
    auto dom0 = fakexen::Guest::attach(host_, 0);
    if (!dom0) return StartError{false, "cannot attach to dom0's ring"};
    Conn& r0 = conns_[ConnRef{ConnRef::Kind::Dom0Ring, 0}];
    r0.guest = *dom0;
    r0.client = std::make_unique<client::Client>(fakexen::ring_channel(*dom0));
    r0.client->timeout = programs_.reply_wait;
    return std::nullopt;
}

// ---------------------------------------------------------------- steps

Outcome Side::run(const Step& s) {
    Outcome o;
    switch (s.kind) {
        case Step::Kind::Request:
            o.reply = live(s.conn) ? request(s, o.before) : Reply::with(Reply::Status::NotSent);
            bind(s, o.reply);
            break;
        case Step::Kind::Oversize:
            o.reply = live(s.conn) ? oversize(s) : Reply::with(Reply::Status::NotSent);
            break;
        case Step::Kind::Open: o.reply = open(s.conn); break;
        case Step::Kind::Close:
            conns_.erase(s.conn);
            settle();
            o.reply = done();
            break;
        default: o.reply = host_step(s); break;
    }
    return o;
}

Reply Side::request(const Step& s, Events& before) {
    Conn& c = *conn(s.conn);
    if (s.type == wire::kWatch) c.watching = true;
    if (s.type == wire::kIntroduce || s.type == wire::kRelease) introduced_.clear();
    std::uint32_t id = c.client->send(s.type, expand(s.payload), tx_id(s.tx));
    Reply r = wait_reply(*c.client, id, before);
    if (r.status == Reply::Status::NoReply && c.guest) {
        std::uint32_t err = __atomic_load_n(&c.guest->page().error, __ATOMIC_ACQUIRE);
        if (err != 0) {
            c.ignored = true;
            r = Reply::with(Reply::Status::RingError);
            r.code = err;
        }
    }
    return r;
}

Reply Side::wait_reply(client::Client& c, std::uint32_t req, Events& before) {
    auto deadline = Clock::now() + programs_.reply_wait;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        auto m = left.count() > 0 ? c.receive(left) : std::nullopt;
        if (!m) return Reply::with(c.closed() ? Reply::Status::Closed : Reply::Status::NoReply);
        if (m->header.type == wire::kWatchEvent) {
            before.push_back(parse_event(*m));
            continue;
        }
        if (m->header.req_id != req) continue;  // a late reply to an earlier request that timed out
        Reply r = Reply::with(Reply::Status::Message);
        r.type = m->header.type;
        r.payload = std::move(m->payload);
        return r;
    }
}

// A header announcing more than the protocol allows: the daemon drops a
// socket and stops serving a ring (setting its error field).
Reply Side::oversize(const Step& s) {
    Conn& c = *conn(s.conn);
    std::string bytes(wire::kHeaderSize, '\0');
    wire::Header h{wire::kWrite, 0x7fff0000, 0, s.arg};
    std::memcpy(bytes.data(), &h, sizeof h);
    bytes += "/oversize";
    c.client->send_raw(bytes);
    auto deadline = Clock::now() + programs_.reply_wait / 2;
    while (Clock::now() < deadline) {
        if (c.guest) {
            std::uint32_t err = __atomic_load_n(&c.guest->page().error, __ATOMIC_ACQUIRE);
            if (err != 0) {
                c.ignored = true;
                Reply r = Reply::with(Reply::Status::RingError);
                r.code = err;
                return r;
            }
            std::this_thread::sleep_for(2ms);
            continue;
        }
        Events ignored;
        Reply r = wait_reply(*c.client, 0x7fff0000, ignored);
        if (r.status != Reply::Status::NoReply) return r;
    }
    return Reply::with(Reply::Status::NoReply);
}

Reply Side::host_step(const Step& s) {
    ConnRef g{ConnRef::Kind::Guest, s.domid};
    introduced_.clear();
    if (s.kind == Step::Kind::Create) {
        conns_.erase(g);
        auto info = fakexen::create_domain(*host_, s.domid);
        if (!info) return failed(info.error().code);
        auto guest = fakexen::Guest::attach(host_, s.domid);
        if (!guest) return failed(guest.error().code);
        Conn& c = conns_[g];
        c.guest = *guest;
        c.client = std::make_unique<client::Client>(fakexen::ring_channel(*guest));
        c.client->timeout = programs_.reply_wait;
        return done();
    }
    Result<> r = s.kind == Step::Kind::Shutdown ? fakexen::shutdown_domain(*host_, s.domid, s.arg)
                                                : fakexen::destroy_domain(*host_, s.domid, s.arg != 0);
    if (s.kind == Step::Kind::Destroy) conns_.erase(g);
    settle();
    return r ? done() : failed(r.error().code);
}

Reply Side::open(const ConnRef& c) {
    conns_.erase(c);
    std::string err;
    auto ch = client::connect_unix(daemon_->socket_path(), err);
    if (!ch) return failed(ECONNREFUSED);
    Conn& conn = conns_[c];
    conn.client = std::make_unique<client::Client>(std::move(ch));
    conn.client->timeout = programs_.reply_wait;
    settle();
    return done();
}

// The daemon has seen what the host did (VIRQ_DOM_EXC) and what a closed
// socket means: round trips on the driver's own socket. Xen's C daemon
// takes one pending event channel port per loop turn, and every ring may
// have one pending, so there is one round trip per ring and a few more.
void Side::settle() {
    std::size_t turns = conns_.size() + 3;
    for (std::size_t i = 0; i < turns; ++i) (void)ctl_->call(wire::kGetDomainPath, std::string_view("0\0", 2));
}

// ---------------------------------------------------------------- events

std::map<ConnRef, Events> Side::collect() {
    std::map<ConnRef, Events> out;
    for (auto& [ref, c] : conns_) {
        if (!c.watching || !live(ref)) continue;
        Events& ev = out[ref];
        std::uint32_t id = c.client->send(wire::kGetDomainPath, std::string_view("0\0", 2));
        Reply r = wait_reply(*c.client, id, ev);
        if (r.status != Reply::Status::Message) ev.push_back({"<no answer to the synchronising request>", ""});
    }
    return out;
}

// ---------------------------------------------------------------- state

Side::Conn* Side::conn(const ConnRef& c) {
    auto it = conns_.find(c);
    return it == conns_.end() ? nullptr : &it->second;
}

bool Side::live(const ConnRef& ref) {
    Conn* c = conn(ref);
    if (!c || !c->client || c->client->closed() || c->ignored) return false;
    return ref.kind != ConnRef::Kind::Guest || introduced(ref.domid());
}

// Whether the daemon serves domain `d` now (cached until a step may change it).
bool Side::introduced(DomId d) {
    if (auto it = introduced_.find(d); it != introduced_.end()) return it->second;
    std::string arg = std::to_string(d);
    arg.push_back('\0');
    auto r = ctl_->call(wire::kIsDomainIntroduced, arg);
    bool yes = r && r->header.type == wire::kIsDomainIntroduced && r->payload == std::string("T\0", 2);
    introduced_[d] = yes;
    return yes;
}

std::string Side::expand(const Payload& p) {
    std::string out;
    for (const auto& piece : p.pieces) {
        if (piece.kind == Payload::Piece::Kind::Bytes) {
            out += piece.bytes;
            continue;
        }
        auto info = fakexen::domain_info(*host_, piece.domid);
        if (!info) out += piece.kind == Payload::Piece::Kind::Port ? "1" : "0";
        else if (piece.kind == Payload::Piece::Kind::Port) out += std::to_string(info->record.store_port);
        else out += std::to_string(info->record.ring_gfn);
    }
    return out;
}

std::uint32_t Side::tx_id(const TxRef& t) const {
    switch (t.kind) {
        case TxRef::Kind::None: return 0;
        case TxRef::Kind::Raw: return t.value;
        case TxRef::Kind::Handle: return handle(t.value).value_or(0x40000000u + t.value);
    }
    return 0;
}

void Side::bind(const Step& s, const Reply& r) {
    if (!s.bind) return;
    auto id = r.ok() && !r.payload.empty() ? decimal(std::string_view(r.payload).substr(0, r.payload.size() - 1))
                                           : std::nullopt;
    if (id) handles_[*s.bind] = *id;
    else handles_.erase(*s.bind);
}

std::optional<std::uint32_t> Side::handle(std::uint32_t h) const {
    auto it = handles_.find(h);
    if (it == handles_.end()) return std::nullopt;
    return it->second;
}

bool Side::daemon_alive() { return daemon_ && daemon_->alive(); }

std::vector<std::string> Side::stop() {
    conns_.clear();
    ctl_.reset();
    if (!daemon_) return {};
    std::vector<std::string> problems = daemon_->stop();
    daemon_.reset();
    if (kind_ == Kind::Xstored) return problems;
    // Xen's C daemon has no SIGTERM handler: being killed by it is its normal end.
    std::erase_if(problems, [](const std::string& p) { return p.find("after SIGTERM") != std::string::npos; });
    return problems;
}

std::string Side::log_tail() const { return daemon_ ? testing::tail(daemon_->stderr_text(), 3000) : std::string(); }

}  // namespace xs::diff
