#!/usr/bin/env python3
"""Smoke test of the comparison driver: `bench/compare.py --smoke` (tiny sizes,
one repetition) on an existing build tree, into a temporary page and data
directory. Checks that every daemon was measured in every placement, that
the numbers of xstore-echo and xstored are all there (or "unsupported"
where the protocol says so), that the page has its parts, and that
`--update` re-measures one part and keeps the rest.

  compare_smoke.py --compare bench/compare.py --build-dir BUILD
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def run_compare(args, out, data, extra):
    cmd = [sys.executable, args.compare, "--smoke", "--no-deps", "--no-build", "--build-dir", args.build_dir,
           "--out", out, "--data", data] + extra
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, f"bench/compare.py exited {p.returncode}:\n{p.stderr[-2000:]}")
    with open(os.path.join(data, "results.jsonl")) as f:
        records = [json.loads(l) for l in f if l.strip()]
    with open(os.path.join(data, "run.json")) as f:
        meta = json.load(f)
    with open(out) as f:
        page = f.read()
    return records, meta, page


# What a daemon may answer "unsupported" to, by workload and phase.
ALLOWED_UNSUPPORTED = {
    "xstore-echo": {("guests", None), ("guestboot", None)},
    "xstored": {("bigstore", "directory")},  # E2BIG: the listing is larger than one message
}


def check_records(records, placements):
    by_daemon = {}
    for r in records:
        by_daemon.setdefault(r["daemon"], []).append(r)
    check(set(by_daemon) == {"xstore-echo", "xstored", "xenstored", "oxenstored"},
          f"daemons measured: {sorted(by_daemon)}")
    for d, rs in by_daemon.items():
        check({r["placement"] for r in rs} == set(placements), f"{d}: placements {sorted({r['placement'] for r in rs})}")
        check(all("job" in r and "rep" in r and "loadavg" in r for r in rs), f"{d}: records lack job/rep/loadavg")
    for d in ("xstore-echo", "xstored"):
        for r in by_daemon[d]:
            key = (r["workload"], r["params"].get("phase"))
            if r["status"] == "unsupported":
                check(key in ALLOWED_UNSUPPORTED[d], f"{d}: {r['workload']} {r['variant']} unsupported: {r.get('error')}")
            else:
                check(r["status"] == "ok", f"{d}: {r['workload']} {r['variant']}: {r['status']} {r.get('error')}")
        workloads = {r["workload"] for r in by_daemon[d]}
        expected = {"ping", "pipeline", "bootstorm", "watch", "bigstore", "guests", "guestboot"}
        if d != "xstore-echo":  # the echo server has no live update
            expected.add("liveupdate")
        check(workloads == expected, f"{d}: workloads {sorted(workloads)}")
    for r in records:
        if r["workload"] == "liveupdate":
            check(r.get("rundir") in ("tmpfs", "disk"), f"{r['daemon']}: liveupdate without its run directory noted")
    for d in ("xenstored", "oxenstored"):
        # Reference daemons need a private mount namespace; where one cannot
        # be made they do not start, and the data says so.
        for r in by_daemon[d]:
            check(r["status"] in ("ok", "unsupported") or "did not start" in r.get("error", ""),
                  f"{d}: {r['workload']} {r['variant']}: {r['status']} {r.get('error')}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", required=True)
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()
    placements = ["same-cpu", "split"] if (os.cpu_count() or 1) >= 2 else ["same-cpu"]
    tmp = tempfile.mkdtemp(prefix="xscompare-")
    try:
        out, data = os.path.join(tmp, "performance.md"), os.path.join(tmp, "data")
        records, meta, page = run_compare(args, out, data, ["--note", "smoke test"])
        check_records(records, placements)
        check(meta["commands"] and meta["commands"][0].startswith("bench/compare.py --smoke"), f"command: {meta}")
        check(meta["machine"]["cores"] == os.cpu_count(), "machine: cores")
        check(meta.get("migration", {}).get("rows"), f"no xstore-bench-migration table: {meta.get('migration')}")
        check(meta.get("memory", {}).get("rows"), f"no xstore-bench-memory table: {meta.get('memory')}")
        for part in ("# Performance", "## Targets", "## Comparison", "## Every number", "smoke test",
                     "| ping read c=1 w=1 | ops/s ↑ |", "unsupported: xstore-echo serves its socket only",
                     "## Live update", "### The migration stream", "## Memory per node",
                     "## A thousand guests", "### CPU per request, ring against socket"):
            check(part in page, f"the page lacks {part!r}")
        print(f"bench/compare.py --smoke: {len(records)} measurements, page of {len(page)} bytes")

        before = [r for r in records if not (r["job"] == "ping" and r["daemon"] == "xstored")]
        records2, meta2, _ = run_compare(args, out, data, ["--only", "ping", "--daemons", "xstored", "--update"])
        check(len(meta2["commands"]) == 2, f"--update: commands {meta2['commands']}")
        check(meta2["notes"] == ["smoke test"], f"--update: notes {meta2['notes']}")
        kept = [r for r in records2 if not (r["job"] == "ping" and r["daemon"] == "xstored")]
        check(kept == before, "--update changed measurements it did not re-measure")
        redone = [r for r in records2 if r["job"] == "ping" and r["daemon"] == "xstored"]
        check(len(redone) == len(placements) and all(r["status"] == "ok" for r in redone), f"--update: {redone}")
        print("bench/compare.py --update: one part re-measured, the rest kept")
    except Failed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
