// The daemon: connections, request dispatch, watch delivery and accounting,
// driven by the event loop. Single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "daemon/args.hpp"
#include "daemon/config/options.hpp"
#include "daemon/config/ratelimit.hpp"
#include "daemon/connection.hpp"
#include "daemon/domains.hpp"
#include "daemon/image_update.hpp"
#include "daemon/live_update.hpp"
#include "daemon/stats.hpp"
#include "daemon/loop/loop.hpp"
#include "daemon/watch/registry.hpp"
#include "migration/state.hpp"
#include "quota/quota.hpp"
#include "store/store.hpp"
#include "transport/hypervisor.hpp"

namespace xs::daemon {

// One request being handled.
struct Request {
    Connection& conn;
    wire::Header hdr;
    std::string_view payload;
    store::Transaction* tx;  // the request's transaction, if any
    std::string& out;        // reply payload, filled by the handler
    bool replied = false;    // the handler queued its reply itself
};

class Daemon final : public LoopClient {
public:
    Daemon(const Config& cfg, EventLoop& loop);
    ~Daemon() override;

    // ---- LoopClient ----
    ConnId on_accept(int listener_fd, int fd) override;
    void on_receive(ConnId id, std::span<const char> bytes) override;
    void on_hangup(ConnId id) override;
    void on_sent(ConnId id, std::size_t n) override;
    void on_readable(int token) override;
    void on_turn_end() override;

    void watch_signals(int signal_fd);
    // Serve guest domains through this hypervisor connection.
    void attach_hypervisor(std::unique_ptr<transport::Hypervisor> hv);
    // The store domain's own ring (the page and port files of the config).
    Result<> introduce_store_domain();
    // The listening socket, kept across a live update.
    void set_listener(int fd) { listener_fd_ = fd; }
    // The new process of a live update: everything the old daemon had,
    // from its state (attach the hypervisor first). `rolled_back`: this is
    // the previous binary again, because the new one could not take over;
    // the held request is answered with that reason.
    void restore(migration::State state, const std::optional<std::string>& rolled_back = std::nullopt);
    // The service's status for systemd ("serving 5 connections, ...").
    std::string status_line();

    // ---- the stub-domain build (stub_domain.cpp, update_image.cpp) ----
    // Live update by image chunks (-b, -d) handed to `u` instead of a binary
    // path and exec (-f is refused), and no files (CONTROL logfile, memreport
    // to a file are refused).
    void use_image_update(ImageUpdate& u) { image_update_ = &u; }
    // A fresh stub domain: dom0's ring, every other running domain whose
    // ring page names its event channel (dom0less), and
    // /tool/xenstored/domid (xenstore-control then speaks the chunked
    // protocol). Attach the hypervisor first. Returns the domains connected.
    std::vector<DomId> start_stub_domain();

    // ---- what a live update carries, and a canonical text of everything
    // the daemon holds (tests and the live-update fuzzer compare a daemon
    // with the one restored from its stream: state_export.cpp, state_dump.cpp) ----
    migration::State export_state(std::uint32_t version);
    std::string dump_state();
    // What CONTROL check finds wrong ("" when the tree and the accounts are
    // consistent), without repairing it (control.cpp; the fuzzers ask after
    // every step).
    std::string check_consistency() { return find_problems(false); }

private:
    using Handler = Result<> (Daemon::*)(Request&);
    struct HandlerInfo {
        Handler fn = nullptr;
        bool privileged = false;  // only privileged connections may send it
        bool no_tx = false;       // ignores the header's tx_id
    };
    static const HandlerInfo kHandlers[wire::kTypeCount];

    // ---- connections (connection.cpp / daemon.cpp) ----
    Connection* find(ConnId id);
    Connection& add_connection(Connection::Kind kind, DomId domid, bool privileged);
    void close(Connection& c);  // deferred destruction at the end of the turn
    void drop_state(Connection& c);
    void process_input(Connection& c);
    void dispatch(Connection& c, const wire::Header& hdr, std::string_view payload);
    void send_reply(Connection& c, const wire::Header& hdr, std::uint32_t type, std::string_view payload);
    void send_error(Connection& c, const wire::Header& hdr, int code);
    void mark_dirty(Connection& c);
    void flush(Connection& c);
    void message_left(Connection& c, const OutMsg& m);  // sent or dropped
    void update_flow(Connection& c);
    bool input_blocked(const Connection& c);
    void expire_events();

