#!/usr/bin/env python3
"""Tests of bench/compare_report.py (the page bench/compare.py writes) on
made-up measurements: medians over repetitions, reasons instead of numbers,
ratios, and the verdict on each of the issue's targets.

  compare_report_test.py BENCH_DIR
"""
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../bench"))
import compare_report as cr  # noqa: E402


def rec(daemon, workload, variant, placement="same-cpu", status="ok", ops_per_s=1000.0, **extra):
    r = {"workload": workload, "variant": variant, "params": extra.pop("params", {}), "daemon": daemon,
         "placement": placement, "status": status, "ops": 1000, "seconds": 1000 / ops_per_s if ops_per_s else 0,
         "ops_per_s": ops_per_s, "p50_us": extra.pop("p50_us", 10.0), "p99_us": 20.0, "p999_us": 30.0,
         "daemon_cpu_s": 0.5, "daemon_peak_rss_kib": 4096, "client_cpu_s": 0.1}
    r.update(extra)
    return r


PING = "read c=1 w=1"


class Medians(unittest.TestCase):
    def test_median_over_ok_repetitions_only(self):
        rs = [rec("xstored", "ping", PING, ops_per_s=v) for v in (100.0, 300.0, 200.0)]
        rs.append(rec("xstored", "ping", PING, status="error", ops_per_s=0, error="READ gave 'x'"))
        c = cr.Results(rs).cell("xstored", "same-cpu", "ping", PING)
        self.assertAlmostEqual(c.get("ops_per_s"), 200.0)
        self.assertEqual(c.reps(), "3/4")
        self.assertIsNone(c.failure())
        self.assertEqual(c.spread("ops_per_s"), (100.0, 300.0))

    def test_failure_says_why(self):
        r = rec("oxenstored", "bigstore", "n=10000 directory_part", status="unsupported", ops_per_s=0,
                error="DIRECTORY_PART: ENOSYS", params={"phase": "directory_part"})
        c = cr.Results([r]).cell("oxenstored", "same-cpu", "bigstore", "n=10000 directory_part")
        self.assertIsNone(c.get("p50_us"))
        self.assertEqual(c.failure(), "unsupported: DIRECTORY_PART: ENOSYS")

    def test_partial_build_says_how_far(self):
        r = rec("xenstored", "bigstore", "n=1000000 build", status="timeout", ops_per_s=5000.0,
                error="stopped by the time limit", nodes=374471, params={"phase": "build"})
        r["seconds"] = 60.0
        c = cr.Results([r]).cell("xenstored", "same-cpu", "bigstore", "n=1000000 build")
        self.assertEqual(c.failure(), "timeout: 374k nodes in 60 s")

    def test_multiline_reasons_stay_on_one_line(self):
        r = rec("xstore-echo", "guests", "(guests)", status="error", error="usage:\n  a\n  b")
        self.assertEqual(cr.Results([r]).cells[("xstore-echo", "same-cpu", "guests", "(guests)")].failure(),
                         "error: usage: a b")


def target(title_part):
    return next(t for t in cr.targets() if title_part in t.title)


