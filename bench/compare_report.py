#!/usr/bin/env python3
"""Turns the JSON lines bench/compare.py collected into docs/performance.md:
the machine and the command, the issue's targets (met or not, by how much),
side-by-side comparison tables with ratios, and every number.

  compare_report.py --data DIR --out FILE    re-render from kept data

Every figure is the median over the repetitions whose status was ok; a
measurement a daemon could not make shows why instead of a number.
"""
import argparse
import json
import os
import statistics
import sys

DAEMON_ORDER = ["xstore-echo", "xstored", "xenstored", "oxenstored"]
DAEMON_TITLE = {"xstore-echo": "echo", "xstored": "xstored", "xenstored": "C xenstored",
                "oxenstored": "oxenstored"}
PLACEMENT_ORDER = ["same-cpu", "split"]
WORKLOAD_ORDER = ["ping", "pipeline", "bootstorm", "watch", "bigstore", "guests", "guestboot", "liveupdate"]
BIGSTORE_PHASES = ["build", "directory", "directory_part", "write_big", "write_small", "commit"]

RESULTS_FILE = "results.jsonl"
RUN_FILE = "run.json"
APPENDIX_FILE = "resource-bounds.md"
GUESTBOOT_NOTES_FILE = "guestboot-notes.md"  # the profile behind the guest figures, written by hand
WRITE_PATH_NOTES_FILE = "write-path-notes.md"  # the write path's profiles and changes, written by hand


# ---------------------------------------------------------------- numbers

