#include "bench/sequence.hpp"

#include <charconv>

namespace xs::bench {

namespace {

using namespace std::string_view_literals;

std::string_view path_of(const BootRequest& r) { return std::string_view(r.payload).substr(0, r.payload.find('\0')); }

std::string_view strip_nul(std::string_view s) {
    if (!s.empty() && s.back() == '\0') s.remove_suffix(1);
    return s;
}

}  // namespace

void Sequence::begin(Engine& e, Conn& c, std::vector<BootRequest> reqs, bool tx, std::uint64_t tag) {
    reqs_ = std::move(reqs);
    tx_ = tx;
    tag_ = tag;
    step_ = tx ? -1 : 0;
    active_ = true;
    send(e, c);
}

void Sequence::send(Engine& e, Conn& c) {
    if (step_ < 0) {
        e.send(c, wire::kTransactionStart, 0, {"\0"sv}, tag_);
    } else if (static_cast<std::size_t>(step_) == reqs_.size()) {
        e.send(c, wire::kTransactionEnd, tx_id_, {"T\0"sv}, tag_);
    } else {
        const BootRequest& req = reqs_[static_cast<std::size_t>(step_)];
        e.send(c, req.type, tx_ ? tx_id_ : 0, {req.payload}, tag_);
    }
}

std::string Sequence::pending() const {
    if (!active_) return "nothing";
    if (step_ < 0) return "TRANSACTION_START";
    if (static_cast<std::size_t>(step_) == reqs_.size()) return "TRANSACTION_END";
    const BootRequest& req = reqs_[static_cast<std::size_t>(step_)];
    return std::string(wire::type_name(req.type)) + " " + std::string(path_of(req));
}

Sequence::Step Sequence::on_reply(Engine& e, Conn& c, const Reply& r, SeqCounters& n) {
    if (r.error() == "EAGAIN") ++n.eagain;
    if (step_ < 0) {
        std::string_view id = strip_nul(r.payload);
        auto res = std::from_chars(id.data(), id.data() + id.size(), tx_id_);
        if (r.is_error() || res.ec != std::errc() || res.ptr != id.data() + id.size()) {
            e.fail("TRANSACTION_START: " + std::string(r.is_error() ? r.error() : id.substr(0, 32)));
            return Step::kFailed;
        }
    } else if (static_cast<std::size_t>(step_) == reqs_.size()) {
        if (r.error() == "EAGAIN") {
            step_ = -1;  // the whole transaction again
            send(e, c);
            return Step::kMore;
        }
        if (r.is_error()) {
            e.fail("TRANSACTION_END of " + std::string(path_of(reqs_.front())) + "...: " + std::string(r.error()));
            return Step::kFailed;
        }
        ++n.commits;
        active_ = false;
        return Step::kDone;
    } else {
        const BootRequest& req = reqs_[static_cast<std::size_t>(step_)];
        if (r.is_error() || (req.check && r.payload != req.expect && strip_nul(r.payload) != req.expect)) {
            e.fail(std::string(wire::type_name(req.type)) + " " + std::string(path_of(req)) + ": " +
                   (r.is_error() ? std::string(r.error()) : "'" + std::string(strip_nul(r.payload).substr(0, 64)) + "'"));
            return Step::kFailed;
        }
        last_.assign(strip_nul(r.payload));
    }
    ++step_;
    if (!tx_ && static_cast<std::size_t>(step_) == reqs_.size()) {
        active_ = false;
        return Step::kDone;
    }
    send(e, c);
    return Step::kMore;
}

}  // namespace xs::bench