class Targets(unittest.TestCase):
    def test_ping_ratio_to_echo(self):
        res = cr.Results([rec("xstore-echo", "ping", PING, ops_per_s=100000.0),
                          rec("xstored", "ping", PING, ops_per_s=85000.0)])
        t = target("Ping-pong")
        v = t.measure(res, "same-cpu")
        self.assertAlmostEqual(v, 0.85)
        self.assertTrue(t.check(v)[0])
        self.assertFalse(t.check(0.7)[0])
        self.assertIsNone(t.measure(res, "split"))

    def test_pipeline_against_each_reference(self):
        v = "read c=16 w=16"
        res = cr.Results([rec("xstored", "pipeline", v, ops_per_s=1.2e6),
                          rec("xenstored", "pipeline", v, ops_per_s=2e5),
                          rec("oxenstored", "pipeline", v, ops_per_s=1.5e5)])
        c = target("read mix: ≥ 5× C")
        o = target("read mix: ≥ 7× oxenstored")
        self.assertAlmostEqual(c.measure(res, "same-cpu"), 6.0)
        self.assertTrue(c.check(6.0)[0])
        self.assertAlmostEqual(o.measure(res, "same-cpu"), 8.0)
        self.assertTrue(o.check(8.0)[0])
        self.assertFalse(o.check(6.9)[0])

    def test_pipeline_against_echo_in_the_same_run(self):
        res = cr.Results([rec("xstore-echo", "pipeline", "write c=16 w=16", ops_per_s=2e6),
                          rec("xstored", "pipeline", "write c=16 w=16", ops_per_s=1.5e6),
                          rec("xstore-echo", "pipeline", "read c=16 w=16", ops_per_s=2e6),
                          rec("xstored", "pipeline", "read c=16 w=16", ops_per_s=1.6e6)])
        w = target("write mix: xstored ≥ 0.7× echo")
        r = target("read mix: xstored ≥ 0.85× echo")
        self.assertAlmostEqual(w.measure(res, "same-cpu"), 0.75)
        self.assertTrue(w.check(0.75)[0])
        self.assertFalse(w.check(0.69)[0])
        self.assertAlmostEqual(r.measure(res, "same-cpu"), 0.8)
        self.assertFalse(r.check(0.8)[0])
        self.assertTrue(r.check(0.85)[0])
        self.assertIsNone(w.measure(res, "split"))
        # Without echo in the data there is no ratio to report.
        only = cr.Results([rec("xstored", "pipeline", "write c=16 w=16", ops_per_s=1.5e6)])
        self.assertIsNone(w.measure(only, "same-cpu"))

    def test_bootstorm_eagain_must_be_zero_in_every_repetition(self):
        v = "k=16 writes=30"
        t = target("zero EAGAIN")
        res = cr.Results([rec("xstored", "bootstorm", v, eagain_retries=0),
                          rec("xstored", "bootstorm", v, eagain_retries=2)])
        self.assertEqual(t.measure(res, "same-cpu"), 2)
        self.assertFalse(t.check(2)[0])
        self.assertTrue(t.check(0)[0])

    def test_watch_write_cost_ratio(self):
        res = cr.Results([rec("xstored", "watch", "watches=0", p50_us=20.0, registration_s=0.0),
                          rec("xstored", "watch", "watches=100000", p50_us=21.0, registration_s=0.4)])
        t = target("write p50 with 100k")
        self.assertAlmostEqual(t.measure(res, "same-cpu"), 1.05)
        self.assertTrue(t.check(1.05)[0])
        self.assertFalse(t.check(1.2)[0])
        reg = target("registered in < 1 s")
        self.assertAlmostEqual(reg.measure(res, "same-cpu"), 0.4)
        self.assertTrue(reg.check(0.4)[0])

    def test_bigstore_memory_uses_anonymous_rss(self):
        v = "n=1000000 build"
        res = cr.Results([rec("xstored", "bigstore", v, rss_anon_after_kib=60000, rss_after_kib=80000,
                              params={"phase": "build"}),
                          rec("oxenstored", "bigstore", v, rss_anon_after_kib=150000, rss_after_kib=170000,
                              params={"phase": "build"})])
        t = target("memory (RssAnon)")
        self.assertAlmostEqual(t.measure(res, "same-cpu"), 0.4)
        self.assertTrue(t.check(0.4)[0])


def lu(daemon, nodes, gap_max, placement="same-cpu", status="ok", **extra):
    fields = {"gap_max_ms": gap_max, "gap_max_max_ms": gap_max * 1.5, "gap_p50_ms": gap_max * 0.9,
              "gap_p50_max_ms": gap_max, "s_to_ok_ms": gap_max * 0.95, "s_to_ok_max_ms": gap_max * 1.4,
              "rss_anon_before_kib": 20480, "rss_anon_after_kib": 18432, "updates": 5}
    fields.update(extra)
    fields.setdefault("loadavg", 0.5)
    return rec(daemon, "liveupdate", f"n={nodes} c=100 g=50 w=1000", placement=placement, status=status,
               params={"nodes": nodes, "conns": 100, "guests": 50, "watches": 1000}, **fields)


MIGRATION = {"command": "xstore-bench-migration --nodes 100000,1000000", "cpu": 0,
             "rows": [{"nodes": 100041.0, "stream_bytes": 8.1e6, "bytes_per_node": 81.0, "encode_ms": 10.0,
                       "encode_mb_s": 810.0, "decode_ms": 20.0, "decode_mb_s": 405.0},
                      {"nodes": 1000031.0, "stream_bytes": 81e6, "bytes_per_node": 81.0, "encode_ms": 100.0,
                       "encode_mb_s": 810.0, "decode_ms": 200.0, "decode_mb_s": 405.0}]}


