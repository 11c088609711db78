#include "tools/client/xs_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xs::client {

namespace {

class UnixChannel final : public Channel {
public:
    explicit UnixChannel(int fd) : fd_(fd) {}
    ~UnixChannel() override { ::close(fd_); }

    bool write_all(std::string_view bytes) override {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN) {
                    pollfd p{fd_, POLLOUT, 0};
                    ::poll(&p, 1, 1000);
                    continue;
                }
                return false;
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    long read_some(char* buf, std::size_t cap, std::chrono::milliseconds timeout) override {
        pollfd p{fd_, POLLIN, 0};
        int r;
        do {
            r = ::poll(&p, 1, static_cast<int>(timeout.count()));
        } while (r < 0 && errno == EINTR);
        if (r == 0) return 0;
        if (r < 0) return -1;
        ssize_t n;
        do {
            n = ::recv(fd_, buf, cap, 0);
        } while (n < 0 && errno == EINTR);
        return n > 0 ? n : -1;
    }

private:
    int fd_;
};

}  // namespace

std::unique_ptr<Channel> unix_channel(int fd) { return std::make_unique<UnixChannel>(fd); }

std::unique_ptr<Channel> connect_unix(const std::string& path, std::string& err) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        err = "socket path too long";
        return nullptr;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = std::strerror(errno);
        return nullptr;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        err = std::strerror(errno);
        ::close(fd);
        return nullptr;
    }
    return unix_channel(fd);
}

std::string Message::error() const {
    if (!is_error()) return {};
    std::string s = payload;
    if (!s.empty() && s.back() == '\0') s.pop_back();
    return s;
}

std::vector<std::string> Message::strings() const {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < payload.size()) {
        std::size_t nul = payload.find('\0', start);
        if (nul == std::string::npos) {
            out.push_back(payload.substr(start));
            break;
        }
        out.push_back(payload.substr(start, nul - start));
        start = nul + 1;
    }
    return out;
}

std::uint32_t Client::send(std::uint32_t type, std::string_view payload, std::uint32_t tx) {
    std::uint32_t id = next_req_++;
    if (next_req_ == 0) next_req_ = 1;
    std::string out;
    wire::append_message(out, wire::Header{type, id, tx, 0}, payload);
    if (!ch_->write_all(out)) closed_ = true;
    return id;
}

std::optional<Message> Client::receive(std::chrono::milliseconds wait) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        if (inbuf_.size() >= wire::kHeaderSize) {
            wire::Header h;
            std::memcpy(&h, inbuf_.data(), sizeof h);
            if (inbuf_.size() >= wire::kHeaderSize + h.len) {
                Message m{h, inbuf_.substr(wire::kHeaderSize, h.len)};
                inbuf_.erase(0, wire::kHeaderSize + h.len);
                return m;
            }
        }
        if (closed_) return std::nullopt;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) return std::nullopt;
        char buf[16384];
        long n = ch_->read_some(buf, sizeof buf, left);
        if (n < 0) {
            closed_ = true;
            continue;  // deliver what is still buffered, then nullopt
        }
        if (n == 0) return std::nullopt;
        inbuf_.append(buf, static_cast<std::size_t>(n));
    }
}

std::optional<Message> Client::wait_reply(std::uint32_t req_id) {
    for (auto it = replies_.begin(); it != replies_.end(); ++it) {
        if (it->header.req_id == req_id) {
            Message m = std::move(*it);
            replies_.erase(it);
            return m;
        }
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) return std::nullopt;
        auto m = receive(left);
        if (!m) return std::nullopt;
        if (m->header.type == wire::kWatchEvent) {
            events_.push_back(std::move(*m));
        } else if (m->header.req_id == req_id) {
            return m;
        } else {
            replies_.push_back(std::move(*m));
        }
    }
}

std::optional<Message> Client::call(std::uint32_t type, std::string_view payload, std::uint32_t tx) {
    return wait_reply(send(type, payload, tx));
}

