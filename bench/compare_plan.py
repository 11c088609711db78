"""What bench/compare.py measures: the jobs (one xstore-bench invocation each,
on a freshly started daemon), their parameters per daemon, how often each
is repeated, and in which placements.

The parameters are the issue's (docs/benchmarks.md): ping with one client;
pipeline with 1, 4, 16, 64 clients x 16 in flight, read-mostly and
write-heavy; boot storm with 16 toolstacks x 30 writes per transaction;
watch fan-out with 0, 1k and 100k unrelated watches; big store with 10k,
100k and 1M nodes; 8 guests over rings; 10, 100 and 1,000 guests booting
(the XenbusState handshake of a vbd, each size on a fresh daemon); live update under load with 100k
and 1M nodes (100 connections, 50 of them guests, 1,000 watches; every
daemon but the echo server, which has no live update). Operation counts (and boot storm
domains) differ per daemon so that every measurement lasts a fraction of a
second to a few seconds.
Expensive measurements of slow daemons are repeated less (the report says
how often each one ran).
"""
from dataclasses import dataclass, field

PLACEMENTS = ["same-cpu", "split"]
CLIENT_CPU = {"same-cpu": 0, "split": 1}
DAEMON_CPU = 0


@dataclass
class Job:
    id: str                # names the measurement group in the data ("pipeline", "bigstore-1m")
    args: list             # xstore-bench workload and its options
    reps: int = 5
    timeout: int = 120     # xstore-bench --timeout: the limit of each measured phase
    placements: list = field(default_factory=lambda: list(PLACEMENTS))
    guests: bool = False   # needs the fake host (--fakexen)
    domains: list = field(default_factory=list)  # fake domains to create first (not for xstore-echo)
    tmpfs: bool = False    # the daemon's run directory (a live update's state file) on a tmpfs, as /run is

    def wall_limit(self):
        """How long the driver lets one invocation run."""
        return 8 * self.timeout + 120


# Per daemon: operations per ping and per pipeline measurement, and boot
# storm domains per toolstack.
FULL_SIZES = {
    "xstore-echo": (100000, 1000000, 32),
    "xstored": (50000, 400000, 32),
    "xenstored": (20000, 50000, 4),
    "oxenstored": (20000, 50000, 8),
}

BOOT_TOOLSTACKS = 16
BOOT_FIRST_DOMID = 1000


def _bootstorm(domains):
    # The domains exist on the fake host before their nodes are written, as
    # a toolstack creates a domain before it writes its xenstore entries
    # (daemons may ask the hypervisor about a domain named in permissions).
    first = BOOT_FIRST_DOMID
    return Job("bootstorm", ["bootstorm", "--toolstacks", str(BOOT_TOOLSTACKS), "--tx-writes", "30",
                             "--devices", "3", "--domains", str(domains), "--first-domid", str(first)],
               domains=[first, first + BOOT_TOOLSTACKS * domains - 1])


def _common(ping_ops, pipe_ops, clients, watches, guest_rounds, domains):
    return [
        Job("ping", ["ping", "--ops", str(ping_ops)]),
        Job("pipeline", ["pipeline", "--clients", clients, "--window", "16", "--mix", "read,write",
                         "--ops", str(pipe_ops)]),
        _bootstorm(domains),
        Job("watch", ["watch", "--watches", watches, "--watch-writes", "2000"]),
        Job("guests", ["guests", "--guests", "8", "--guest-rounds", str(guest_rounds)], guests=True),
    ]


def _bigstore(nodes, reps, timeout=120, writes=2000):
    label = f"{nodes // 1000000}m" if nodes >= 1000000 else f"{nodes // 1000}k"
    return Job(f"bigstore-{label}", ["bigstore", "--nodes", str(nodes), "--children", "10000",
                                     "--listings", "20", "--big-writes", str(writes)],
               reps=reps, timeout=timeout)


LU_CONNS, LU_GUESTS, LU_WATCHES, LU_UPDATES = 100, 50, 1000, 5


def _liveupdate(nodes, reps=1, timeout=120, updates=LU_UPDATES, placements=None):
    """Live updates under load; the updates of one run are its repetitions
    (the record has their median and maximum)."""
    label = f"{nodes // 1000000}m" if nodes >= 1000000 else f"{nodes // 1000}k"
    return Job(f"liveupdate-{label}", ["liveupdate", "--lu-nodes", str(nodes), "--lu-conns", str(LU_CONNS),
                                       "--lu-guests", str(LU_GUESTS), "--lu-watches", str(LU_WATCHES),
                                       "--lu-updates", str(updates)],
               reps=reps, timeout=timeout, guests=True, tmpfs=True,
               placements=list(placements or PLACEMENTS))