class LiveUpdate(unittest.TestCase):
    def test_downtime_target_uses_the_median_update_at_100k(self):
        res = cr.Results([lu("xstored", 100000, 40.0), lu("xstored", 100000, 60.0, placement="split")])
        t = target("downtime ≤ 50 ms")
        self.assertAlmostEqual(t.measure(res, "same-cpu"), 40.0)
        self.assertTrue(t.check(40.0)[0])
        self.assertAlmostEqual(t.measure(res, "split"), 60.0)
        self.assertFalse(t.check(60.0)[0])

    def test_growth_is_the_ratio_of_1m_to_100k(self):
        res = cr.Results([lu("xstored", 100000, 40.0), lu("xstored", 1000000, 300.0)])
        t = target("grows at most linearly")
        self.assertAlmostEqual(t.measure(res, "same-cpu"), 7.5)
        self.assertTrue(t.check(7.5)[0])
        self.assertFalse(t.check(12.0)[0])
        self.assertIsNone(t.measure(cr.Results([lu("xstored", 100000, 40.0)]), "same-cpu"))

    def test_failed_runs_give_no_downtime(self):
        res = cr.Results([lu("xstored", 100000, 40.0, status="error",
                             error="socket 3: no reply to READ /bench/lu/c3/k1 5.0 s after it was sent: lost")])
        self.assertIsNone(target("downtime ≤ 50 ms").measure(res, "same-cpu"))
        row = cr.live_update_row(res, {}, "xstored", "same-cpu", 100000)
        self.assertTrue(row[3].startswith("error: socket 3: no reply"))

    def test_memory_section_has_commands_and_rows(self):
        mem = {"commands": ["xstore-bench-memory --nodes 1000000"],
               "rows": [{"nodes": 1000034.0, "value_B": 0.0, "heap_MiB": 41.8, "B/node": 43.8, "records": 31.0,
                         "children": 12.5, "pool_free": 0.1, "rest": 0.2}]}
        page = cr.render([rec("xstore-echo", "ping", PING, ops_per_s=100000.0)], {"memory": mem})
        section = page[page.index("## Memory per node"):page.index("## Every number")]
        self.assertIn("```sh\nxstore-bench-memory --nodes 1000000\n```", section)
        self.assertIn("| 1M | 0 | 41.8 | 43.8 | 31 | 12.5 | 0.1 | 0.2 |", section)
        self.assertNotIn("## Memory per node", cr.render([rec("xstore-echo", "ping", PING, ops_per_s=1.0)], {}))

    def test_section_has_table_targets_stream_and_command(self):
        rs = [lu("xstored", 100000, 40.0), lu("xstored", 1000000, 300.0), lu("xenstored", 100000, 3800.0),
              lu("xstored", 100000, 45.0, placement="split"),
              rec("xstore-echo", "ping", PING, ops_per_s=100000.0)]
        for r in rs:
            r["job"] = "liveupdate-1m" if r["params"].get("nodes") == 1000000 else "liveupdate-100k"
        first, again = "bench/compare.py --only liveupdate-100k,liveupdate-1m", "bench/compare.py --only liveupdate-100k"
        meta = {"commands": ["bench/compare.py", first, again], "migration": MIGRATION,
                "job_commands": {"liveupdate-1m xstored same-cpu": first, "liveupdate-100k xstored same-cpu": again,
                                 "liveupdate-100k xstored split": again, "liveupdate-100k xenstored same-cpu": first}}
        page = cr.render(rs, meta)
        section = page[page.index("## Live update"):page.index("## Every number")]
        # The commands that measured these records, in the order they ran.
        self.assertIn("```sh\n" + first + "\n" + again + "\n```", section)
        self.assertIn("| xstored | same-cpu | 100k | 40 (60) | 36 (40) | 38 (56) | 20 → 18 | 8.1 | 810 / 405 | 1/1 | 0.5 |",
                      section)
        self.assertIn("| C xenstored | same-cpu | 100k | 3800 (5700) |", section)
        self.assertIn("| C xenstored | same-cpu | 1M | not run |", section)
        self.assertIn("| xstored | same-cpu | 1M | 300 (450) |", section)
        self.assertIn("| 7.50× | ≤ 10 | **met** |", section)
        self.assertIn("xstore-bench-migration --nodes 100000,1000000", section)
        self.assertIn("| 1M | 81 | 81 | 100 | 810 | 200 | 405 |", section)
        # The comparison tables have the live update's rows; echo has none to give.
        self.assertIn("| liveupdate n=100000 c=100 g=50 w=1000 | downtime max ms ↓ | - | 40 | 3800 |", page)
        # The targets section counts the live update's checks too.
        self.assertIn("| Live update (100k nodes", page[page.index("## Targets"):page.index("## Comparison")])

    def test_no_section_without_live_updates(self):
        page = cr.render([rec("xstored", "ping", PING)], {"commands": ["bench/compare.py"]})
        self.assertNotIn("## Live update", page)