def fmt(v, unit=""):
    """Compact human form: 4312345 -> 4.31M, 12.345 -> 12.3, 0.00123 -> 0.00123."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    a = abs(v)
    if a >= 1e9:
        s = f"{v / 1e9:.3g}G"
    elif a >= 1e6:
        s = f"{v / 1e6:.3g}M"
    elif a >= 1e4:
        s = f"{v / 1e3:.3g}k"
    elif a >= 100 or v == int(v):
        s = f"{v:.0f}"
    else:
        s = f"{v:.3g}"
    return s + unit


def fmt_ratio(v):
    if v is None:
        return "-"
    return f"{v:.2f}×" if v < 100 else f"{v:.0f}×"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------- records

def sort_key(rec):
    w = rec["workload"]
    wi = WORKLOAD_ORDER.index(w) if w in WORKLOAD_ORDER else len(WORKLOAD_ORDER)
    p = rec.get("params", {})
    return (wi, p.get("mix", ""), p.get("nodes", 0), p.get("guests", 0), BIGSTORE_PHASES.index(p["phase"]) if "phase" in p else 0,
            p.get("clients", 0), p.get("watches", 0), rec["variant"])


class Cell:
    """Every repetition of one measurement of one daemon in one placement."""

    def __init__(self, records):
        self.records = records
        self.ok = [r for r in records if r["status"] == "ok"]

    @property
    def first(self):
        return self.records[0]

    def get(self, name):
        """The median of a field over the ok repetitions, or None."""
        if not self.ok:
            return None
        return median([field(r, name) for r in self.ok])

    def spread(self, name):
        vals = [field(r, name) for r in self.ok]
        vals = [v for v in vals if v is not None]
        return (min(vals), max(vals)) if vals else None

    def failure(self):
        """Why there is no number, or None when there is one."""
        if self.ok:
            return None
        r = self.first
        reason = " ".join((r.get("error") or "").split())
        if len(reason) > 120:
            reason = reason[:117] + "..."
        if r["status"] == "timeout" and r["params"].get("phase") == "build" and r.get("nodes"):
            return f"timeout: {fmt(r['nodes'])} nodes in {fmt(r['seconds'])} s"
        return f"{r['status']}: {reason}" if reason else r["status"]

    def reps(self):
        return f"{len(self.ok)}/{len(self.records)}"


def field(rec, name):
    if name == "ops_per_s":
        return rec.get("ops_per_s") if rec.get("seconds") else None
    if name == "mean_us":
        return rec["seconds"] / rec["ops"] * 1e6 if rec.get("ops") else None
    if name == "daemon_us_per_op":
        cpu = rec.get("daemon_cpu_s")
        return cpu / rec["ops"] * 1e6 if cpu is not None and rec.get("ops") else None
    if name == "rss_anon_after_mib":
        v = rec.get("rss_anon_after_kib")
        return v / 1024 if v is not None else None
    if name == "peak_rss_mib":
        v = rec.get("daemon_peak_rss_kib")
        return v / 1024 if v is not None else None
    return rec.get(name)


class Results:
    """The records grouped by daemon, placement, workload and variant."""

    def __init__(self, records):
        self.records = records
        groups = {}
        for r in records:
            groups.setdefault((r["daemon"], r["placement"], r["workload"], r["variant"]), []).append(r)
        self.cells = {k: Cell(v) for k, v in groups.items()}
        self.daemons = [d for d in DAEMON_ORDER if any(k[0] == d for k in self.cells)]
        self.daemons += sorted({k[0] for k in self.cells} - set(self.daemons))
        self.placements = [p for p in PLACEMENT_ORDER if any(k[1] == p for k in self.cells)]
        self.placements += sorted({k[1] for k in self.cells} - set(self.placements))

    def cell(self, daemon, placement, workload, variant):
        return self.cells.get((daemon, placement, workload, variant))

    def variants(self, placement=None):
        """(workload, variant) pairs in report order, with a sample record."""
        seen = {}
        for (d, p, w, v), c in self.cells.items():
            if placement is None or p == placement:
                seen.setdefault((w, v), c.first)
        return sorted(seen.items(), key=lambda kv: sort_key(kv[1]))

    def value(self, daemon, placement, workload, variant, name):
        c = self.cell(daemon, placement, workload, variant)
        return c.get(name) if c else None


# ---------------------------------------------------------------- tables

def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


# Per workload (and big-store phase): the metrics compared, with the
# direction that is better ("up": higher, "down": lower).
def metrics_of(rec):
    w = rec["workload"]
    phase = rec["params"].get("phase")
    if w in ("ping", "pipeline"):
        return [("ops/s", "ops_per_s", "up"), ("p50 µs", "p50_us", "down"), ("p99 µs", "p99_us", "down"),
                ("daemon CPU µs/op", "daemon_us_per_op", "down")]
    if w == "bootstorm":
        return [("domains/s", "ops_per_s", "up"), ("EAGAIN per tx", "eagain_retries_per_tx", "down"),
                ("worst domain ms", "worst_domain_ms", "down")]
    if w == "watch":
        return [("registration s", "registration_s", "down"), ("write p50 µs", "p50_us", "down"),
                ("event p50 µs", "event_p50_us", "down")]
    if w == "bigstore" and phase == "build":
        return [("build s", "build_s", "down"), ("writes/s", "ops_per_s", "up"),
                ("heap (RssAnon) after MiB", "rss_anon_after_mib", "down"),
                ("bytes/node", "rss_per_node_bytes", "down")]
    if w == "bigstore" and phase in ("directory", "directory_part"):
        return [("listing p50 µs", "p50_us", "down")]
    if w == "bigstore":
        return [("write p50 µs", "p50_us", "down"), ("p99 µs", "p99_us", "down")]
    if w == "guests":
        return [("ops/s", "ops_per_s", "up"), ("p50 µs", "p50_us", "down"), ("event p50 µs", "event_p50_us", "down"),
                ("daemon CPU µs/op", "daemon_us_per_op", "down")]
    if w == "guestboot" and rec["variant"].startswith("boot"):
        return [("domains/s", "ops_per_s", "up"), ("guest request p50 µs", "p50_us", "down"),
                ("guest request p99 µs", "p99_us", "down")]
    if w == "guestboot" and rec["variant"].startswith("requests"):
        return [("daemon CPU µs/op (ring)", "daemon_us_per_op", "down"),
                ("daemon CPU µs/op (socket)", "socket_cpu_per_request_us", "down")]
    if w == "liveupdate":
        return [("downtime max ms", "gap_max_ms", "down"), ("downtime median ms", "gap_p50_ms", "down"),
                ("-s to OK ms", "s_to_ok_ms", "down")]
    return [("ops/s", "ops_per_s", "up")]


def trivial(res, placement, w, v, name):
    """Every daemon measured 0 (registering no watches takes no time)."""
    cells = [res.cell(d, placement, w, v) for d in res.daemons]
    cells = [c for c in cells if c is not None]
    return all(c.ok and c.get(name) == 0 for c in cells)


def missing_reason(res, daemon, placement, sample):
    """Why a daemon has no measurement that others have."""
    phase = sample["params"].get("phase")
    if sample["workload"] == "liveupdate" and daemon == "xstore-echo":
        return "-"
    if sample["workload"] == "bigstore" and phase != "build":
        build = res.cell(daemon, placement, "bigstore", f"n={sample['params'].get('nodes')} build")
        if build is not None and build.failure():
            return "skipped: the build did not finish"
    return "not run"


def comparison_table(res, placement):
    others = [d for d in res.daemons if d != "xstored"]
    header = ["measurement", "metric"] + [DAEMON_TITLE.get(d, d) for d in res.daemons]
    header += [f"xstored / {DAEMON_TITLE.get(d, d)}" for d in others]
    rows = []
    for (w, v), sample in res.variants(placement):
        for title, name, better in metrics_of(sample):
            if trivial(res, placement, w, v, name):
                continue
            row = [f"{w} {v}", f"{title} {'↑' if better == 'up' else '↓'}"]
            vals = {}
            for d in res.daemons:
                c = res.cell(d, placement, w, v)
                if c is None:
                    row.append(missing_reason(res, d, placement, sample))
                    continue
                why = c.failure()
                vals[d] = c.get(name)
                row.append(why if why else fmt(vals[d]))
            xs = vals.get("xstored")
            for d in others:
                o = vals.get(d)
                row.append(fmt_ratio(xs / o) if xs is not None and o else "-")
            rows.append(row)
    return table(header, rows)


def detail_table(res, daemon, placement):
    header = ["workload", "variant", "reps ok", "ops", "ops/s (min–max)", "p50 µs", "p99 µs", "p99.9 µs",
              "daemon CPU s", "peak RSS MiB", "notes"]
    rows = []
    for (w, v), _ in res.variants(placement):
        c = res.cell(daemon, placement, w, v)
        if c is None:
            continue
        why = c.failure()
        if why:
            rows.append([w, v, c.reps(), "-", "-", "-", "-", "-", "-", "-", why])
            continue
        sp = c.spread("ops_per_s")
        rate = fmt(c.get("ops_per_s"))
        if sp and len(c.ok) > 1:
            rate += f" ({fmt(sp[0])}–{fmt(sp[1])})"
        rows.append([w, v, c.reps(), fmt(c.get("ops")), rate, fmt(c.get("p50_us")), fmt(c.get("p99_us")),
                     fmt(c.get("p999_us")), fmt(c.get("daemon_cpu_s")), fmt(c.get("peak_rss_mib")),
                     extras(c)])
    return table(header, rows)


EXTRA_SKIP = {"workload", "variant", "params", "daemon", "placement", "status", "error", "ops", "seconds",
              "ops_per_s", "p50_us", "p99_us", "p999_us", "daemon_cpu_s", "daemon_peak_rss_kib",
              "peak_rss_reset", "client_cpu_s", "job", "rep", "loadavg", "daemon_exit", "domains_per_s"}


def extras(cell):
    r = cell.first
    out = []
    for k in r:
        if k in EXTRA_SKIP:
            continue
        v = cell.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(f"{k}={fmt(v)}")
        elif v is not None:
            out.append(f"{k}={v}")
    return " ".join(out)


# ---------------------------------------------------------------- targets

class Target:
    """One target of the issue: how to measure it and what passes."""

    def __init__(self, title, reference, goal, measure, check, show):
        self.title = title
        self.reference = reference  # the reference figures
        self.goal = goal            # the target, in words
        self.measure = measure      # (Results, placement) -> value or None
        self.check = check          # value -> (met, margin text)
        self.show = show            # value -> text


def _ratio(res, placement, w, v, name, other, invert=False):
    a = res.value("xstored", placement, w, v, name)
    b = res.value(other, placement, w, v, name)
    if a is None or not b:
        return None
    return b / a if invert else a / b


def _at_least(limit):
    return lambda x: (x >= limit, f"{x / limit:.2f}× the target")


def _at_most(limit):
    return lambda x: (x <= limit, f"{limit / x:.2f}× under the limit" if x <= limit else f"{x / limit:.2f}× over the limit")


def _eagain_zero(res, placement):
    c = res.cell("xstored", placement, "bootstorm", "k=16 writes=30")
    if c is None or not c.ok:
        return None
    return max(r.get("eagain_retries", 0) for r in c.ok)


def _watch_ratio(res, placement):
    a = res.value("xstored", placement, "watch", "watches=100000", "p50_us")
    b = res.value("xstored", placement, "watch", "watches=0", "p50_us")
    return a / b if a is not None and b else None


def _rss_ratio(res, placement):
    a = res.value("xstored", placement, "bigstore", "n=1000000 build", "rss_anon_after_kib")
    b = res.value("oxenstored", placement, "bigstore", "n=1000000 build", "rss_anon_after_kib")
    return a / b if a is not None and b else None


def _commit_growth(res, placement):
    a = res.value("xstored", placement, "bigstore", "n=1000000 commit", "p50_us")
    b = res.value("xstored", placement, "bigstore", "n=10000 commit", "p50_us")
    return a / b if a is not None and b else None


def lu_cell(res, daemon, placement, nodes):
    """The liveupdate measurement of `daemon` with a store of `nodes` nodes, or None."""
    for (d, p, w, _), c in res.cells.items():
        if (d, p, w) == (daemon, placement, "liveupdate") and c.first["params"].get("nodes") == nodes:
            return c
    return None


def _lu_downtime(res, placement, nodes=100000):
    c = lu_cell(res, "xstored", placement, nodes)
    return c.get("gap_max_ms") if c else None


def _lu_growth(res, placement):
    a = _lu_downtime(res, placement, 1000000)
    b = _lu_downtime(res, placement, 100000)
    return a / b if a is not None and b else None


def live_update_targets():
    return [
        Target("Live update (100k nodes, 100 connections of which 50 guests, 1,000 watches): downtime ≤ 50 ms",
               "C xenstored, oxenstored: the live-update table", "≤ 50 ms", _lu_downtime, _at_most(50.0), lambda x: fmt(x, " ms")),
        Target("Live update: downtime grows at most linearly with the store (1M nodes / 100k ≤ 10×)",
               "C xenstored, oxenstored: the live-update table", "≤ 10", _lu_growth, _at_most(10.0), fmt_ratio),
    ]


def targets():
    t = []
    t.append(Target("Ping-pong: xstored ≥ 0.8× echo", "echo 94k ops/s, C 44k, oxenstored 45k (same CPU)",
                    "≥ 0.8", lambda r, p: _ratio(r, p, "ping", "read c=1 w=1", "ops_per_s", "xstore-echo"),
                    _at_least(0.8), fmt_ratio))
    for mix in ("read", "write"):
        v = f"{mix} c=16 w=16"
        t.append(Target(f"16 clients × 16 in flight, {mix} mix: ≥ 5× C",
                        "echo 4.3M ops/s, C 197k, oxenstored 140k", "≥ 5",
                        lambda r, p, v=v: _ratio(r, p, "pipeline", v, "ops_per_s", "xenstored"),
                        _at_least(5), fmt_ratio))
        t.append(Target(f"16 clients × 16 in flight, {mix} mix: ≥ 7× oxenstored",
                        "echo 4.3M ops/s, C 197k, oxenstored 140k", "≥ 7",
                        lambda r, p, v=v: _ratio(r, p, "pipeline", v, "ops_per_s", "oxenstored"),
                        _at_least(7), fmt_ratio))
    # Issue 13 section 3, the write path: against the transport's own limit,
    # measured in the same run as xstored.
    for mix, goal in (("write", 0.7), ("read", 0.85)):
        v = f"{mix} c=16 w=16"
        t.append(Target(f"16 clients × 16 in flight, {mix} mix: xstored ≥ {goal}× echo",
                        "0.45× echo for writes, 0.70× for reads (an independent measurement)", f"≥ {goal}",
                        lambda r, p, v=v: _ratio(r, p, "pipeline", v, "ops_per_s", "xstore-echo"),
                        _at_least(goal), fmt_ratio))
    t.append(Target("Boot storm (16 toolstacks, 30 writes/tx): zero EAGAIN",
                    "C 13.6 EAGAIN retries per commit", "0 retries", _eagain_zero,
                    lambda x: (x == 0, "none" if x == 0 else f"{x} retries"), lambda x: f"{x} retries"))
    t.append(Target("Boot storm: ≥ 3× oxenstored's domains/s", "C 174 domains/s, oxenstored 1,561", "≥ 3",
                    lambda r, p: _ratio(r, p, "bootstorm", "k=16 writes=30", "ops_per_s", "oxenstored"),
                    _at_least(3), fmt_ratio))
    t.append(Target("Watch fan-out: 100k watches registered in < 1 s", "C 92 s, oxenstored 2.9 s", "< 1 s",
                    lambda r, p: r.value("xstored", p, "watch", "watches=100000", "registration_s"),
                    _at_most(1.0), lambda x: fmt(x, " s")))
    t.append(Target("Watch fan-out: write p50 with 100k unrelated watches ≤ 1.1× with none",
                    "C 3.7 ms per write, oxenstored 24 µs (with 100k)", "≤ 1.1", _watch_ratio,
                    _at_most(1.1), fmt_ratio))
    t.append(Target("Big store: 1M nodes built in ≤ 5 s", "oxenstored 19 s; C slows as 1/N", "≤ 5 s",
                    lambda r, p: r.value("xstored", p, "bigstore", "n=1000000 build", "build_s"),
                    _at_most(5.0), lambda x: fmt(x, " s")))
    t.append(Target("Big store: memory (RssAnon) at 1M nodes ≤ 0.5× oxenstored's", "oxenstored 161 MiB", "≤ 0.5",
                    _rss_ratio, _at_most(0.5), fmt_ratio))
    t.append(Target("Big store (1M): write beneath a 10,000-child node, transaction open, ≤ 1.5× a write beneath a "
                    "small node (p50)", "-", "≤ 1.5",
                    lambda r, p: r.value("xstored", p, "bigstore", "n=1000000 write_big", "p50_ratio_to_small"),
                    _at_most(1.5), fmt_ratio))
    t.append(Target("Big store: a commit of 30 writes costs the same at 1M nodes as at 10k (p50, ≤ 1.5×)", "-",
                    "≤ 1.5", _commit_growth, _at_most(1.5), fmt_ratio))
    t.append(Target("Big store: 1M nodes in ≤ 48 MiB of anonymous memory (RssAnon)", "55–90 MiB before", "≤ 48 MiB",
                    lambda r, p: _kib_to_mib(r.value("xstored", p, "bigstore", "n=1000000 build", "rss_anon_after_kib")),
                    _at_most(48.0), lambda x: fmt(x, " MiB")))
    return t + live_update_targets()


def _kib_to_mib(v):
    return v / 1024 if v is not None else None


def targets_table(res, which=None):
    rows = []
    verdicts = []
    for t in which or targets():
        for p in res.placements:
            v = t.measure(res, p)
            if v is None:
                rows.append([t.title, p, "not measured", t.goal, "-", "-", t.reference])
                continue
            met, margin = t.check(v)
            verdicts.append(met)
            rows.append([t.title, p, t.show(v), t.goal, "**met**" if met else "**not met**", margin, t.reference])
    header = ["target", "placement", "measured", "target", "verdict", "margin", "issue's reference"]
    return table(header, rows), verdicts


# ---------------------------------------------------------------- document

def machine_section(meta):
    m = meta.get("machine", {})
    rows = [["CPU", m.get("cpu_model", "?")], ["cores", str(m.get("cores", "?"))],
            ["memory", m.get("memory", "?")], ["kernel", m.get("kernel", "?")],
            ["system", m.get("system", "?")], ["compiler", m.get("compiler", "?")],
            ["reference daemons", m.get("reference", "?")], ["source", m.get("source", "?")]]
    return table(["", ""], rows)


def disturbance_notes(res, meta):
    notes = []
    loads = [r["loadavg"] for r in res.records if isinstance(r.get("loadavg"), (int, float))]
    if loads:
        notes.append(f"Load average (1 min) before each invocation: median {median(loads):.2f}, "
                     f"max {max(loads):.2f}, on {meta.get('machine', {}).get('cores', '?')} cores. "
                     "A load above 1 means other processes competed for the CPUs during the measurement.")
    wide, counted = {}, {}
    for (d, p, w, v), c in sorted(res.cells.items()):
        if len(c.ok) < 3:
            continue
        counted[(d, p)] = counted.get((d, p), 0) + 1
        sp = c.spread("ops_per_s")
        if sp and sp[0] > 0 and sp[1] / sp[0] > 1.5:
            wide.setdefault((d, p), []).append(f"{w} {v} ({fmt(sp[0])}–{fmt(sp[1])} ops/s)")
    if wide:
        per = "; ".join(f"{DAEMON_TITLE.get(d, d)} {p}: {len(v)} of {counted[(d, p)]}"
                        for (d, p), v in sorted(wide.items(), key=lambda kv: (kv[0][1], kv[0][0])))
        detail = "".join(f"<br>{DAEMON_TITLE.get(d, d)} {p}: " + "; ".join(v) for (d, p), v in sorted(wide.items()))
        notes.append("Measurements whose repetitions differ by more than 1.5× in ops/s (other load on the "
                     "machine; the median is reported): " + per + ".<details><summary>which</summary>" + detail +
                     "</details>")
    exits = sorted({f"{r['daemon']}: {r['daemon_exit']}" for r in res.records if r.get("daemon_exit")})
    if exits:
        notes.append("Daemon exits: " + "; ".join(exits) + ".")
    return notes


INTRO = ("xstored against the physical limit of this machine's unix-socket transport (`xstore-echo`) and "
         "against Debian's reference daemons, C `xenstored` and `oxenstored` (Xen 4.17), all measured by "
         "`xstore-bench` on the same machine in the same run, each daemon started fresh on its own "
         "fake-Xen host. Produced by `bench/compare.py` (see docs/benchmarks.md); the raw JSON lines are in "
         "`docs/performance-data/`, and `bench/compare_report.py --data docs/performance-data --out "
         "docs/performance.md` renders this page again from them.\n")

METHOD = ("\nPlacements: the daemon always runs on CPU 0 (`taskset -c 0`); **same-cpu**: the client on "
          "CPU 0 too; **split**: the client on CPU 1. Each measurement was repeated (see *reps ok*) and "
          "every figure is the median over the repetitions. oxenstored runs with Debian's shipped "
          "settings and `--no-access-log` (C xenstored logs nothing per request either). xstore-echo "
          "answers every request with a canned reply: it bounds what any daemon can reach on this "
          "transport, and it has no rings (guests). Operation counts differ per daemon so that each "
          "measurement lasts long enough; they are in the data (`params`). Memory: every daemon on a "
          "fake-Xen host maps the host's tables (a 19 MB file), which counts in its VmRSS and VmHWM; "
          "the big store's memory comparison therefore uses RssAnon (heap and stacks, no mapped "
          "files), and bytes per node is the growth of VmRSS during the build. Guests over rings go "
          "through the fake-Xen harness's event channels (a host-wide lock and a datagram per kick, the "
          "same for every daemon), so their ops/s says as much about the harness as about the daemon; "
          "*daemon CPU µs/op* is the daemon's own cost. The split placement is the more sensitive to "
          "other processes on the machine: every wake-up across CPUs depends on what the other CPU is "
          "doing at that moment. Live update (the issue's workload 6) has its own section.\n")

COMPARISON = ("Medians; ↑ higher is better, ↓ lower is better. The ratio columns divide xstored's figure by "
              "the other daemon's: for ↑ metrics above 1 is xstored ahead, for ↓ metrics below 1 is. Where a "
              "daemon cannot make a measurement the cell says why (`unsupported`: the daemon lacks the "
              "message type, e.g. DIRECTORY_PART in oxenstored, or E2BIG for a listing larger than one "
              "message; `timeout`: it did not finish within the time limit, with how far it got).\n")

NUMBERS = ("Per daemon and placement: medians over the ok repetitions (reps ok / run), the spread of "
           "ops/s, daemon CPU seconds during the measurement and its peak RSS (VmHWM, reset at the start "
           "of each measurement). Field meanings: docs/benchmarks.md.\n")


def method_section(res, meta):
    out = ["## How this was measured\n"]
    cmds = meta.get("commands", [])
    out.append("Command" + ("s" if len(cmds) > 1 else "") + " (from the repository root):\n")
    out.append("```sh\n" + "\n".join(cmds) + "\n```\n")
    if meta.get("started"):
        out.append(f"Run {meta.get('started')} to {meta.get('finished', '?')}"
                   f" ({meta.get('wall_s', 0) / 60:.1f} min of measuring).\n")
    out += [machine_section(meta), METHOD]
    notes = disturbance_notes(res, meta) + meta.get("notes", [])
    if notes:
        out += ["\n### Notes\n"] + [f"* {n}" for n in notes] + [""]
    return out


def targets_section(res):
    out = ["\n## Targets\n",
           "The issue's targets for xstored, per placement. *Margin*: how far past the target "
           "(or short of it) the measurement is.\n"]
    ttable, verdicts = targets_table(res)
    out.append(ttable)
    if verdicts:
        out.append(f"\n{sum(verdicts)} of {len(verdicts)} target checks met.\n")
    return out


def comparison_section(res):
    out = ["\n## Comparison\n", COMPARISON]
    for p in res.placements:
        out += [f"\n### {p}\n", comparison_table(res, p)]
    return out


def numbers_section(res):
    out = ["\n## Every number\n", NUMBERS]
    for d in res.daemons:
        for p in res.placements:
            if any(k[0] == d and k[1] == p for k in res.cells):
                out += [f"\n### {DAEMON_TITLE.get(d, d)}, {p}\n", detail_table(res, d, p)]
    return out


LIVE_UPDATE = ("What a client sees while the daemon live-updates itself (workload `liveupdate`, "
               "docs/benchmarks.md): a store of N nodes in the big store's shape, {conns} connections ({sockets} "
               "sockets, {guests} fake guests over their rings) each keeping one request in flight on its own "
               "nodes (WRITE, then READ back and check), and {watches} watches on those nodes; the daemon is "
               "live-updated to its own program {updates} times (CONTROL `live-update -f`, then `-s -t 60`, as "
               "`xenstore-control live-update` does), with {interval} s of load before each update and after the "
               "last. *Downtime*: for each connection, the longest time between two of its replies across an "
               "update; *max* is the longest of any connection, *median* the median over the connections. *-s to "
               "OK*: from the -s request to its answer, which the new process gives once it has rebuilt everything "
               "(oxenstored answers `BUSY` while it cannot update yet; the request is sent again and the time runs "
               "from the first). Each figure is the median over the updates, the worst update in parentheses. "
               "Every answer is checked: a lost, duplicated or wrong reply or watch event makes the run an error, "
               "not a number. The daemons' run directories, where the state goes, are on a tmpfs (`/dev/shm`), "
               "as `/run` is in production.\n")


def live_update_intro(res):
    p = next(c.first["params"] for k, c in sorted(res.cells.items()) if k[2] == "liveupdate")
    conns, guests = p.get("conns", 0), p.get("guests", 0)
    return LIVE_UPDATE.format(conns=f"{conns:,}", sockets=f"{conns - guests:,}", guests=f"{guests:,}",
                              watches=f"{p.get('watches', 0):,}", updates=p.get("updates", "?"),
                              interval=fmt(p.get("interval_ms", 0) / 1000))


STREAM_NOTE = ("*Load*: the machine's load average (1 min) before the run; above 1, other processes competed "
               "for the 2 CPUs while it ran. *Heap*: RssAnon before the first update and after the last (VmRSS is in the data; it drops "
               "at each update, as the new process has not yet touched the files it maps). *Stream*: xstored's migration stream for a store of that size, written and read in-process by "
               "`xstore-bench-migration` (pinned to CPU 0; see the table below): what a live update moves between "
               "the two processes besides the exec. The reference daemons' state files are their own formats and "
               "are not measured.\n")


def _worst(cell, name, worst):
    v, w = cell.get(name), cell.get(worst)
    return fmt(v) + (f" ({fmt(w)})" if w is not None else "")


def migration_row(meta, nodes):
    """xstore-bench-migration's row for a store of about `nodes` nodes, or None."""
    rows = meta.get("migration", {}).get("rows", [])
    near = [r for r in rows if abs(r.get("nodes", 0) - nodes) <= 0.1 * nodes]
    return near[0] if near else None


