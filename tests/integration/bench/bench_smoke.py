#!/usr/bin/env python3
"""Smoke test of xstore-bench: run `xstore-bench all --smoke` against a
server started on a temporary socket and check that the JSON lines it prints
are complete and consistent (every workload present, ops > 0, percentiles
ordered, figures agreeing with each other). It checks the benchmark's own
measurements, not anybody's speed.

  bench_smoke.py --bench PATH --echo-server PATH   against xstore-echo
  bench_smoke.py --bench PATH --model-server PATH  against model_xenstored.py (answers checked)
  bench_smoke.py --bench PATH                      against $XSTORED (skipped when unset)
  bench_smoke.py --bench PATH --fakexen-cli PATH   guests over rings (guests, release, guestboot):
                                                 $XSTORED on a fake-Xen host
  bench_smoke.py --bench PATH --fakexen-cli PATH --liveupdate
                                                 live updates of $XSTORED under load (sockets and guests)
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
WORKLOADS = ["ping", "pipeline", "bootstorm", "watch", "bigstore"]


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def wait_for_socket(path, proc, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failed(f"server exited with {proc.returncode} before listening")
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return
            except OSError:
                pass
            finally:
                s.close()
        time.sleep(0.05)
    raise Failed(f"nothing listens on {path}")


def run_bench(bench, sock, args, timeout=120):
    cmd = [bench, "--socket", sock, "--timeout", "30"] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    records = [json.loads(l) for l in lines]
    return p, records


def check_record(r, echo):
    name = f"{r['workload']} {r['variant']}"
    for key in ["workload", "variant", "params", "daemon", "placement", "status", "ops", "seconds",
                "ops_per_s", "p50_us", "p99_us", "p999_us", "daemon_cpu_s", "daemon_peak_rss_kib",
                "client_cpu_s"]:
        check(key in r, f"{name}: no field {key}")
    if r["status"] == "unsupported":
        # The protocol's answer for a listing larger than one message.
        check(not echo and r["params"].get("phase") == "directory", f"{name}: unsupported: {r.get('error')}")
        return
    check(r["status"] == "ok", f"{name}: status {r['status']}: {r.get('error')}")
    check(r["daemon"] and r["placement"], f"{name}: empty labels")
    check(r["ops"] > 0, f"{name}: ops {r['ops']}")
    check(r["seconds"] > 0, f"{name}: seconds {r['seconds']}")
    check(abs(r["ops_per_s"] - r["ops"] / r["seconds"]) <= 1e-6 * r["ops_per_s"] + 1e-9,
          f"{name}: ops_per_s does not match ops/seconds")
    check(r["p50_us"] is not None, f"{name}: no latency")
    check(0 < r["p50_us"] <= r["p99_us"] <= r["p999_us"], f"{name}: percentiles out of order")
    if r["daemon_cpu_s"] is not None:
        check(r["daemon_cpu_s"] >= 0, f"{name}: negative daemon CPU")
    if r["daemon_peak_rss_kib"] is not None:
        check(r["daemon_peak_rss_kib"] > 0, f"{name}: peak RSS {r['daemon_peak_rss_kib']}")
    check(r["client_cpu_s"] >= 0, f"{name}: negative client CPU")


def check_workloads(records, echo):
    by = {w: [r for r in records if r["workload"] == w] for w in WORKLOADS}
    for w in WORKLOADS:
        check(by[w], f"no measurement of {w}")
    for r in records:
        check_record(r, echo)

    ping = by["ping"][0]
    check(ping["ops"] == ping["params"]["ops"], "ping: ops differ from the parameter")
    pipe = by["pipeline"]
    check({(r["params"]["mix"], r["params"]["clients"]) for r in pipe} ==
          {(m, c) for m in ("read", "write") for c in (1, 4)}, "pipeline: configurations missing")
    for r in pipe:
        check(r["ops"] == r["params"]["ops"], "pipeline: ops differ from the parameter")
    boot = by["bootstorm"][0]
    p = boot["params"]
    check(boot["ops"] == p["toolstacks"] * p["domains_per_toolstack"], "bootstorm: domains")
    check(boot["transactions"] == boot["ops"] * (2 + p["devices"]) , "bootstorm: transactions per domain")
    check(boot["eagain_retries_per_tx"] >= 0, "bootstorm: retries")
    check(boot["p999_us"] <= boot["worst_domain_ms"] * 1000 * 1.0001, "bootstorm: p99.9 above the worst domain")
    watch = by["watch"]
    check(sorted(r["watches"] for r in watch) == [0, 100], "watch: configurations missing")
    for r in watch:
        check(r["ops"] == r["params"]["writes"], "watch: ops differ from writes")
        check(r["registration_s"] >= 0, "watch: registration time")
        if echo:
            check(r["event_p50_us"] is None, "watch: events from an echo server?")
        else:
            check(r["event_p50_us"] is not None and r["event_p50_us"] <= r["event_p999_us"], "watch: event latency")
    phases = {r["params"]["phase"]: r for r in by["bigstore"]}
    for phase in ["build", "directory", "directory_part", "write_big", "write_small", "commit"]:
        check(phase in phases, f"bigstore: no {phase} phase")
    commit = phases["commit"]
    check(commit["ops"] == 100 and commit["writes_per_transaction"] == 30, f"bigstore: commits {commit}")
    check(commit["p50_us"] is not None and commit["p50_us"] > 0, "bigstore: commit latency")
    build = phases["build"]
    check(build["nodes"] >= build["params"]["nodes"], "bigstore: fewer nodes than asked")
    check(build["rss_per_node_bytes"] is None or build["rss_after_kib"] is not None, "bigstore: rss")
    if not echo:
        check(phases["write_big"]["p50_ratio_to_small"] > 0, "bigstore: ratio")


def smoke_echo(args, tmp):
    sock = os.path.join(tmp, "echo.sock")
    server = subprocess.Popen([args.echo_server, "--socket", sock])
    try:
        wait_for_socket(sock, server)
        p, records = run_bench(args.bench, sock, ["--echo", "--smoke", "--format", "both", "all"])
        check(p.returncode == 0, f"xstore-bench exited {p.returncode}: {p.stderr}")
        check("workload" in p.stdout and "ops/s" in p.stdout, "no table after the JSON lines")
        check(all(r["daemon"] == "xstore-echo" for r in records), "daemon label is not xstore-echo")
        check(all(r["daemon_peak_rss_kib"] for r in records), "no RSS read from the echo server")
        check_workloads(records, echo=True)
        print(f"echo: {len(records)} measurements ok")

        # Without --echo the canned answers are wrong answers: an error, not a number.
        p, records = run_bench(args.bench, sock, ["--smoke", "--format", "json", "ping"])
        check(p.returncode == 1, f"checks did not catch a wrong READ answer (exit {p.returncode})")
        check(records and records[0]["status"] == "error" and "READ" in records[0]["error"],
              f"wrong answer not reported: {records}")
        print("echo without --echo: wrong answers reported as errors")
    finally:
        server.terminate()
        server.wait(timeout=10)
    check(server.returncode == 0, f"xstore-echo exited {server.returncode} on SIGTERM")
    check(not os.path.exists(sock), "xstore-echo left its socket behind")


def smoke_model(args, tmp):
    sock = os.path.join(tmp, "model.sock")
    server = subprocess.Popen([sys.executable, args.model_server, "--socket", sock])
    try:
        wait_for_socket(sock, server)
        p, records = run_bench(args.bench, sock, ["--smoke", "--format", "json", "--daemon-name", "model", "all"])
        check(p.returncode == 0, f"xstore-bench exited {p.returncode}: {p.stderr}\n{p.stdout}")
        check_workloads(records, echo=False)
        print(f"model: {len(records)} measurements ok")

        # A build stopped by the time limit says how far it got, and the
        # phases that need the whole store are skipped.
        p, records = run_bench(args.bench, sock, ["--format", "json", "--timeout", "1", "bigstore",
                                                  "--nodes", "5000000", "--build-conns", "2"])
        check(p.returncode == 1, f"a timed-out build did not fail the run (exit {p.returncode})")
        check(len(records) == 1, f"phases after a timed-out build: {[r['variant'] for r in records]}")
        b = records[0]
        check(b["status"] == "timeout" and b["params"]["phase"] == "build", f"timed-out build: {b}")
        check(0 < b["writes_done"] < b["writes_planned"] and b["ops"] == b["writes_done"], f"partial build: {b}")
        check(0 < b["nodes"] < 5000000 and "writes" in b["error"], f"partial build: {b}")
        check(0.9 < b["seconds"] < 5, f"partial build took {b['seconds']} s")
        print(f"model: a build stopped at {b['nodes']} nodes by the time limit")
    finally:
        server.terminate()
        server.wait(timeout=10)

    # A daemon giving wrong READ answers yields errors, not numbers.
    sock = os.path.join(tmp, "broken.sock")
    server = subprocess.Popen([sys.executable, args.model_server, "--socket", sock, "--break-reads"])
    try:
        wait_for_socket(sock, server)
        for workload in ["ping", "bootstorm"]:
            p, records = run_bench(args.bench, sock, ["--smoke", "--format", "json", workload])
            check(p.returncode == 1, f"{workload}: a wrong READ answer was not caught (exit {p.returncode})")
            check(records and records[0]["status"] == "error" and "READ" in records[0]["error"],
                  f"{workload}: wrong answer not reported as an error: {records}")
        print("broken model: wrong answers reported as errors")
    finally:
        server.terminate()
        server.wait(timeout=10)


def smoke_daemon(args, tmp, daemon):
    sock = os.path.join(tmp, "xstored.sock")
    server = subprocess.Popen([daemon, "-N", "--socket", sock])
    try:
        wait_for_socket(sock, server)
        p, records = run_bench(args.bench, sock, ["--smoke", "--format", "json", "all"])
        check(p.returncode == 0, f"xstore-bench exited {p.returncode}: {p.stderr}\n{p.stdout}")
        check_workloads(records, echo=False)
        print(f"{daemon}: {len(records)} measurements ok")

        # pin: transactions held open around rewrites; every commit must
        # fail with EAGAIN (each read a rewritten node), RssAnon is read.
        p, records = run_bench(args.bench, sock, ["--smoke", "--format", "json", "pin"])
        check(p.returncode == 0, f"pin: xstore-bench exited {p.returncode}: {p.stderr}\n{p.stdout}")
        check(len(records) == 1 and records[0]["workload"] == "pin" and records[0]["status"] == "ok",
              f"pin: {records}")
        r = records[0]
        check(r["ops"] == 300 and r["transactions"] == 3 and r["eagain"] == 3, f"pin: {r}")
        check(r["rss_anon_after_kib"] > 0, f"pin: no RssAnon: {r}")
        print(f"pin: RssAnon grew {r['rss_anon_growth_kib']} KiB")
    finally:
        server.terminate()
        server.wait(timeout=10)


def check_guests_record(r, guests, rounds_per_guest):
    check_record(r, echo=False)
    check(r["workload"] == "guests", f"not a guests measurement: {r['workload']}")
    rounds = guests * rounds_per_guest
    check(r["guests"] == guests and r["rounds"] == rounds, f"guests: {r['guests']} guests, {r['rounds']} rounds")
    # Requests completed while measuring: three per round, give or take the
    # rounds in flight at either end.
    check(abs(r["ops"] - 3 * rounds) <= 3 * guests, f"guests: {r['ops']} requests for {rounds} rounds")
    check(r["event_p50_us"] is not None and 0 < r["event_p50_us"] <= r["event_p99_us"] <= r["event_p999_us"],
          "guests: event latency")
    check(r["rounds_per_s"] > 0, "guests: rounds per second")


def check_guestboot(records):
    """guestboot --smoke: sizes 2 and 5, each a boot, a request mix and a teardown."""
    by = {r["variant"]: r for r in records}
    for g in (2, 5):
        boot, mix, down = by.get(f"boot g={g}"), by.get(f"requests g={g}"), by.get(f"teardown g={g}")
        check(boot and mix and down, f"guestboot g={g}: missing measurements: {sorted(by)}")
        for r in (boot, mix, down):
            check_record(r, echo=False)
        check(boot["ops"] == g and boot["domains_per_s"] > 0, f"guestboot g={g}: {boot['ops']} domains booted")
        # Every domain: the frontend's probe, watch, state reads, transaction and
        # connect (at least 18 requests); the toolstack's and backend's (at least 38).
        check(boot["guest_requests"] >= 18 * g and boot["dom0_requests"] >= 38 * g,
              f"guestboot g={g}: {boot['guest_requests']} guest and {boot['dom0_requests']} dom0 requests")
        check(boot["events"] >= 5 * g, f"guestboot g={g}: {boot['events']} watch events")
        check(boot["eagain"] == 0 and boot["missing_events"] == 0, f"guestboot g={g}: EAGAIN or missing events")
        check(0 < boot["boot_ms_p50"] <= boot["boot_ms_p99"] <= boot["boot_max_ms"] * 1.0001,
              f"guestboot g={g}: boot latency out of order")
        check(boot["idle_s"] >= 0.1 and boot["idle_cpu_s"] is not None and boot["idle_cpu_s"] >= 0,
              f"guestboot g={g}: idle {boot['idle_s']} s, {boot['idle_cpu_s']} CPU s")
        per_round = 11  # six reads, then a transaction of three writes
        check(mix["ops"] == per_round * g * mix["rounds_per_conn"] == mix["socket_ops"],
              f"guestboot g={g}: {mix['ops']} ring and {mix['socket_ops']} socket requests")
        check(mix["cpu_per_request_us"] > 0 and mix["socket_cpu_per_request_us"] > 0 and
              mix["cpu_ratio_ring_to_socket"] > 0, f"guestboot g={g}: CPU per request")
        check(down["ops"] == g, f"guestboot g={g}: {down['ops']} domains torn down")


def smoke_guests(args, tmp, daemon):
    """xstored on a fake-Xen host; the guests workload over rings, twice (the
    second run reuses the domains the first one created and introduced)."""
    host = os.path.join(tmp, "host")
    sock = os.path.join(tmp, "xstored.sock")
    subprocess.run([args.fakexen_cli, "--host", host, "init"], check=True)
    env = dict(os.environ, XSTORE_FAKEXEN=host, LD_LIBRARY_PATH=os.path.dirname(args.fakexen_cli))
    server = subprocess.Popen([daemon, "-N", "--socket", sock, "--xsd-kva", os.path.join(host, "xsd_kva"),
                               "--xsd-port", os.path.join(host, "xsd_port")], env=env)
    try:
        wait_for_socket(sock, server)
        for attempt in (1, 2):
            p, records = run_bench(args.bench, sock, ["--smoke", "--format", "json", "--fakexen", host, "guests"])
            check(p.returncode == 0, f"run {attempt}: xstore-bench exited {p.returncode}: {p.stderr}\n{p.stdout}")
            check(len(records) == 1, f"run {attempt}: {len(records)} measurements")
            check_guests_record(records[0], guests=2, rounds_per_guest=50)
        print(f"guests over rings: {records[0]['ops']} requests, {records[0]['ops_per_s']:.0f} ops/s")

        # `all` runs guests last when the fake host is given.
        p, records = run_bench(args.bench, sock, ["--smoke", "--format", "json", "--fakexen", host,
                                                  "--guests", "3", "--first-guest", "20", "all"])
        check(p.returncode == 0, f"all: xstore-bench exited {p.returncode}: {p.stderr}\n{p.stdout}")
        check_workloads(records, echo=False)
        check(records[-1]["workload"] == "guests", "all: guests is not the last workload")
        check_guests_record(records[-1], guests=3, rounds_per_guest=50)
        print(f"all with guests: {len(records)} measurements ok")

        # release: domains released from a (small) store; the workload
        # checks their nodes are gone and the backend no longer names them.
        p, records = run_bench(args.bench, sock, ["--smoke", "--format", "json", "--fakexen", host, "release"])
        check(p.returncode == 0, f"release: xstore-bench exited {p.returncode}: {p.stderr}\n{p.stdout}")
        check(len(records) == 1 and records[0]["workload"] == "release" and records[0]["status"] == "ok",
              f"release: {records}")
        check(records[0]["ops"] == 2 and records[0]["p50_us"] > 0, f"release: {records[0]}")
        print(f"release: p50 {records[0]['p50_us']:.0f} us")

        # guestboot: domains created, booted over their rings, torn down.
        p, records = run_bench(args.bench, sock, ["--smoke", "--format", "json", "--fakexen", host, "guestboot"])
        check(p.returncode == 0, f"guestboot: xstore-bench exited {p.returncode}: {p.stderr}\n{p.stdout}")
        check(len(records) == 6, f"guestboot: {len(records)} measurements")
        check_guestboot(records)
        print(f"guestboot: {records[3]['ops']} domains booted at {records[3]['domains_per_s']:.0f}/s")
    finally:
        server.terminate()
        server.wait(timeout=10)


def check_liveupdate_record(r, updates):
    name = f"liveupdate {r['variant']}"
    check(r["workload"] == "liveupdate", f"not a liveupdate measurement: {r['workload']}")
    check_record(r, echo=False)
    check(r["updates"] == updates, f"{name}: {r['updates']} updates")
    check(r["conns"] == 4 and r["guests"] == 2 and r["watches"] == 8, f"{name}: sizes {r['params']}")
    check(r["nodes"] >= r["params"]["nodes"], f"{name}: {r['nodes']} nodes")
    check(r["events"] > 0, f"{name}: no watch events")
    for what in ("s_to_ok", "gap_max", "gap_p50"):
        check(0 < r[f"{what}_ms"] <= r[f"{what}_max_ms"], f"{name}: {what} median above its max")
    check(r["gap_p50_ms"] <= r["gap_max_ms"], f"{name}: median gap above the longest")
    check(r["rss_before_kib"] and r["rss_after_kib"], f"{name}: no RSS")


def smoke_liveupdate(args, tmp, daemon):
    """xstored on a fake-Xen host with its run directory (the state file)
    in the temporary directory, live-updated under load twice; then an
    update the daemon refuses gives an error with the daemon's reason."""
    host = os.path.join(tmp, "host")
    run = os.path.join(tmp, "run")
    os.makedirs(run)
    sock = os.path.join(run, "socket")
    subprocess.run([args.fakexen_cli, "--host", host, "init"], check=True)
    env = dict(os.environ, XSTORE_FAKEXEN=host, LD_LIBRARY_PATH=os.path.dirname(args.fakexen_cli),
               XENSTORED_RUNDIR=run)
    server = subprocess.Popen([daemon, "-N", "--socket", sock, "--xsd-kva", os.path.join(host, "xsd_kva"),
                               "--xsd-port", os.path.join(host, "xsd_port")], env=env)
    try:
        wait_for_socket(sock, server)
        p, records = run_bench(args.bench, sock, ["--smoke", "--format", "json", "--fakexen", host, "liveupdate"])
        check(p.returncode == 0, f"xstore-bench exited {p.returncode}: {p.stderr}\n{p.stdout}")
        check(len(records) == 1, f"{len(records)} measurements")
        check_liveupdate_record(records[0], updates=2)
        check(server.poll() is None, "the daemon is gone")
        with open(f"/proc/{server.pid}/cmdline") as f:
            check("-U" in f.read().split("\0"), "the daemon was not started again with -U")
        r = records[0]
        print(f"liveupdate: {r['updates']} updates, -s to OK {r['s_to_ok_ms']:.1f} ms, "
              f"longest gap {r['gap_max_ms']:.1f} ms, {r['ops']} requests")

        # A binary the daemon cannot run: its answer to -f is the reason.
        plain = os.path.join(tmp, "not-executable")
        with open(plain, "w") as f:
            f.write("#!/bin/sh\n")
        p, records = run_bench(args.bench, sock, ["--smoke", "--format", "json", "--fakexen", host,
                                                  "--lu-binary", plain, "liveupdate"])
        check(p.returncode == 1, f"a refused update did not fail the run (exit {p.returncode})")
        check(len(records) == 1 and records[0]["status"] == "error" and
              "File not executable" in records[0]["error"], f"refused update: {records}")
        print("liveupdate: a refused update is an error with the daemon's reason")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--echo-server")
    ap.add_argument("--model-server")
    ap.add_argument("--fakexen-cli")
    ap.add_argument("--liveupdate", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="xsbench-")
    try:
        if args.echo_server:
            smoke_echo(args, tmp)
        elif args.model_server:
            smoke_model(args, tmp)
        else:
            daemon = os.environ.get("XSTORED")
            if not daemon or not os.path.exists(daemon):
                print("XSTORED is not set (the daemon is not built yet): skipped")
                return SKIP
            if args.liveupdate:
                smoke_liveupdate(args, tmp, daemon)
            elif args.fakexen_cli:
                smoke_guests(args, tmp, daemon)
            else:
                smoke_daemon(args, tmp, daemon)
    except Failed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