class Page(unittest.TestCase):
    def test_page_has_every_part(self):
        rs = [rec("xstore-echo", "ping", PING, ops_per_s=100000.0),
              rec("xstored", "ping", PING, ops_per_s=90000.0),
              rec("xenstored", "ping", PING, ops_per_s=40000.0),
              rec("oxenstored", "bigstore", "n=10000 directory_part", status="unsupported", ops_per_s=0,
                  error="DIRECTORY_PART: ENOSYS", params={"phase": "directory_part"})]
        page = cr.render(rs, {"commands": ["bench/compare.py"], "machine": {"cpu_model": "Test CPU", "cores": 2}})
        for part in ("# Performance", "bench/compare.py", "Test CPU", "## Targets", "## Comparison",
                     "## Every number", "unsupported: DIRECTORY_PART: ENOSYS", "| ping read c=1 w=1 | ops/s ↑ |"):
            self.assertIn(part, page)
        row = next(l for l in page.splitlines() if l.startswith("| ping read c=1 w=1 | ops/s"))
        # echo, xstored, C, oxenstored (not run), then xstored/echo, /C, /oxenstored.
        self.assertIn("| 100k | 90k | 40k | not run | 0.90× | 2.25× | - |", row)


    def test_write_path_notes_follow_the_targets(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, cr.WRITE_PATH_NOTES_FILE), "w") as f:
                f.write("## The write path\n\nprofile\n")
            meta = cr.hand_written(d, {"commands": ["bench/compare.py"]})
        page = cr.render([rec("xstored", "ping", PING)], meta)
        self.assertIn("## The write path", page)
        self.assertLess(page.index("## Targets"), page.index("## The write path"))
        self.assertLess(page.index("## The write path"), page.index("## Comparison"))


def gb(daemon, variant, guests, placement="same-cpu", status="ok", **extra):
    params = {"guests": guests, "toolstacks": 16, "backends": 1, "idle_ms": 10000}
    return rec(daemon, "guestboot", f"{variant} g={guests}", placement=placement, status=status, params=params,
               **extra)


def gb_size(daemon, guests, eagain=0, ratio=1.2, idle=0.0, p99_over_p50=5.0):
    return [gb(daemon, "boot", guests, ops_per_s=300.0, eagain=eagain, missing_events=0, p99_over_p50=p99_over_p50,
               boot_ms_p50=50.0, boot_ms_p99=80.0, idle_cpu_pct=idle),
            gb(daemon, "requests", guests, cpu_per_request_us=12.0, socket_cpu_per_request_us=12.0 / ratio,
               cpu_ratio_ring_to_socket=ratio, socket_p50_us=80.0),
            gb(daemon, "teardown", guests, ops_per_s=5000.0)]


class GuestBoot(unittest.TestCase):
    def test_targets_at_a_thousand_guests(self):
        res = cr.Results(gb_size("xstored", 1000, eagain=0, ratio=1.2, idle=0.0) + gb_size("xstored", 10, eagain=3))
        verdicts = {t.title: t.check(t.measure(res, "same-cpu"))[0] for t in cr.guestboot_targets()}
        self.assertTrue(all(verdicts.values()), verdicts)  # the 10-guest EAGAINs do not count
        res = cr.Results(gb_size("xstored", 1000, eagain=2, ratio=2.5, idle=0.5, p99_over_p50=12.0))
        verdicts = {t.title: t.check(t.measure(res, "same-cpu"))[0] for t in cr.guestboot_targets()}
        self.assertEqual([title for title, met in verdicts.items() if met],
                         ["1,000 guests booting at once: no missing watch event"])

    def test_section_has_both_tables_and_failures(self):
        rs = gb_size("xstored", 1000) + gb_size("xenstored", 100, eagain=781, ratio=1.6)
        rs.append(gb("oxenstored", "", 1000, status="error", error="nothing moved for 60 s: 3 sides waiting"))
        rs[-1]["variant"] = "g=1000"
        page = cr.render(rs, {"commands": ["bench/compare.py --only guestboot-1000"]})
        section = page[page.index("## A thousand guests"):page.index("## Every number")]
        self.assertIn("```sh\nbench/compare.py --only guestboot-1000\n```", section)
        self.assertIn("| 1000 | xstored | same-cpu | 300 | 10 | 20 | 5.00× | 50 | 80 | 0 | 0 | 0 % | 5000 | 1/1 |  |",
                      section)
        self.assertIn("| 100 | C xenstored | same-cpu | 300 |", section)
        self.assertIn("| 1000 | oxenstored | same-cpu | - |", section)
        self.assertIn("error: nothing moved for 60 s: 3 sides waiting", section)
        self.assertIn("| 1000 | xstored | same-cpu | 12 | 10 | 1.20× |", section)
        self.assertIn("| 1,000 guests: daemon CPU per guest request ≤ 1.3×", section)
        self.assertNotIn("## A thousand guests", cr.render([rec("xstored", "ping", PING)], {}))


if __name__ == "__main__":
    unittest.main(verbosity=1)
