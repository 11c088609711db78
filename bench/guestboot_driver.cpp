#include "bench/guestboot_driver.hpp"

#include <charconv>

namespace xs::bench {

namespace {

std::string z(std::string_view s) { return std::string(s) + std::string(1, '\0'); }

BootRequest plain(std::uint32_t type, std::string payload) { return {type, std::move(payload), "", false}; }

}  // namespace

std::string backend_token(std::size_t dom) { return "b" + std::to_string(dom); }

BootDriver::BootDriver(std::vector<BootDomain> domains, BootLayout layout, std::uint64_t stall_ns)
    : domains_(std::move(domains)), state_(domains_.size()), layout_(layout),
      next_of_toolstack_(layout.toolstacks), stall_ns_(stall_ns) {
    for (std::size_t t = 0; t < layout_.toolstacks; ++t) next_of_toolstack_[t] = t;
}

void BootDriver::start(Engine& e) {
    t0_ = last_progress_ = e.now();
    for (std::size_t t = 0; t < layout_.toolstacks; ++t) next_creation(e, t);
}

// A toolstack creates its domains one after another: the next one starts
// when the previous one is introduced.
void BootDriver::next_creation(Engine& e, std::size_t toolstack) {
    std::size_t i = next_of_toolstack_[toolstack];
    if (i >= domains_.size()) return;
    next_of_toolstack_[toolstack] += layout_.toolstacks;
    Dom& d = state_[i];
    d.start_ns = e.now();
    d.toolstack.phase = Phase::kCreate;
    d.toolstack.seq.begin(e, conn(e, toolstack), toolstack_create(domains_[i].paths), true, i);
}

void BootDriver::toolstack_done(Engine& e, std::size_t i) {
    Side& t = state_[i].toolstack;
    const BootDomain& b = domains_[i];
    Conn& c = conn(e, layout_.toolstack_conn(i));
    if (t.phase == Phase::kCreate) {
        t.phase = Phase::kIntroduce;
        std::string id = std::to_string(b.paths.domid);
        t.seq.begin(e, c, {plain(wire::kIntroduce, z(id) + z(std::to_string(b.gfn)) + z(std::to_string(b.port)))},
                    false, i);
        return;
    }
    // Introduced: the guest boots, the backend sees its new device, and
    // this toolstack goes on with its next domain.
    t.phase = Phase::kDone;
    // (Requests queued on other connections leave when the engine wakes them.)
    Side& be = state_[i].backend;
    Conn& backend = conn(e, layout_.backend_conn(i));
    be.phase = Phase::kWatch;
    be.seq.begin(e, backend, {plain(wire::kWatch, z(b.paths.fe_state()) + z(backend_token(i)))}, false, i);
    e.wake(backend);
    Side& g = state_[i].guest;
    Conn& guest = conn(e, layout_.guest_conn(i));
    g.phase = Phase::kCreate;  // the frontend's probe of its tree
    g.seq.begin(e, guest, frontend_probe(b.paths), false, i);
    e.wake(guest);
    next_creation(e, layout_.toolstack_conn(i));
}

void BootDriver::read_state(Engine& e, std::size_t i, Side& s, Conn& c, const std::string& path) {
    s.dirty = false;
    s.phase = Phase::kReadState;
    s.seq.begin(e, c, {plain(wire::kRead, z(path))}, false, i);
}

void BootDriver::idle(Engine& e, std::size_t i, Side& s, Conn& c, const std::string& path) {
    s.phase = Phase::kIdle;
    if (s.dirty) read_state(e, i, s, c, path);
}

void BootDriver::backend_done(Engine& e, std::size_t i) {
    Side& s = state_[i].backend;
    const BootPaths& p = domains_[i].paths;
    Conn& c = conn(e, layout_.backend_conn(i));
    switch (s.phase) {
    case Phase::kWatch:
        s.phase = Phase::kInitWait;
        s.seq.begin(e, c, backend_initwait(p), false, i);
        return;
    case Phase::kReadState:
        if (s.seq.last() == state_text(XenbusState::kInitialised) && !s.initialised) {
            s.initialised = true;
            s.phase = Phase::kConnect;
            s.seq.begin(e, c, backend_connect(p, domains_[i].port), false, i);
            return;
        }
        if (s.seq.last() == state_text(XenbusState::kConnected)) {
            s.phase = Phase::kDone;
            boot_latency_.record(e.now() - state_[i].start_ns);
            if (++booted_ == domains_.size()) t1_ = e.now();
            return;
        }
        break;
    default:
        break;
    }
    idle(e, i, s, c, p.fe_state());
}

void BootDriver::guest_done(Engine& e, std::size_t i) {
    Side& s = state_[i].guest;
    const BootPaths& p = domains_[i].paths;
    Conn& c = conn(e, layout_.guest_conn(i));
    switch (s.phase) {
    case Phase::kCreate:
        s.phase = Phase::kWatch;
        s.seq.begin(e, c, {plain(wire::kWatch, z(p.be_state()) + z(kGuestToken))}, false, i);
        return;
    case Phase::kReadState:
        if (s.seq.last() == state_text(XenbusState::kInitWait) && !s.initialised) {
            s.initialised = true;
            s.phase = Phase::kInitWait;
            s.seq.begin(e, c, frontend_initialise(p, domains_[i].port), true, i);
            return;
        }
        if (s.seq.last() == state_text(XenbusState::kConnected) && s.initialised) {
            s.phase = Phase::kConnect;
            s.seq.begin(e, c, frontend_connect(p), false, i);
            return;
        }
        break;
    case Phase::kConnect:
        s.phase = Phase::kDone;  // a quiet guest from now on
        return;
    default:
        break;
    }
    idle(e, i, s, c, p.be_state());
}

void BootDriver::on_reply(Engine& e, Conn& c, const Reply& r) {
    last_progress_ = e.now();
    auto i = static_cast<std::size_t>(r.tag);
    auto index = static_cast<std::size_t>(c.index());
    Dom& d = state_[i];
    bool guest = index >= layout_.toolstacks + layout_.backends;
    Side& s = guest ? d.guest : index < layout_.toolstacks ? d.toolstack : d.backend;
    (guest ? guest_latency_ : toolstack_latency_).record(r.latency_ns);
    if (s.seq.on_reply(e, c, r, counters_) != Sequence::Step::kDone) return;
    if (guest) guest_done(e, i);
    else if (index < layout_.toolstacks) toolstack_done(e, i);
    else backend_done(e, i);
}

void BootDriver::on_event(Engine& e, Conn& c, const Event& ev) {
    last_progress_ = e.now();
    ++events_;
    auto index = static_cast<std::size_t>(c.index());
    bool guest = index >= layout_.toolstacks + layout_.backends;
    std::size_t i = guest ? index - layout_.toolstacks - layout_.backends : domains_.size();
    if (!guest && ev.token.size() > 1 && ev.token[0] == 'b') {
        auto res = std::from_chars(ev.token.data() + 1, ev.token.data() + ev.token.size(), i);
        if (res.ec != std::errc() || res.ptr != ev.token.data() + ev.token.size()) i = domains_.size();
    }
    bool ok = i < domains_.size() && (guest ? ev.token == kGuestToken && ev.path == domains_[i].paths.be_state()
                                            : ev.path == domains_[i].paths.fe_state());
    if (!ok)
        return e.fail("connection " + std::to_string(index) + ": unexpected watch event " + std::string(ev.path) + " " +
                      std::string(ev.token));
    Side& s = guest ? state_[i].guest : state_[i].backend;
    if (s.phase == Phase::kDone) return;  // the handshake is over: nothing to read
    s.dirty = true;
    if (s.phase == Phase::kIdle)
        read_state(e, i, s, c, guest ? domains_[i].paths.be_state() : domains_[i].paths.fe_state());
}

std::uint64_t BootDriver::waiting() const {
    std::uint64_t n = 0;
    for (const Dom& d : state_)
        n += (d.backend.phase == Phase::kIdle) + (d.guest.phase == Phase::kIdle);
    return n;
}

std::string BootDriver::phases() const {
    static constexpr const char* kNames[] = {"queued", "create", "introduce", "watch", "initwait",
                                             "idle", "read-state", "connect", "done"};
    auto count = [&](const char* side, auto member) {
        std::vector<std::size_t> n(std::size(kNames));
        for (const Dom& d : state_) ++n[static_cast<std::size_t>((d.*member).phase)];
        std::string out = side;
        for (std::size_t k = 0; k < n.size(); ++k)
            if (n[k]) out += " " + std::string(kNames[k]) + "=" + std::to_string(n[k]);
        return out;
    };
    return count("toolstack", &Dom::toolstack) + "; backend" + count("", &Dom::backend) + "; guest" +
           count("", &Dom::guest);
}

void BootDriver::on_tick(Engine& e) {
    if (e.now() < last_progress_ + stall_ns_) return;
    std::size_t created = 0;
    for (const Dom& d : state_) created += d.toolstack.phase == Phase::kDone;
    e.fail("nothing moved for " + std::to_string(stall_ns_ / 1'000'000'000) + " s: " + std::to_string(booted_) +
           " of " + std::to_string(domains_.size()) + " domains booted, " + std::to_string(created) +
           " introduced, " + std::to_string(waiting()) + " sides waiting for a watch event (missing events); " + phases());
}

// ---------------------------------------------------------------- teardown

TeardownDriver::TeardownDriver(std::vector<BootDomain> domains, BootLayout layout)
    : domains_(std::move(domains)), layout_(layout), seqs_(domains_.size()), unwatches_(domains_.size()),
      start_(domains_.size()), next_of_toolstack_(layout.toolstacks) {
    for (std::size_t t = 0; t < layout_.toolstacks; ++t) next_of_toolstack_[t] = t;
}

void TeardownDriver::start(Engine& e) {
    t0_ = e.now();
    for (std::size_t i = 0; i < domains_.size(); ++i) {
        const BootPaths& p = domains_[i].paths;
        unwatches_[i].begin(e, *e.conns()[layout_.backend_conn(i)],
                            {plain(wire::kUnwatch, z(p.fe_state()) + z(backend_token(i)))}, false, i);
    }
    for (std::size_t t = 0; t < layout_.toolstacks; ++t) next_domain(e, t);
}

void TeardownDriver::next_domain(Engine& e, std::size_t toolstack) {
    std::size_t i = next_of_toolstack_[toolstack];
    if (i >= domains_.size()) return;
    next_of_toolstack_[toolstack] += layout_.toolstacks;
    start_[i] = e.now();
    std::vector<BootRequest> reqs{plain(wire::kRelease, z(std::to_string(domains_[i].paths.domid)))};
    for (auto& r : toolstack_destroy(domains_[i].paths)) reqs.push_back(std::move(r));
    seqs_[i].begin(e, *e.conns()[toolstack], std::move(reqs), false, i);
}

void TeardownDriver::on_reply(Engine& e, Conn& c, const Reply& r) {
    auto i = static_cast<std::size_t>(r.tag);
    bool toolstack = static_cast<std::size_t>(c.index()) < layout_.toolstacks;
    Sequence& s = toolstack ? seqs_[i] : unwatches_[i];
    if (s.on_reply(e, c, r, counters_) != Sequence::Step::kDone) return;
    ++done_;
    if (toolstack) {
        latency_.record(e.now() - start_[i]);
        next_domain(e, static_cast<std::size_t>(c.index()));
    }
    if (finished()) t1_ = e.now();
}

}  // namespace xs::bench
