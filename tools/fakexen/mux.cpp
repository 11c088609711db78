#include "tools/fakexen/mux.hpp"

#include <cerrno>
#include <charconv>

namespace xs::fakexen {

namespace {

constexpr std::string_view kTokenPrefix = "fx";

// Split "a\0b\0rest" into its first two strings and what follows them.
// False when there are fewer than two NUL-terminated strings.
bool split_two(std::string_view payload, std::string_view& first, std::string_view& second,
               std::string_view& rest) {
    std::size_t a = payload.find('\0');
    if (a == std::string_view::npos) return false;
    std::size_t b = payload.find('\0', a + 1);
    if (b == std::string_view::npos) return false;
    first = payload.substr(0, a);
    second = payload.substr(a + 1, b - a - 1);
    rest = payload.substr(b + 1);
    return true;
}

std::string two_strings(std::string_view a, std::string_view b, std::string_view rest = {}) {
    std::string s;
    s.append(a);
    s.push_back('\0');
    s.append(b);
    s.push_back('\0');
    s.append(rest);
    return s;
}

// "fx<id>:<token>" -> id and the client's token.
bool parse_ring_token(std::string_view t, Mux::ClientId& id, std::string_view& token) {
    if (!t.starts_with(kTokenPrefix)) return false;
    t.remove_prefix(kTokenPrefix.size());
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), id);
    if (ec != std::errc() || end == t.data() || end == t.data() + t.size() || *end != ':')
        return false;
    token = t.substr(static_cast<std::size_t>(end - t.data()) + 1);
    return true;
}

std::string_view error_of(const wire::Header& h, std::string_view payload) {
    if (h.type != wire::kError) return {};
    if (!payload.empty() && payload.back() == '\0') payload.remove_suffix(1);
    return payload;
}

}  // namespace

std::string Mux::ring_token(ClientId id, std::string_view token) {
    std::string t(kTokenPrefix);
    t += std::to_string(id);
    t.push_back(':');
    t.append(token);
    return t;
}

Mux::ClientId Mux::add_client() {
    ClientId id = next_client_++;
    if (next_client_ == 0) next_client_ = 1;
    clients_.try_emplace(id);
    return id;
}

std::string* Mux::client_out(ClientId id) {
    auto it = clients_.find(id);
    return it == clients_.end() ? nullptr : &it->second.out;
}

std::vector<Mux::ClientId> Mux::clients() const {
    std::vector<ClientId> ids;
    for (const auto& [id, c] : clients_) ids.push_back(id);
    return ids;
}

bool Mux::from_client(ClientId id, std::string_view bytes) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return false;
    ClientState& c = it->second;
    c.framer.feed(bytes);
    wire::Framer::Message m;
    while (c.framer.next(m)) handle_request(id, c, m.header, m.payload);
    return !c.framer.failed();
}

void Mux::handle_request(ClientId id, ClientState& c, const wire::Header& h,
                         std::string_view payload) {
    if (h.tx_id != 0 && h.type != wire::kTransactionStart && !c.transactions.contains(h.tx_id)) {
        wire::append_error(c.out, h, ENOENT);  // not one of this client's transactions
        return;
    }
    Pending p{id, h.req_id, h.type, h.tx_id, {}, {}};
    std::string_view path, token, rest;
    if (h.type == wire::kResetWatches) {
        reset_client(id, c);
        wire::append_message(c.out, wire::Header{h.type, h.req_id, 0, 0}, std::string_view("OK\0", 3));
        return;
    }
    if ((h.type == wire::kWatch || h.type == wire::kUnwatch) && split_two(payload, path, token, rest)) {
        p.path = path;
        p.token = token;
        forward(p, h, two_strings(path, ring_token(id, token), rest));
        return;
    }
    forward(p, h, payload);
}

