#include "bench/batch.hpp"

namespace xs::bench {

namespace {

class BatchDriver final : public Driver {
public:
    BatchDriver(std::uint64_t count, const std::function<BatchRequest(std::uint64_t)>& make,
                const std::function<bool(std::string_view)>& allow)
        : count_(count), make_(make), allow_(allow) {}

    void start(Engine& e) override {
        t0_ = e.now();
        for (auto& c : e.conns()) pump(e, *c);
    }

    void pump(Engine& e, Conn& c) override {
        while (c.can_send() && sent_ < count_) {
            BatchRequest r = make_(sent_);
            e.send(c, r.type, 0, {r.payload}, sent_);
            ++sent_;
        }
    }

    void on_reply(Engine& e, Conn&, const Reply& r) override {
        if (r.is_error() && !(allow_ && allow_(r.error()))) {
            e.fail(std::string(wire::type_name(r.request_type)) + " #" + std::to_string(r.tag) + ": " +
                   std::string(r.error()));
            return;
        }
        result_.latency.record(r.latency_ns);
        if (++result_.ops == count_) result_.elapsed_ns = e.now() - t0_;
    }

    void on_event(Engine&, Conn&, const Event&) override { ++result_.events; }

    bool finished() const override { return result_.ops == count_; }

    BatchResult take() { return std::move(result_); }
    // What was done by `now_ns` (the batch did not finish).
    BatchResult take_partial(std::uint64_t now_ns) {
        result_.elapsed_ns = now_ns - t0_;
        return std::move(result_);
    }

private:
    std::uint64_t count_;
    const std::function<BatchRequest(std::uint64_t)>& make_;
    const std::function<bool(std::string_view)>& allow_;
    std::uint64_t sent_ = 0;
    std::uint64_t t0_ = 0;
    BatchResult result_;
};

class EventWaiter final : public Driver {
public:
    EventWaiter(std::uint64_t want, std::uint64_t& seen) : want_(want), seen_(seen) {}
    void start(Engine&) override {}
    void on_reply(Engine& e, Conn&, const Reply&) override { e.fail("unexpected reply while waiting for events"); }
    void on_event(Engine&, Conn&, const Event&) override { ++seen_; }
    bool finished() const override { return seen_ >= want_; }

private:
    std::uint64_t want_;
    std::uint64_t& seen_;
};

class OneCall final : public Driver {
public:
    OneCall(Conn& conn, std::uint32_t type, std::uint32_t tx, std::string payload)
        : conn_(conn), type_(type), tx_(tx), payload_(std::move(payload)) {}
    void start(Engine& e) override { e.send(conn_, type_, tx_, {payload_}); }
    void on_reply(Engine&, Conn&, const Reply& r) override {
        done_ = true;
        error_ = r.error();
        reply_ = r.payload;
    }
    bool finished() const override { return done_; }
    Checked<std::string> result() const {
        if (!error_.empty())
            return failed(std::string(wire::type_name(type_)) + " " + payload_.substr(0, payload_.find('\0')) + ": " +
                          error_);
        return reply_;
    }

private:
    Conn& conn_;
    std::uint32_t type_, tx_;
    std::string payload_, reply_, error_;
    bool done_ = false;
};

}  // namespace

Checked<std::string> call(Engine& engine, Conn& conn, std::uint32_t type, std::uint32_t tx, std::string payload,
                          std::uint64_t deadline_ns) {
    OneCall c(conn, type, tx, std::move(payload));
    if (auto r = engine.run(c, deadline_ns); !r) return unexpected(r.error());
    return c.result();
}

Checked<BatchResult> run_batch(Engine& engine, std::uint64_t count,
                               const std::function<BatchRequest(std::uint64_t)>& make, std::uint64_t deadline_ns,
                               const std::function<bool(std::string_view)>& allow_error, BatchResult* partial) {
    BatchDriver d(count, make, allow_error);
    auto r = engine.run(d, deadline_ns);
    if (!r) {
        if (partial) *partial = d.take_partial(engine.refresh_now());
        return unexpected(r.error());
    }
    return d.take();
}

Checked<> run_until_events(Engine& engine, std::uint64_t want, std::uint64_t& seen, std::uint64_t deadline_ns) {
    EventWaiter w(want, seen);
    return engine.run(w, deadline_ns);
}

}  // namespace xs::bench