def liveupdate_jobs(daemon):
    """Every daemon with a live update. The C daemon's store grows slowly
    and so does its update: at 1M nodes the build takes about 16 minutes
    and one update about 3, so that run has one update, same CPU only."""
    if daemon == "xstore-echo":
        return []
    # At 100k nodes an update takes tens of ms on a VM whose speed drifts
    # by a quarter from minute to minute: three runs, their median.
    if daemon == "xenstored":
        return [_liveupdate(100000, reps=3),
                _liveupdate(1000000, timeout=1800, updates=1, placements=["same-cpu"])]
    return [_liveupdate(100000, reps=3), _liveupdate(1000000, timeout=300)]


GUESTBOOT_SIZES = (10, 100, 1000)
GUESTBOOT_IDLE_MS = 10000


def _guestboot(guests, reps, idle_ms=GUESTBOOT_IDLE_MS, timeout=600):
    """N guests booting over their rings, each size on a fresh daemon
    (the echo server has no rings: its record says unsupported)."""
    return Job(f"guestboot-{guests}", ["guestboot", "--gb-guests", str(guests), "--gb-idle-ms", str(idle_ms),
                                       "--gb-stall", "60"],
               reps=reps, timeout=timeout, guests=True)


def guestboot_jobs(mode):
    if mode == "smoke":
        return [Job("guestboot", ["--smoke", "guestboot", "--gb-guests", "2"], reps=1, timeout=30, guests=True)]
    if mode == "quick":
        return [_guestboot(n, 1, idle_ms=2000) for n in GUESTBOOT_SIZES[:2]]
    # A thousand guests take minutes with the C daemon: once per placement.
    return [_guestboot(n, 3 if n < 1000 else 1) for n in GUESTBOOT_SIZES]


def full_plan(daemon):
    ping_ops, pipe_ops, domains = FULL_SIZES[daemon]
    jobs = _common(ping_ops, pipe_ops, "1,4,16,64", "0,1000", 1000, domains)
    slow = daemon in ("xenstored", "oxenstored")
    watch100k = Job("watch-100k", ["watch", "--watches", "100000", "--watch-writes", "1000"],
                    reps=3 if slow else 5)
    if daemon == "xenstored":
        # About 100 s to register 100k watches (quadratic): once, same CPU.
        watch100k = Job("watch-100k", ["watch", "--watches", "100000", "--watch-writes", "200"],
                        reps=1, timeout=400, placements=["same-cpu"])
    jobs.append(watch100k)
    jobs.append(_bigstore(10000, 5))
    jobs.append(_bigstore(100000, 3 if slow else 5))
    if daemon == "xenstored":
        # It slows down as the store grows: cap the build, report how far it got.
        jobs.append(_bigstore(1000000, 1, timeout=60))
    else:
        jobs.append(_bigstore(1000000, 1 if slow else 3, timeout=300))
    return jobs + guestboot_jobs("full") + liveupdate_jobs(daemon)


def quick_plan(daemon):
    ping_ops, pipe_ops, domains = FULL_SIZES[daemon]
    jobs = _common(max(ping_ops // 5, 2000), max(pipe_ops // 5, 10000), "1,16", "0,1000,10000", 200,
                   max(domains // 4, 2))
    jobs += [_bigstore(10000, 1), _bigstore(100000, 1, timeout=30)]
    jobs += guestboot_jobs("quick")
    jobs += [j for j in liveupdate_jobs(daemon) if j.id == "liveupdate-100k"]
    for j in jobs:
        j.reps = 1
    return jobs


def smoke_plan(daemon):
    """Tiny sizes: checks the driver end to end (the test suite runs this)."""
    jobs = [Job(w, ["--smoke", w], reps=1, timeout=30, guests=(w == "guests"))
            for w in ("ping", "pipeline", "bootstorm", "watch", "bigstore", "guests")]
    jobs[2].domains = [BOOT_FIRST_DOMID, BOOT_FIRST_DOMID + 3]  # --smoke: 2 toolstacks x 2 domains
    jobs += guestboot_jobs("smoke")
    if daemon != "xstore-echo":
        jobs.append(Job("liveupdate", ["--smoke", "liveupdate"], reps=1, timeout=30, guests=True, tmpfs=True))
    return jobs


PLANS = {"full": full_plan, "quick": quick_plan, "smoke": smoke_plan}


def plan(mode, daemon, reps=None, placements=None):
    """The jobs of `daemon` in `mode`; `reps` caps the repetitions, and
    `placements` restricts where they run."""
    jobs = PLANS[mode](daemon)
    for j in jobs:
        if reps is not None:
            j.reps = min(j.reps, reps)
        if placements is not None:
            j.placements = [p for p in j.placements if p in placements]
    return jobs
