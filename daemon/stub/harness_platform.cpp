// The stub-domain platform on Linux, for the fake-Xen harness: poll(2) over
// the event-channel fds, and "kexec" as fexecve(3) of a memfd holding the
// image, with the migration stream in a second memfd whose number the new
// process finds in XSTORED_STUB_STATE_FD. A MiniOS port replaces this file:
// wait() blocks on the event channels, activate() is kexec(), and
// take_handover() reads what kexec passed on.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "daemon/stub/platform.hpp"

extern char** environ;

namespace xs::daemon::stub {

namespace {

constexpr const char* kStateFdVar = "XSTORED_STUB_STATE_FD";
constexpr std::size_t kMaxImage = 256u << 20;

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// A memfd holding `bytes`, or -1 (errno set).
int memfd_with(const char* name, std::string_view bytes, unsigned flags) {
    int fd = ::memfd_create(name, flags);
    if (fd < 0) return -1;
    if (!write_all(fd, bytes) || ::lseek(fd, 0, SEEK_SET) != 0) {
        int e = errno;
        ::close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

volatile sig_atomic_t g_stop = 0;

void on_stop_signal(int) { g_stop = 1; }

class HarnessPlatform final : public Platform {
public:
    // SIGTERM and SIGINT stay blocked except inside ppoll, so one that
    // arrives between two waits ends the next wait at once.
    HarnessPlatform() {
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        ::sigaction(SIGTERM, &sa, nullptr);
        ::sigaction(SIGINT, &sa, nullptr);
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        ::sigprocmask(SIG_BLOCK, &block, &waiting_mask_);
        sigdelset(&waiting_mask_, SIGTERM);
        sigdelset(&waiting_mask_, SIGINT);
    }

    void wait(std::span<const int> fds, std::optional<Clock::time_point> until, std::vector<bool>& ready) override {
        pfds_.clear();
        for (int fd : fds) pfds_.push_back(pollfd{fd, POLLIN, 0});
        timespec ts{};
        if (until) {
            auto left = std::max(*until - Clock::now(), Clock::duration::zero());
            auto s = std::chrono::duration_cast<std::chrono::seconds>(left);
            ts = {static_cast<time_t>(s.count()),
                  static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(left - s).count())};
        }
        int n = ::ppoll(pfds_.data(), pfds_.size(), until ? &ts : nullptr, &waiting_mask_);
        ready.assign(fds.size(), false);
        for (std::size_t i = 0; n > 0 && i < pfds_.size(); ++i) ready[i] = pfds_[i].revents != 0;
    }

    bool stop_requested() const override { return g_stop != 0; }

    std::size_t max_image() const override { return kMaxImage; }

    std::string activate(std::string_view image, std::string stream, const std::vector<std::string>& args) override {
        int img = memfd_with("xstored-image", image, MFD_CLOEXEC);
        if (img < 0) return std::string("cannot hold the image: ") + std::strerror(errno);
        int st = memfd_with("xstored-state", stream, 0);  // inherited by the new image
        if (st < 0) {
            int e = errno;
            ::close(img);
            return std::string("cannot hold the state: ") + std::strerror(e);
        }
        std::vector<std::string> copy(args);
        std::vector<char*> argv;
        for (std::string& a : copy) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::setenv(kStateFdVar, std::to_string(st).c_str(), 1);
        ::fexecve(img, argv.data(), environ);
        int e = errno;
        ::unsetenv(kStateFdVar);
        ::close(st);
        ::close(img);
        return std::string("the image cannot be started: ") + std::strerror(e);
    }

    std::optional<std::string> take_handover(std::string& why) override {
        const char* var = std::getenv(kStateFdVar);
        if (!var) {
            why = std::string(kStateFdVar) + " is not set: no state was handed over";
            return std::nullopt;
        }
        int fd = std::atoi(var);
        ::unsetenv(kStateFdVar);
        struct stat sb;
        if (fd < 0 || ::fstat(fd, &sb) != 0) {
            why = std::string("the handed-over state (fd ") + var + ") is not open";
            return std::nullopt;
        }
        std::string out(static_cast<std::size_t>(sb.st_size), '\0');
        std::size_t got = 0;
        while (got < out.size()) {
            ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
        ::close(fd);
        if (got != out.size()) {
            why = "the handed-over state cannot be read";
            return std::nullopt;
        }
        return out;
    }

private:
    std::vector<pollfd> pfds_;
    sigset_t waiting_mask_;
};

}  // namespace

std::unique_ptr<Platform> make_harness_platform() { return std::make_unique<HarnessPlatform>(); }

}  // namespace xs::daemon::stub
