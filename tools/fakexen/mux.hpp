// Many xenstore clients over one guest's ring, the way a guest kernel's
// xenbus driver shares its single connection among its processes. Pure
// code: the proxy moves the bytes.
//
// - Each request gets a fresh req_id on the ring; the reply is routed back
//   to its client with the client's own req_id.
// - Watch tokens get a per-client prefix on the way in, which routes
//   WATCH_EVENTs and is stripped on delivery.
// - A request naming a transaction its client did not start is refused
//   (ENOENT) without reaching the daemon.
// - RESET_WATCHES affects only its client: the mux unwatches that client's
//   watches and ends its transactions, then replies OK itself.
// - When a client goes away, its transactions are ended (aborted) and its
//   watches removed, including those whose WATCH reply is still on its way.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "transport/wire.hpp"

namespace xs::fakexen {

class Mux {
public:
    using ClientId = std::uint32_t;  // never 0

    ClientId add_client();
    // Bytes client `id` sent. False when it broke the framing (oversized
    // message): the caller drops it with remove_client().
    bool from_client(ClientId id, std::string_view bytes);
    // Client `id` disconnected; queue the clean-up on the ring.
    void remove_client(ClientId id);
    // Bytes the daemon wrote to the response ring. False when they cannot be
    // framed (the connection is unusable).
    bool from_ring(std::string_view bytes);

    // Bytes for the request ring, whole messages in order. The caller
    // erases from the front what it managed to write.
    std::string& ring_out() { return ring_out_; }
    // Bytes for client `id` (nullptr if unknown); the caller erases what it sent.
    std::string* client_out(ClientId id);
    std::vector<ClientId> clients() const;
    std::size_t in_flight() const { return pending_.size(); }

    // The token a client's watch has on the ring.
    static std::string ring_token(ClientId id, std::string_view token);

private:
    struct ClientState {
        wire::Framer framer;
        std::string out;
        std::set<std::pair<std::string, std::string>> watches;  // (path, client's token)
        std::set<std::uint32_t> transactions;
    };
    struct Pending {
        ClientId client;  // 0: the mux's own clean-up request
        std::uint32_t req_id;
        std::uint32_t type;
        std::uint32_t tx_id;
        std::string path, token;  // WATCH / UNWATCH
    };

    void handle_request(ClientId id, ClientState& c, const wire::Header& h, std::string_view payload);
    void handle_reply(const wire::Header& h, std::string_view payload);
    void route_event(const wire::Header& h, std::string_view payload);
    void record_success(ClientState& c, const Pending& p, std::string_view payload);
    void undo_orphan(ClientId id, const Pending& p, std::string_view payload);
    void forward(const Pending& p, const wire::Header& h, std::string_view payload);
    void send_internal(std::uint32_t type, std::string_view payload, std::uint32_t tx = 0);
    void reset_client(ClientId id, ClientState& c);

    std::map<ClientId, ClientState> clients_;
    std::unordered_map<std::uint32_t, Pending> pending_;
    wire::Framer ring_framer_;
    std::string ring_out_;
    std::uint32_t next_req_ = 1;
    ClientId next_client_ = 1;
};

}  // namespace xs::fakexen