def live_update_row(res, meta, daemon, placement, nodes):
    c = lu_cell(res, daemon, placement, nodes)
    why = c.failure() if c else None
    row = [DAEMON_TITLE.get(daemon, daemon), placement, fmt(nodes)]
    if c is None or why:
        return row + [why or "not run"] + ["-"] * 7
    mib = [c.get(k) / 1024 if c.get(k) is not None else None for k in ("rss_anon_before_kib", "rss_anon_after_kib")]
    m = migration_row(meta, nodes) if daemon == "xstored" else None
    stream = [fmt(m["stream_bytes"] / 1e6), f"{fmt(m['encode_mb_s'])} / {fmt(m['decode_mb_s'])}"] if m else ["-", "-"]
    return row + [_worst(c, "gap_max_ms", "gap_max_max_ms"), _worst(c, "gap_p50_ms", "gap_p50_max_ms"),
                  _worst(c, "s_to_ok_ms", "s_to_ok_max_ms"), f"{fmt(mib[0])} → {fmt(mib[1])}"] + stream + \
        [c.reps(), fmt(c.get("loadavg"))]


def live_update_table(res, meta):
    header = ["daemon", "placement", "nodes", "downtime max ms", "downtime median ms", "-s to OK ms",
              "heap (RssAnon) before → after MiB", "stream MB", "encode / decode MB/s", "runs ok", "load"]
    rows = []
    sizes = sorted({c.first["params"].get("nodes", 0) for k, c in res.cells.items() if k[2] == "liveupdate"})
    for nodes in sizes:
        for d in res.daemons:
            for p in res.placements:
                if any(lu_cell(res, d, p, n) for n in sizes):
                    rows.append(live_update_row(res, meta, d, p, nodes))
    return table(header, rows)


