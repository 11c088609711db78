#!/usr/bin/env python3
"""bench/compare.py: measure xstored side by side with the physical limit
(xstore-echo) and Debian's C xenstored and oxenstored, and write
docs/performance.md with every number and the raw JSON lines.

On a fresh Debian 12 machine it installs what it needs (tools/install-deps),
builds a release build of the project in its own build directory, then for
each daemon, each placement (same-cpu, split) and each job starts the daemon
fresh on its own fake-Xen host, runs xstore-bench against it and keeps the
JSON lines. See docs/benchmarks.md ("Comparing daemons").

  bench/compare.py                 the full comparison (about 40 minutes on 2 cores, plus the build)
  bench/compare.py --quick         one repetition, smaller sizes (a few minutes)
  bench/compare.py --only watch-100k --daemons xenstored --update
                                re-run one part and merge it into the kept data
"""
import argparse
import contextlib
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import compare_daemons as cd  # noqa: E402
import compare_plan as cp  # noqa: E402
import compare_report as cr  # noqa: E402

REPO = os.path.dirname(HERE)
TARGETS = ["xstore-bench", "xstore-echo", "xstored", "xstore-fakexen", "xenevtchn", "xengnttab", "xenctrl",
           "xstore-bench-migration", "xstore-bench-memory"]
# xstore-bench-migration's store sizes per mode: the live-update jobs' sizes.
MIGRATION_NODES = {"full": "100000,1000000", "quick": "100000", "smoke": "1000"}
# xstore-bench-memory's runs per mode: the big store's shape, then long values.
MEMORY_RUNS = {"full": [["--nodes", "100000,1000000,5000000"], ["--nodes", "100000,1000000", "--value-bytes", "100"]],
               "quick": [["--nodes", "100000"], ["--nodes", "100000", "--value-bytes", "100"]],
               "smoke": [["--nodes", "1000"]]}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one repetition and smaller sizes, for trying things")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition (the test suite)")
    ap.add_argument("--reps", type=int, help="at most this many repetitions of each measurement (default 5)")
    ap.add_argument("--daemons", default=",".join(cd.DAEMONS), help="comma-separated subset of " +
                    ",".join(cd.DAEMONS))
    ap.add_argument("--placements", default=",".join(cp.PLACEMENTS), help="same-cpu, split or both")
    ap.add_argument("--only", help="comma-separated job ids (ping, pipeline, bootstorm, watch, watch-100k, "
                    "bigstore-10k, bigstore-100k, bigstore-1m, guests, guestboot-10, guestboot-100, guestboot-1000, "
                    "liveupdate-100k, liveupdate-1m)")
    ap.add_argument("--update", action="store_true",
                    help="merge into the kept data, replacing what is re-measured, instead of starting afresh")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build-compare"),
                    help="release build directory (default build-compare in the repository)")
    ap.add_argument("--no-deps", action="store_true", help="do not run tools/install-deps")
    ap.add_argument("--no-build", action="store_true", help="use the build directory as it is")
    ap.add_argument("--note", action="append", default=[],
                    help="a remark for the notes of the page (repeatable), e.g. about other load")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "performance.md"))
    ap.add_argument("--data", default=os.path.join(REPO, "docs", "performance-data"))
    args = ap.parse_args(argv)
    args.daemons = [d for d in args.daemons.split(",") if d]
    for d in args.daemons:
        if d not in cd.DAEMONS:
            ap.error(f"unknown daemon {d}")
    args.placements = [p for p in args.placements.split(",") if p]
    for p in args.placements:
        if p not in cp.PLACEMENTS:
            ap.error(f"unknown placement {p}")
    if (os.cpu_count() or 1) < 2 and "split" in args.placements:
        log("one CPU only: measuring the same-cpu placement only")
        args.placements = ["same-cpu"]
    args.only = set(args.only.split(",")) if args.only else None
    args.mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    return args


# ---------------------------------------------------------------- setup

def install_deps():
    log("== tools/install-deps")
    subprocess.run([os.path.join(REPO, "tools", "install-deps")], check=True)


def build(build_dir):
    log(f"== release build in {build_dir}")
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        subprocess.run(["meson", "setup", "--buildtype=release", "-Dtests=false", build_dir],
                       cwd=REPO, check=True)
    subprocess.run(["meson", "compile", "-C", build_dir] + TARGETS, cwd=REPO, check=True)