    // ---- guest rings (ring_io.cpp) ----
    // How long one turn spends on each kind of guest work: reading and
    // answering rings, writing their output, taking event-channel kicks.
    // A turn does at least one piece of each and leaves the rest, in order,
    // to the next turn, which starts at once; dom0's sockets are read at
    // every turn's start and answered before its guest work. So a toolstack
    // request waits for at most about three slices of guest work, however
    // busy a hundred guests keep the daemon.
    static constexpr auto kGuestSlice = std::chrono::microseconds(50);
    void schedule_ring(Connection& c);
    void service_ring(Connection& c);
    void send_socket_replies_first();
    void service_rings();
    void flush_ring(Connection& c);
    void flush_dirty();
    void reset_ring(Connection& c, bool handshake);
    void ignore(Connection& c, std::uint32_t reason);

    // ---- watches (events.cpp) ----
    void apply(const store::Effects& e, const Connection& source);
    // Rebase the transactions whose snapshots keep too much alive (handle_tx.cpp).
    void unpin_transactions();
    void note_pin(const store::Transaction& t);
    void fire(const store::Change& ch, const Connection* source);
    void deliver(const watch::Watch& w, std::string_view event_path, const store::PermList* before,
                 const store::PermList* after, const store::PermList* parent, const Connection* source);
    bool queue_event(Connection& c, std::string_view event, Clock::time_point deadline, DomId src);
    void fire_special(std::string_view name, DomId domid);
    void fire_special_plain(std::string_view name);
    void fire_special_numbered(std::string_view name, DomId domid);

    // ---- accounting (accounting.cpp) ----
    Domain* charged(const Connection& c);
    void account(const store::Deltas& d);
    store::Budget budget(const Connection& c, const store::Transaction* tx = nullptr);
    std::uint32_t limit(const Connection& c, quota::Item item) const;
    bool exempt(const Connection& c) const { return c.privileged(); }
    void charge_memory(const Connection& c, std::int64_t bytes);
    void charge_write(const Connection& c);

    // ---- request helpers (handle_node.cpp) ----
    Result<std::string_view> canonical(Request& r, std::string_view raw, bool special);
    store::OpContext context(const Connection& c, const store::Transaction* tx = nullptr);
    Result<const store::Node*> fetch(Request& r, std::string_view path, std::uint8_t need, store::ReadKind kind);
    Result<const store::Node*> fetch_arg(Request& r, bool special, store::ReadKind kind);
    template <class TreeOp, class TxOp>
    Result<> change(Request& r, TreeOp tree_op, TxOp tx_op);
    template <class TreeOp, class TxOp>
    Result<> path_change(Request& r, TreeOp tree_op, TxOp tx_op);

    // ---- handlers ----
    Result<> on_read(Request& r);
    Result<> on_write(Request& r);
    Result<> on_mkdir(Request& r);
    Result<> on_rm(Request& r);
    Result<> on_directory(Request& r);
    Result<> on_directory_part(Request& r);
    Result<> on_get_perms(Request& r);
    Result<> on_set_perms(Request& r);
    Result<> on_watch(Request& r);
    Result<> on_unwatch(Request& r);
    Result<> on_reset_watches(Request& r);
    Result<> on_transaction_start(Request& r);
    Result<> on_transaction_end(Request& r);
    Result<> on_get_domain_path(Request& r);
    Result<> on_is_domain_introduced(Request& r);
    Result<> on_introduce(Request& r);
    Result<> on_release(Request& r);
    Result<> on_resume(Request& r);
    Result<> on_set_target(Request& r);
    Result<> on_get_feature(Request& r);
    Result<> on_set_feature(Request& r);
    Result<> on_get_quota(Request& r);
    Result<> on_set_quota(Request& r);
    Result<> on_control(Request& r);

    // ---- domains (domain.cpp) ----
    DomId store_domid() const { return cfg_.master_domid.value_or(priv_domid_); }
    Result<> introduce_domain(DomId domid, std::uint32_t port);
    void destroy_domain(DomId domid);
    void check_domains();
    void on_event_channel();
    Domain* known_domain(DomId id);  // existing record, or one for a live domain
    bool perm_domain_valid(DomId id, const Connection& caller);