def migration_table(mig):
    header = ["nodes", "stream MB", "bytes/node", "encode ms", "encode MB/s", "decode ms", "decode MB/s"]
    rows = [[fmt(r["nodes"]), fmt(r["stream_bytes"] / 1e6), fmt(r["bytes_per_node"]), fmt(r["encode_ms"]),
             fmt(r["encode_mb_s"]), fmt(r["decode_ms"]), fmt(r["decode_mb_s"])] for r in mig.get("rows", [])]
    return table(header, rows)


def job_key(rec):
    """What one command measured and --update replaces: "job daemon placement"."""
    return f"{rec.get('job')} {rec['daemon']} {rec['placement']}"


def live_update_commands(res, meta):
    """The commands that measured the live-update records, in the order they ran."""
    by_key = meta.get("job_commands", {})
    used = {by_key.get(job_key(r)) for r in res.records if r["workload"] == "liveupdate"}
    cmds = [c for c in meta.get("commands", []) if c in used]
    return cmds or meta.get("commands", [])


def live_update_section(res, meta):
    if not any(k[2] == "liveupdate" for k in res.cells):
        return []
    out = ["\n## Live update\n", live_update_intro(res),
           "Measured with:\n", "```sh\n" + "\n".join(live_update_commands(res, meta)) + "\n```\n",
           live_update_table(res, meta), "\n" + STREAM_NOTE]
    ttable, verdicts = targets_table(res, live_update_targets())
    out += ["\n### Targets\n", ttable]
    if verdicts:
        out.append(f"\n{sum(verdicts)} of {len(verdicts)} checks met.\n")
    mig = meta.get("migration")
    if mig:
        out += ["\n### The migration stream\n", f"`{mig['command']}`, pinned to CPU {mig.get('cpu', 0)}; "
                "the best of its repetitions:\n"]
        out.append(migration_table(mig) if mig.get("rows") else f"error: {mig.get('error', 'no result')}\n")
    return out