def capture(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    system = "?"
    if os.path.exists("/etc/debian_version"):
        with open("/etc/debian_version") as f:
            system = "Debian " + f.read().strip()
    ref = capture(["dpkg-query", "-W", "-f", "${Package} ${Version}", "xen-utils-4.17"]) or "?"
    commit = capture(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    dirty = capture(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"])
    compiler = capture(["c++", "--version"]).splitlines()
    return {
        "cpu_model": cpu, "cores": os.cpu_count(), "memory": mem,
        "kernel": platform.release(), "system": system,
        "compiler": compiler[0] if compiler else "?",
        "reference": ref,
        "source": (f"commit {commit}" + (" with local changes" if dirty else "")) if commit else "?",
    }


def tmpfs_dir():
    """/dev/shm when it is a tmpfs (live-update jobs keep the daemons' run
    directories there: a production /run is a tmpfs), else None."""
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 2 and parts[1] == "/dev/shm" and parts[2] == "tmpfs":
                    return "/dev/shm"
    except OSError:
        pass
    return None


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# ---------------------------------------------------------------- running

def failure_record(daemon, placement, job, status, message):
    workload = next((a for a in job.args if not a.startswith("--")), job.id)
    return {"workload": workload, "variant": f"({job.id})", "params": {}, "daemon": daemon,
            "placement": placement, "status": status, "error": message, "ops": 0, "seconds": 0,
            "ops_per_s": 0, "p50_us": None, "p99_us": None, "p999_us": None, "daemon_cpu_s": None,
            "daemon_peak_rss_kib": None, "client_cpu_s": None}


def bench_command(bins, daemon, job, placement):
    cmd = ["taskset", "-c", str(cp.CLIENT_CPU[placement]), bins.bench, "--socket", daemon.socket,
           "--daemon-name", daemon.name, "--placement", placement, "--format", "json",
           "--timeout", str(job.timeout), "--keep"]
    if daemon.name == "xstore-echo":
        cmd.append("--echo")
    if job.guests and daemon.fakexen_host:
        cmd += ["--fakexen", daemon.fakexen_host]
    return cmd + job.args


def run_job(bins, name, job, placement, workdir):
    """Start `name` fresh, run one xstore-bench invocation, stop it: the records."""
    daemon = cd.Daemon(name, bins, workdir, cp.DAEMON_CPU)
    load = loadavg()
    try:
        daemon.start()
        if job.domains:
            daemon.create_domains(*job.domains)
    except (cd.DaemonError, subprocess.CalledProcessError) as e:
        return [failure_record(name, placement, job, "error", f"daemon did not start: {e}")]
    records = []
    try:
        p = subprocess.run(bench_command(bins, daemon, job, placement), capture_output=True, text=True,
                           timeout=job.wall_limit())
        records = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
        if not records:
            records = [failure_record(name, placement, job, "error",
                                      f"xstore-bench exited {p.returncode}: {p.stderr.strip()[-300:]}")]
    except subprocess.TimeoutExpired:
        records = [failure_record(name, placement, job, "timeout",
                                  f"no answer within {job.wall_limit()} s (the driver's limit)")]
    died = not daemon.alive()
    status = daemon.stop()
    tail = daemon.log_tail()
    daemon.cleanup()
    for r in records:
        r["loadavg"] = load
        if died:
            r["daemon_exit"] = f"exited with {status} during the run: {tail[-200:]}"
        elif status not in (0, -15, None):
            r["daemon_exit"] = f"exit status {status} when stopped with SIGTERM"
    return records


def schedule(args):
    """(rep, job, daemon, placement) in run order: repetitions outermost and
    daemons interleaved, so that a burst of outside load spreads over all."""
    plans = {d: cp.plan(args.mode, d, reps=args.reps, placements=args.placements) for d in args.daemons}
    runs = []
    max_reps = max((j.reps for jobs in plans.values() for j in jobs), default=0)
    job_ids = []
    for jobs in plans.values():
        job_ids += [j.id for j in jobs if j.id not in job_ids]
    for rep in range(max_reps):
        for jid in job_ids:
            if args.only and jid not in args.only:
                continue
            for d in args.daemons:
                for job in plans[d]:
                    if job.id == jid and rep < job.reps:
                        runs += [(rep, job, d, p) for p in job.placements]
    return runs


def measure(args, bins):
    runs = schedule(args)
    unavailable = {d: cd.available(d) for d in args.daemons}
    out = []
    t0 = time.monotonic()
    shm = tmpfs_dir()
    if shm is None and any(job.tmpfs for _, job, _, _ in runs):
        log("no tmpfs at /dev/shm: live-update jobs keep their run directories on disk")
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="xstore-compare-"))
        fast = stack.enter_context(tempfile.TemporaryDirectory(prefix="xstore-compare-", dir=shm)) if shm else tmp
        for i, (rep, job, name, placement) in enumerate(runs, 1):
            if unavailable[name]:
                recs = [failure_record(name, placement, job, "unsupported", unavailable[name])]
            else:
                t = time.monotonic()
                recs = run_job(bins, name, job, placement, os.path.join(fast if job.tmpfs else tmp, "d"))
                if job.tmpfs:
                    for r in recs:
                        r["rundir"] = "tmpfs" if shm else "disk"
                bad = [r for r in recs if r["status"] not in ("ok", "unsupported")]
                log(f"[{i}/{len(runs)}] {name} {placement} {job.id} rep {rep + 1}: {len(recs)} measurements"
                    f"{', ' + str(len(bad)) + ' not ok' if bad else ''} ({time.monotonic() - t:.1f} s,"
                    f" {(time.monotonic() - t0) / 60:.1f} min so far)")
            for r in recs:
                r["job"] = job.id
                r["rep"] = rep
            out += recs
    return out, time.monotonic() - t0


def parse_migration(text):
    """xstore-bench-migration's table: one dict per store size."""
    names = {"nodes": "nodes", "stream_B": "stream_bytes", "B/node": "bytes_per_node", "encode_ms": "encode_ms",
             "encode_MB/s": "encode_mb_s", "decode_ms": "decode_ms", "decode_MB/s": "decode_mb_s"}
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = [names.get(h, h) for h in lines[0]]
    return [dict(zip(header, map(float, vals))) for vals in lines[1:] if len(vals) == len(header)]


def run_migration(bins, mode):
    """The migration stream's size and speed (xstored's codec, in-process),
    pinned to the daemons' CPU."""
    argv = ["--nodes", MIGRATION_NODES[mode]] + (["--repeat", "1"] if mode == "smoke" else [])
    out = {"command": "xstore-bench-migration " + " ".join(argv), "cpu": cp.DAEMON_CPU}
    log("== " + out["command"])
    try:
        p = subprocess.run(["taskset", "-c", str(cp.DAEMON_CPU), bins.migration] + argv, capture_output=True,
                           text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return dict(out, error="no result within 900 s")
    if p.returncode != 0:
        return dict(out, error=f"exit status {p.returncode}: {p.stderr.strip()[-300:]}")
    return dict(out, rows=parse_migration(p.stdout))


def parse_table(text):
    """A program's table: a header line, then rows of numbers."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    return [dict(zip(lines[0], map(float, vals))) for vals in lines[1:] if len(vals) == len(lines[0])]


def run_memory(bins, mode):
    """Where a store's bytes go (xstored's store, in-process)."""
    out = {"commands": [], "rows": []}
    for argv in MEMORY_RUNS[mode]:
        out["commands"].append("xstore-bench-memory " + " ".join(argv))
        log("== " + out["commands"][-1])
        try:
            p = subprocess.run([bins.memory] + argv, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            return dict(out, error="no result within 900 s")
        if p.returncode != 0:
            return dict(out, error=f"exit status {p.returncode}: {p.stderr.strip()[-300:]}")
        out["rows"] += parse_table(p.stdout)
    return out


# ---------------------------------------------------------------- data

def merge(old, new, args):
    """Keep old records that were not measured again."""
    remeasured = {(r["job"], r["daemon"], r["placement"]) for r in new}
    return [r for r in old if (r.get("job"), r["daemon"], r["placement"]) not in remeasured] + new


def save(args, records, meta):
    os.makedirs(args.data, exist_ok=True)
    with open(os.path.join(args.data, cr.RESULTS_FILE), "w") as f:
        for r in records:
            f.write(json.dumps(r, sort_keys=False) + "\n")
    with open(os.path.join(args.data, cr.RUN_FILE), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    # Sections measured by hand (kept beside the data) stay on the page.
    page_meta = cr.hand_written(args.data, dict(meta))
    with open(args.out, "w") as f:
        f.write(cr.render(records, page_meta))


def quote(arg):
    """Shell quoting that stays readable for sentences (--note)."""
    if arg == shlex.quote(arg) or "'" not in arg or any(c in arg for c in '"$`\\!'):
        return shlex.quote(arg)
    return '"' + arg + '"'


def command_line(argv):
    return " ".join(["bench/compare.py"] + [quote(a) for a in argv])


def main(argv):
    args = parse_args(argv)
    if not args.no_deps:
        install_deps()
    if not args.no_build:
        build(args.build_dir)
    bins = cd.Binaries(args.build_dir)
    if bins.missing():
        log("missing programs: " + ", ".join(bins.missing()))
        return 1
    started = datetime.datetime.now().astimezone()
    records, wall = measure(args, bins)
    jobs_run = sorted({r["job"] for r in records})
    # Per job, daemon and placement: what --update replaces, so the page can
    # say which command measured each part.
    meta = {"commands": [command_line(argv)], "machine": machine(),
            "started": started.strftime("%Y-%m-%d %H:%M %Z"),
            "finished": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "wall_s": wall, "mode": args.mode, "notes": args.note,
            "job_commands": {cr.job_key(r): command_line(argv) for r in records}}
    if "xstored" in args.daemons and any(j.startswith("liveupdate") for j in jobs_run):
        meta["migration"] = run_migration(bins, args.mode)
    if "xstored" in args.daemons and any(j.startswith("bigstore") for j in jobs_run):
        meta["memory"] = run_memory(bins, args.mode)
    if args.update and os.path.exists(os.path.join(args.data, cr.RESULTS_FILE)):
        old, old_meta = cr.load(args.data)
        records = merge(old, records, args)
        meta["commands"] = old_meta.get("commands", []) + meta["commands"]
        meta["started"] = old_meta.get("started", meta["started"])
        meta["wall_s"] = old_meta.get("wall_s", 0) + wall
        meta["notes"] = old_meta.get("notes", []) + args.note
        meta["job_commands"] = dict(old_meta.get("job_commands", {}), **meta["job_commands"])
        for kept in ("migration", "memory"):
            if kept not in meta and kept in old_meta:
                meta[kept] = old_meta[kept]
    save(args, records, meta)
    log(f"== wrote {args.out} and {args.data} ({len(records)} measurements, {wall / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