void Mux::forward(const Pending& p, const wire::Header& h, std::string_view payload) {
    std::uint32_t req = next_req_++;
    if (next_req_ == 0) next_req_ = 1;
    pending_[req] = p;
    wire::append_message(ring_out_, wire::Header{h.type, req, h.tx_id, 0}, payload);
}

void Mux::send_internal(std::uint32_t type, std::string_view payload, std::uint32_t tx) {
    forward(Pending{0, 0, type, tx, {}, {}}, wire::Header{type, 0, tx, 0}, payload);
}

void Mux::reset_client(ClientId id, ClientState& c) {
    for (const auto& [path, token] : c.watches)
        send_internal(wire::kUnwatch, two_strings(path, ring_token(id, token)));
    for (std::uint32_t tx : c.transactions)
        send_internal(wire::kTransactionEnd, std::string_view("F\0", 2), tx);
    c.watches.clear();
    c.transactions.clear();
}

void Mux::remove_client(ClientId id) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    reset_client(id, it->second);
    clients_.erase(it);
}

bool Mux::from_ring(std::string_view bytes) {
    ring_framer_.feed(bytes);
    wire::Framer::Message m;
    while (ring_framer_.next(m)) handle_reply(m.header, m.payload);
    return !ring_framer_.failed();
}

void Mux::handle_reply(const wire::Header& h, std::string_view payload) {
    if (h.type == wire::kWatchEvent) {
        route_event(h, payload);
        return;
    }
    auto it = pending_.find(h.req_id);
    if (it == pending_.end()) return;  // not ours (or a duplicate): nobody to give it to
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (p.client == 0) return;  // reply to our own clean-up
    auto c = clients_.find(p.client);
    if (c == clients_.end()) {
        if (h.type != wire::kError) undo_orphan(p.client, p, payload);
        return;
    }
    if (h.type != wire::kError) record_success(c->second, p, payload);
    // A failed TRANSACTION_END still ends the transaction, except when the
    // argument was rejected before the transaction was looked up.
    if (p.type == wire::kTransactionEnd && error_of(h, payload) != "EINVAL")
        c->second.transactions.erase(p.tx_id);
    wire::append_message(c->second.out, wire::Header{h.type, p.req_id, h.tx_id, 0}, payload);
}

void Mux::record_success(ClientState& c, const Pending& p, std::string_view payload) {
    switch (p.type) {
    case wire::kWatch:
        if (!p.path.empty()) c.watches.emplace(p.path, p.token);  // empty: not parsed
        break;
    case wire::kUnwatch:
        c.watches.erase({p.path, p.token});
        break;
    case wire::kTransactionStart: {
        std::uint32_t tx = 0;
        auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), tx);
        if (ec == std::errc() && tx != 0) c.transactions.insert(tx);
        break;
    }
    default:
        break;
    }
}

// A WATCH or TRANSACTION_START succeeded after its client left: undo it.
void Mux::undo_orphan(ClientId id, const Pending& p, std::string_view payload) {
    if (p.type == wire::kWatch && !p.path.empty()) {
        send_internal(wire::kUnwatch, two_strings(p.path, ring_token(id, p.token)));
    } else if (p.type == wire::kTransactionStart) {
        std::uint32_t tx = 0;
        auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), tx);
        if (ec == std::errc() && tx != 0)
            send_internal(wire::kTransactionEnd, std::string_view("F\0", 2), tx);
    }
}

void Mux::route_event(const wire::Header& h, std::string_view payload) {
    std::string_view path, token, rest;
    if (!split_two(payload, path, token, rest)) return;
    ClientId id = 0;
    std::string_view client_token;
    if (!parse_ring_token(token, id, client_token)) return;
    auto c = clients_.find(id);
    if (c == clients_.end()) return;  // its watches are being removed
    wire::append_message(c->second.out, wire::Header{h.type, h.req_id, h.tx_id, 0},
                         two_strings(path, client_token, rest));
}

}  // namespace xs::fakexen