MEMORY_NOTE = ("Bytes per node of xstored's store, built in-process by `xstore-bench-memory` in the big store's "
               "shape (domain trees with frontend and backend device directories, short values), and again with every "
               "value 100 bytes long. *heap*: malloc's bytes in use for the store, the node pool's slabs included; "
               "*records*: the nodes themselves (16-byte header, a directory's child map and generation, name, value, "
               "rounded to 8 bytes by the node pool); *children*: the child lists' leaf blocks (8 bytes per child and "
               "an 8-byte header per block); *pool free*: room in the pool's slabs not handed out; *rest*: permission "
               "lists and inner child-list blocks. The daemon's own figure is the big store's RssAnon above.\n")


def memory_section(meta):
    mem = meta.get("memory")
    if not mem:
        return []
    out = ["\n## Memory per node\n", MEMORY_NOTE, "```sh\n" + "\n".join(mem.get("commands", [])) + "\n```\n"]
    if not mem.get("rows"):
        return out + [f"error: {mem.get('error', 'no result')}\n"]
    header = ["nodes", "value bytes", "heap MiB", "heap B/node", "records B/node", "children B/node",
              "pool free B/node", "rest B/node"]
    keys = ["nodes", "value_B", "heap_MiB", "B/node", "records", "children", "pool_free", "rest"]
    out.append(table(header, [[fmt(r.get(k)) for k in keys] for r in mem["rows"]]))
    return out


