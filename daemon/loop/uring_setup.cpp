#include "daemon/loop/uring_setup.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include "daemon/loop/fd_util.hpp"
#include "daemon/loop/options.hpp"
#include "daemon/loop/tag.hpp"

namespace xs::daemon::loop {

namespace {

unsigned completion_entries(const LoopOptions& opts) {
    // Multishot receives post one completion per chunk; room for every
    // provided buffer plus the other operations avoids overflow in the
    // common case (the kernel keeps overflowed completions anyway).
    unsigned want = 4 * opts.queue_depth;
    if (want < 2 * opts.recv_buffers + 64) want = 2 * opts.recv_buffers + 64;
    return want > 2 * kMaxRecvBuffers ? 2 * kMaxRecvBuffers : want;
}

// Setup flags for each TaskRun mode, in its order.
constexpr unsigned kSetupModes[] = {
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
        IORING_SETUP_TASKRUN_FLAG,
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
    0,
};

}  // namespace

std::optional<std::string> create_ring(io_uring& ring, const LoopOptions& opts, TaskRun best) {
    int r = -EINVAL;
    for (auto m = static_cast<std::size_t>(best); m < std::size(kSetupModes); ++m) {
        io_uring_params p{};
        p.flags = kSetupModes[m] | IORING_SETUP_CQSIZE;
        p.cq_entries = completion_entries(opts);
        r = io_uring_queue_init_params(opts.queue_depth, &ring, &p);
        if (r == 0) return std::nullopt;
        if (r != -EINVAL) break;  // EINVAL: an unknown flag; anything else is final
    }
    return std::string("io_uring_queue_init failed: ") + std::strerror(-r) +
           (r == -EPERM || r == -ENOSYS ? " (io_uring disabled by sysctl or seccomp?)" : "");
}

TaskRun task_run_of(const io_uring& ring) {
    if (ring.flags & IORING_SETUP_DEFER_TASKRUN) return TaskRun::deferred;
    if (ring.flags & IORING_SETUP_COOP_TASKRUN) return TaskRun::cooperative;
    return TaskRun::plain;
}

std::optional<std::string> check_ring_features(const io_uring& ring) {
    if (!(ring.features & IORING_FEAT_EXT_ARG))
        return std::string("io_uring lacks IORING_FEAT_EXT_ARG (Linux 5.11 or later needed)");
    if (!(ring.features & IORING_FEAT_NODROP))
        return std::string("io_uring lacks IORING_FEAT_NODROP (Linux 5.5 or later needed)");
    return std::nullopt;
}

namespace {

struct ProbeState {
    bool answered = false;  // the first completion arrived
    bool more = false;      // ... and announced further completions
    int first_res = 0;
    bool finished = false;  // the final completion arrived
};

void collect_probe(io_uring& ring, ProvidedBuffers& buffers, ProbeState& st) {
    io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
        ++seen;
        if (decode(cqe->user_data).kind != Kind::probe) continue;
        if (cqe->flags & IORING_CQE_F_BUFFER)
            buffers.give_back(static_cast<std::uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
        if (!st.answered) {
            st.answered = true;
            st.first_res = cqe->res;
            st.more = cqe->flags & IORING_CQE_F_MORE;
        }
        if (!(cqe->flags & IORING_CQE_F_MORE)) st.finished = true;
    }
    io_uring_cq_advance(&ring, seen);
}

// Waits (at most two seconds per completion) until `done` holds.
template <class Pred>
bool wait_probe(io_uring& ring, ProvidedBuffers& buffers, ProbeState& st, Pred done) {
    for (int tries = 0; tries < 4 && !done(); ++tries) {
        __kernel_timespec ts{.tv_sec = 2, .tv_nsec = 0};
        io_uring_cqe* cqe;
        int r = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, nullptr);
        if (r < 0 && r != -ETIME && r != -EINTR) return false;
        collect_probe(ring, buffers, st);
    }
    return done();
}

std::optional<std::string> run_probe(io_uring& ring, ProvidedBuffers& buffers, const int sv[2]) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv_multishot(sqe, sv[0], nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffers.group();
    io_uring_sqe_set_data64(sqe, encode(Tag{Kind::probe, 0, 0}));
    ProbeState st;
    if (::write(sv[1], "x", 1) != 1 || !wait_probe(ring, buffers, st, [&] { return st.answered; }))
        return std::string("io_uring probe got no completion");
    ::shutdown(sv[1], SHUT_WR);  // ends a multishot receive that is still armed
    if (!wait_probe(ring, buffers, st, [&] { return st.finished; }))
        return std::string("io_uring probe did not finish");
    if (st.first_res < 0)
        return std::string("multishot receive unavailable (Linux 6.0 or later needed): ") +
               std::strerror(-st.first_res);
    if (st.first_res != 1 || !st.more)
        return std::string("multishot receive unavailable (Linux 6.0 or later needed)");
    return std::nullopt;
}

}  // namespace

std::optional<std::string> probe_multishot_recv(io_uring& ring, ProvidedBuffers& buffers) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        return std::string("io_uring probe: socketpair failed: ") + std::strerror(errno);
    auto why = run_probe(ring, buffers, sv);
    close_fd(sv[0]);
    close_fd(sv[1]);
    return why;
}

}  // namespace xs::daemon::loop