std::optional<Message> Client::next_event(std::chrono::milliseconds wait) {
    if (!events_.empty()) {
        Message m = std::move(events_.front());
        events_.pop_front();
        return m;
    }
    auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) return std::nullopt;
        auto m = receive(left);
        if (!m) return std::nullopt;
        if (m->header.type == wire::kWatchEvent) return m;
        replies_.push_back(std::move(*m));
    }
}

std::string Client::join(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) {
        s += a;
        s.push_back('\0');
    }
    return s;
}

Result<Message> Client::checked_call(std::uint32_t type, std::string_view payload, std::uint32_t tx) {
    auto m = call(type, payload, tx);
    if (!m) return fail(EIO);
    if (m->is_error()) return fail(wire::error_code(m->error()));
    if (m->header.type != type) return fail(EBADMSG);
    return std::move(*m);
}

static std::string with_nul(std::string_view s) {
    std::string r(s);
    r.push_back('\0');
    return r;
}

static std::string strip_nul(std::string s) {
    if (!s.empty() && s.back() == '\0') s.pop_back();
    return s;
}

Result<std::string> Client::read(std::string_view path, std::uint32_t tx) {
    auto m = checked_call(wire::kRead, with_nul(path), tx);
    if (!m) return fail(m.error());
    return std::move(m->payload);
}

Result<> Client::write(std::string_view path, std::string_view value, std::uint32_t tx) {
    std::string p = with_nul(path);
    p.append(value);
    auto m = checked_call(wire::kWrite, p, tx);
    if (!m) return fail(m.error());
    return {};
}

Result<> Client::mkdir(std::string_view path, std::uint32_t tx) {
    auto m = checked_call(wire::kMkdir, with_nul(path), tx);
    if (!m) return fail(m.error());
    return {};
}

Result<> Client::rm(std::string_view path, std::uint32_t tx) {
    auto m = checked_call(wire::kRm, with_nul(path), tx);
    if (!m) return fail(m.error());
    return {};
}

Result<std::vector<std::string>> Client::directory(std::string_view path, std::uint32_t tx) {
    auto m = checked_call(wire::kDirectory, with_nul(path), tx);
    if (!m) return fail(m.error());
    return m->strings();
}

Result<std::vector<std::string>> Client::get_perms(std::string_view path, std::uint32_t tx) {
    auto m = checked_call(wire::kGetPerms, with_nul(path), tx);
    if (!m) return fail(m.error());
    return m->strings();
}

Result<> Client::set_perms(std::string_view path, const std::vector<std::string>& perms,
                           std::uint32_t tx) {
    std::string p = with_nul(path) + join(perms);
    auto m = checked_call(wire::kSetPerms, p, tx);
    if (!m) return fail(m.error());
    return {};
}

Result<> Client::watch(std::string_view path, std::string_view token, std::optional<unsigned> depth) {
    std::string p = with_nul(path) + with_nul(token);
    if (depth) p += with_nul(std::to_string(*depth));
    auto m = checked_call(wire::kWatch, p, 0);
    if (!m) return fail(m.error());
    return {};
}

Result<> Client::unwatch(std::string_view path, std::string_view token) {
    auto m = checked_call(wire::kUnwatch, with_nul(path) + with_nul(token), 0);
    if (!m) return fail(m.error());
    return {};
}

Result<std::uint32_t> Client::transaction_start() {
    auto m = checked_call(wire::kTransactionStart, std::string_view("\0", 1), 0);
    if (!m) return fail(m.error());
    return static_cast<std::uint32_t>(std::stoul(strip_nul(m->payload)));
}

Result<> Client::transaction_end(std::uint32_t tx, bool commit) {
    auto m = checked_call(wire::kTransactionEnd, commit ? std::string_view("T\0", 2)
                                                        : std::string_view("F\0", 2), tx);
    if (!m) return fail(m.error());
    return {};
}

Result<std::string> Client::control(const std::vector<std::string>& args) {
    return request_string(wire::kControl, args);
}

Result<std::string> Client::request_string(std::uint32_t type, const std::vector<std::string>& args,
                                           std::uint32_t tx) {
    auto m = checked_call(type, join(args), tx);
    if (!m) return fail(m.error());
    return strip_nul(std::move(m->payload));
}

}  // namespace xs::client