GUESTBOOT = ("N guests booting at once (workload `guestboot`, docs/benchmarks.md), each size on a freshly "
             "started daemon. {toolstacks} toolstack connections on the socket (one per guest at most) create "
             "the domains one after another each (a transaction writing the domain's tree and a vbd's frontend and backend directories "
             "with their permissions, then INTRODUCE); backend connections on the socket (64 domains each) play "
             "dom0's block backend; every guest, over its own ring, reads its tree, watches the backend's `state` "
             "and steps through the XenbusState handshake with it (InitWait, Initialised with ring-ref and "
             "event-channel written in a transaction, Connected). A domain has booted when the backend sees the "
             "frontend Connected. Then, with every guest connected and quiet, the daemon's CPU over {idle} s "
             "(*idle*); the guests' request mix (six reads and a three-write transaction) replayed over the rings "
             "and then over as many dom0 sockets (*CPU per request*, the daemon's CPU time divided by the "
             "requests); and the teardown (RELEASE, then RM of the domain's home and backend). Every answer is "
             "checked; a side left waiting for a watch event that never comes stops the run after 60 s with "
             "the count of such sides (*missing events*). The toolstack's EAGAINs are commits retried, as libxl "
             "does. *Guest request*: one request of a guest over its ring during the boot.\n")