    // ---- live update (live_update.cpp, update_exec.cpp) ----
    Result<> control_live_update(Request& r, const Strings& args);
    Result<> control_stream_version(Request& r, const Strings& args);
    std::string lu_set_binary(const Connection& c, std::string_view file);
    Result<> lu_start(Request& r, const Strings& args);
    std::string lu_abort();
    std::optional<Clock::time_point> lu_step();
    void lu_quiesce();
    void lu_finish(std::string_view reply);
    void lu_end();
    void lu_resume_input();
    bool lu_transactions_allow() const;
    std::string lu_transactions_reason() const;
    bool updating() const { return lu_ && lu_->phase == LiveUpdateSession::Phase::Quiescing; }
    bool holds_transaction_start(const Connection& c) const;
    std::string lu_exec();
    std::string lu_begin_image(const Connection& c, std::string_view size);
    std::string lu_save_chunk(const Connection& c, std::string_view payload);
    std::string lu_exec_image();
    void lu_drain_input();
    Expected<std::string, std::string> write_state_file();
    std::size_t state_size_hint() const;
    std::string state_path() const;
    // ---- the state a live update carries (state_export.cpp, state_import.cpp) ----
    migration::Connection export_connection(const Connection& c);
    migration::Domain export_domain(const Domain& d);
    void restore_connection(migration::Connection& mc, const migration::State& st);
    void restore_ring(Connection& c, const migration::Connection& mc);
    void restore_domain(const migration::Domain& md, std::uint32_t version);
    void recount_usage(const store::Deltas& tree_tally);

    // ---- CONTROL (control.cpp) ----
    Result<> control_check(Request& r);
    std::string find_problems(bool repair);
    Result<> control_log(Request& r, const Strings& args);
    Result<> control_quota(Request& r, const Strings& args, bool soft);
    std::string memory_report();

    // ---- stats, quota log lines, systemd status (control_stats.cpp); SIGHUP (reload.cpp) ----
    Result<> control_stats(Request& r, const Strings& args);
    StatsSnapshot stats_snapshot();
    void fold_requests();
    void note_result(const Connection& c, const wire::Header& hdr, const Result<>& res);
    void check_soft_memory(const Connection& c);
    std::optional<Clock::time_point> notify_turn();
    void reload();
    struct StatusKey {
        bool updating = false;
        std::size_t conns = 0, domains = 0;
        friend bool operator==(const StatusKey&, const StatusKey&) = default;
    };
    struct StatusSent {
        StatusKey key;
        Clock::time_point sent{};
    };

    Config cfg_;
    EventLoop& loop_;
    DomId priv_domid_;
    store::Store store_;
    watch::Registry watches_;
    quota::Table quotas_;
    quota::Usage global_max_;
    Domains domains_;
    std::unordered_map<ConnId, std::unique_ptr<Connection>> conns_;
    ConnId next_id_ = 1;
    std::vector<ConnId> dirty_;
    std::vector<ConnId> closing_;
    std::vector<ConnId> to_service_;  // rings with input to read this turn
    std::vector<ConnId> paused_;      // rings waiting on flow control
    std::string reply_buf_;
    std::string path_buf_;
    std::string event_buf_;
    int signal_fd_ = -1;
    std::unique_ptr<transport::Hypervisor> hv_;
    std::unordered_map<std::uint32_t, ConnId> by_port_;  // local event channel -> ring connection
    std::uint32_t virq_port_ = ~0u;
    static constexpr int kSignalToken = 1;
    static constexpr int kEventToken = 2;
    bool stopping_ = false;
    Clock::time_point next_deadline_{};  // earliest watch-event deadline, or zero
    Clock::time_point credit_wake_{};    // earliest end of a guest's write-rate debt, or zero
    std::size_t open_transactions_ = 0;  // in the whole daemon (the write-rate limit applies then)
    // Transactions are looked at again when the committed tree's superseded
    // count passes this (the smallest mark + --transaction-pin).
    std::uint64_t next_unpin_ = 0;
    std::uint64_t tx_rebases_ = 0;
    log::RateLimiter limiter_;
    std::optional<LiveUpdateSession> lu_;
    int listener_fd_ = -1;
    bool resume_input_ = false;       // a live update ended without exec: serve held input
    std::uint64_t live_updates_ = 0;  // updates this store went through
    std::uint32_t lu_stream_version_;  // what an update writes unless -s -v says
    Counters stats_;                   // CONTROL stats
    log::RateLimiter quota_log_, soft_log_;
    StatusSent status_;
    ImageUpdate* image_update_ = nullptr;  // the stub-domain build's live update
};

}  // namespace xs::daemon