def guestboot_cells(res, daemon, placement, guests):
    """The boot, request-mix and teardown cells of one size, and why any is missing."""
    get = lambda v: res.cell(daemon, placement, "guestboot", f"{v} g={guests}")
    cells = [get("boot"), get("requests"), get("teardown")]
    why = None
    for c in cells:
        if c is not None and c.failure():
            why = c.failure()
    fail = res.cell(daemon, placement, "guestboot", f"g={guests}") or \
        res.cell(daemon, placement, "guestboot", f"(guestboot-{guests})")
    if fail is not None and fail.failure():
        why = fail.failure()
    return cells, why


def guestboot_sizes(res):
    return sorted({c.first["params"].get("guests", 0) for k, c in res.cells.items()
                   if k[2] == "guestboot" and c.first["params"].get("guests")})


def guestboot_rows(res):
    boot, cpu = [], []
    for n in guestboot_sizes(res):
        for d in res.daemons:
            for p in res.placements:
                (b, m, t), why = guestboot_cells(res, d, p, n)
                if b is None and m is None and why is None:
                    continue
                head = [fmt(n), DAEMON_TITLE.get(d, d), p]
                ok = lambda c: c is not None and c.ok
                if ok(b):
                    boot.append(head + [fmt(b.get("ops_per_s")), fmt(b.get("p50_us")), fmt(b.get("p99_us")),
                                        fmt_ratio(b.get("p99_over_p50")), fmt(b.get("boot_ms_p50")),
                                        fmt(b.get("boot_ms_p99")), fmt(b.get("eagain")), fmt(b.get("missing_events")),
                                        fmt(b.get("idle_cpu_pct"), " %"),
                                        fmt(t.get("ops_per_s")) if ok(t) else "-", b.reps(), why or ""])
                else:
                    boot.append(head + ["-"] * 11 + [why or "not run"])
                if ok(m):
                    sock = m.get("socket_cpu_per_request_us")
                    cpu.append(head + [fmt(m.get("cpu_per_request_us")), fmt(sock),
                                       fmt_ratio(m.get("cpu_ratio_ring_to_socket")), fmt(m.get("p50_us")),
                                       fmt(m.get("socket_p50_us")), m.first.get("socket_error", "")])
                elif d != "xstore-echo":
                    cpu.append(head + ["-"] * 5 + [why or "not run"])
    return boot, cpu


def _gb(res, placement, variant, name, guests=1000):
    return res.value("xstored", placement, "guestboot", f"{variant} g={guests}", name)


def guestboot_targets():
    def worst(name):
        def measure(r, p):
            c = r.cell("xstored", p, "guestboot", "boot g=1000")
            return max(x.get(name, 0) for x in c.ok) if c and c.ok else None
        return measure
    zero = lambda x: (x == 0, "none" if x == 0 else f"{x}")
    return [
        Target("1,000 guests booting at once: no EAGAIN", "C xenstored, oxenstored: the table above", "0",
               worst("eagain"), zero, lambda x: fmt(x)),
        Target("1,000 guests booting at once: no missing watch event", "-", "0", worst("missing_events"), zero,
               lambda x: fmt(x)),
        Target("1,000 guests booting at once: guest request p99 ≤ 10× p50", "C xenstored, oxenstored: the table above",
               "≤ 10", lambda r, p: _gb(r, p, "boot", "p99_over_p50"), _at_most(10.0), fmt_ratio),
        Target("1,000 guests: daemon CPU per guest request ≤ 1.3× the same request over a socket", "-", "≤ 1.3",
               lambda r, p: _gb(r, p, "requests", "cpu_ratio_ring_to_socket"), _at_most(1.3), fmt_ratio),
        Target("1,000 connected quiet guests: daemon idle CPU ≈ 0 (≤ 0.1 % of a CPU)", "-", "≤ 0.1 %",
               lambda r, p: _gb(r, p, "boot", "idle_cpu_pct"), lambda x: (x <= 0.1, "none" if x == 0 else f"{fmt(x)} %"),
               lambda x: fmt(x, " %")),
    ]


def guestboot_commands(res, meta):
    by_key = meta.get("job_commands", {})
    used = {by_key.get(job_key(r)) for r in res.records if r["workload"] == "guestboot"}
    cmds = [c for c in meta.get("commands", []) if c in used]
    return cmds or meta.get("commands", [])


def guestboot_section(res, meta):
    if not any(k[2] == "guestboot" for k in res.cells):
        return []
    params = [c.first["params"] for k, c in res.cells.items()
              if k[2] == "guestboot" and c.first["params"].get("idle_ms") is not None]
    toolstacks = max((p.get("toolstacks", 0) for p in params), default=0)
    idle = max((p.get("idle_ms", 0) for p in params), default=0)
    intro = GUESTBOOT.format(toolstacks=f"Up to {toolstacks}" if toolstacks else "The", idle=fmt(idle / 1000))
    boot, cpu = guestboot_rows(res)
    out = ["\n## A thousand guests\n", intro, "Measured with:\n",
           "```sh\n" + "\n".join(guestboot_commands(res, meta)) + "\n```\n",
           "\n### Boot\n",
           table(["guests", "daemon", "placement", "domains/s ↑", "guest request p50 µs", "p99 µs", "p99 / p50",
                  "boot p50 ms", "boot p99 ms", "EAGAIN", "missing events", "idle CPU", "teardown domains/s",
                  "runs ok", "notes"], boot),
           "\n### CPU per request, ring against socket\n",
           table(["guests", "daemon", "placement", "ring µs/request", "socket µs/request", "ring / socket",
                  "ring p50 µs", "socket p50 µs", "notes"], cpu)]
    ttable, verdicts = targets_table(res, guestboot_targets())
    out += ["\n### Targets\n", ttable]
    if verdicts:
        out.append(f"\n{sum(verdicts)} of {len(verdicts)} checks met.\n")
    if meta.get("guestboot_notes"):
        out.append("\n" + meta["guestboot_notes"])
    return out


def render(records, meta):
    """The whole page."""
    res = Results(records)
    out = ["# Performance\n", INTRO]
    out += method_section(res, meta)
    out += targets_section(res)
    if meta.get("write_path_notes"):
        out.append("\n" + meta["write_path_notes"])
    out += comparison_section(res)
    out += guestboot_section(res, meta)
    out += live_update_section(res, meta)
    out += memory_section(meta)
    if meta.get("appendix"):
        out.append(meta["appendix"])
    out += numbers_section(res)
    return "\n".join(out)


def load(data_dir):
    records = []
    path = os.path.join(data_dir, RESULTS_FILE)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                records.append(json.loads(line))
    meta = {}
    run = os.path.join(data_dir, RUN_FILE)
    if os.path.exists(run):
        with open(run) as f:
            meta = json.load(f)
    return records, hand_written(data_dir, meta)


def hand_written(data_dir, meta):
    """`meta` with the parts written by hand beside the data, copied as they are."""
    for key, name in (("appendix", APPENDIX_FILE), ("guestboot_notes", GUESTBOOT_NOTES_FILE),
                      ("write_path_notes", WRITE_PATH_NOTES_FILE)):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            with open(path) as f:
                meta[key] = f.read()
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory with results.jsonl and run.json")
    ap.add_argument("--out", required=True, help="the markdown file to write")
    args = ap.parse_args()
    records, meta = load(args.data)
    with open(args.out, "w") as f:
        f.write(render(records, meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
