"""doc/CONTRACTS.md contract 6 (durability) under crashes.

1. Three sensors replay generated captures (same time range) to an
   aggregator that is killed with SIGKILL and restarted (same port, same
   datadir) several times while they stream, at moments chosen by a seeded
   RNG as fractions of the archive's final size.  Afterwards every sensor
   has exited 0, and the archive (parsed here from its own framing, CRC-32C
   checked) holds exactly one record per (sensor, interval) the sensor
   reported, each equal to the sensor's own --print counts; and the RRDs
   read back with `rrdtool fetch` equal, row for row, those of an
   uninterrupted run of the same captures into a fresh aggregator, and the
   averages computed here from the --print outputs (doc/CONTRACTS.md
   contract 4).

   Both runs start the same way: each sensor first replays a one-interval
   capture an hour before the others, one after the other, so that the
   aggregator knows all three sensors before the real data arrive.  With
   --grace 30 (longer than the test runs), an interval then becomes final
   only when every one of the three sensors has reported it
   (doc/CONTRACTS.md contract 7), so the uninterrupted run is
   deterministic, and the crashed one must reach the same RRDs.

2. A fourth sensor is killed with SIGKILL mid-replay (while its records
   stream to the aggregator) and run again with the same spool directory:
   the second run exits 0 and the archive then holds every interval of
   that sensor exactly once, with the counts of the capture."""

import collections
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check, require  # noqa: E402

T0 = 1700000000
STEP = 60
SEED = int(os.environ.get("TEITEN_CRASH_SEED", "6"))
KILLS = 5
GRACE = 30
LAG_GRACE = 300
SENSORS = ("s1", "s2", "s3")


def archive_count(datadir):
    """Intact entries in the archive (no CRC check: this runs in a loop)."""
    return len(A.read_archive(datadir, check_crc=False)[0])


def start_sensor(sid, pcap, agg, keys, spool):
    """A replaying sensor, its stderr (a line per interval) to a file:
    a pipe read only at the end would fill up and stall it."""
    log = spool + ".log"
    with open(log, "w") as errf:
        p = subprocess.Popen(
            [T.sensor_path(), "-r", pcap, "-a", agg.addr, "-s", sid, "-K",
             keys[sid], "--spool", spool], stdout=subprocess.DEVNULL,
            stderr=errf)
    p.log = log
    return p


def sensor_wait(p, timeout=120):
    """Exit status and stderr of a sensor from start_sensor."""
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    with open(p.log) as f:
        return p.returncode, f.read()


def prime(agg, keys, tmp, pcap, tag):
    """Each sensor reports one interval an hour early, one after another."""
    for sid in SENSORS:
        A.run_sensor_to(agg, sid, keys[sid], pcap,
                        os.path.join(tmp, "spool-prime-%s-%s" % (tag, sid)))


def finish_sensors(procs, what, timeout=120):
    ok = True
    for sid, p in procs.items():
        _, err = sensor_wait(p, timeout)
        ok &= check(p.returncode == 0, "%s: sensor %s exits 0 once all is "
                    "acknowledged%s" % (what, sid, "" if p.returncode == 0
                                        else ": " + err[-800:]))
    return ok


def expected_records(prints):
    """{(sensor, start): {(proto, key): packets}}, every interval from the
    sensor's first to its last, empty ones included (doc/CONTRACTS.md
    contract 2)."""
    out = {}
    for sid, counts in prints.items():
        starts = [k[0] for k in counts]
        for s in range(min(starts), max(starts) + STEP, STEP):
            out[(sid, s)] = {}
        for (s, p, k), n in counts.items():
            out[(sid, s)][(p, k)] = n
    return out


def check_archive(datadir, want, what, only=None):
    """The archive holds exactly one record per (sensor, interval) of want
    (restricted to the sensors in only), in the file of its interval, with
    the expected counts."""
    entries, damaged = A.read_archive(datadir)
    if damaged:
        print("    note: %d archive files end in a damaged entry (ignored, "
              "as the aggregator ignores it)" % damaged)
    held = collections.Counter()
    wrong_file, wrong_counts = [], []
    for fstart, raw in entries:
        rec = A.decode_record(raw)
        key = (rec["sensor"], rec["start"])
        if only is not None and rec["sensor"] not in only:
            continue
        held[key] += 1
        if fstart != rec["start"]:
            wrong_file.append((key, fstart))
        if key in want and rec["counts"] != want[key]:
            wrong_counts.append(key)
    mine = {k for k in want if only is None or k[0] in only}
    dups = sorted(k for k, n in held.items() if n > 1)
    missing = sorted(k for k in mine if k not in held)
    extra = sorted(k for k in held if k not in mine)
    for name, bad in (("duplicated", dups), ("missing", missing),
                      ("unexpected", extra)):
        if bad:
            print("    %s %d: %s" % (name, len(bad), bad[:8]))
    check(not dups and not missing and not extra,
          "%s: the archive holds every record exactly once (%d records)" %
          (what, len(mine)))
    check(not wrong_file, "%s: every record is in its interval's file" %
          what)
    for k in wrong_counts[:5]:
        rec = [A.decode_record(r) for f, r in entries
               if A.record_head(r)[:2] == k][0]
        diff = {pk: (want[k].get(pk, 0), rec["counts"].get(pk, 0))
                for pk in set(want[k]) | set(rec["counts"])
                if want[k].get(pk, 0) != rec["counts"].get(pk, 0)}
        print("    %s/%d: (expected, archived) %s" %
              (k[0], k[1], dict(list(diff.items())[:6])))
    check(not wrong_counts, "%s: every archived record has the counts of "
          "the capture (%d differ)" % (what, len(wrong_counts)))
    return held


def rrd_table(datadir, keys, starts):
    """{name: {interval start: value}} for key RRDs and sensors.rrd."""
    out = {}
    for p, k in keys:
        path = os.path.join(datadir, "rrd", p, "%d.rrd" % k)
        rows = A.rrd_fetch(path, starts[0], starts[-1] + STEP) \
            if os.path.exists(path) else {}
        out["%s/%d" % (p, k)] = {s: rows.get(s + STEP) for s in starts}
    rows = A.rrd_fetch(os.path.join(datadir, "rrd", "sensors.rrd"),
                       starts[0], starts[-1] + STEP)
    out["sensors"] = {s: rows.get(s + STEP) for s in starts}
    return out


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    return A.close(a, b)


def crash_run(tmp, caps, keysfile, keys, prime_cap, total, port):
    """Stream the captures into an aggregator killed KILLS times."""
    datadir = os.path.join(tmp, "data-crash")
    agg = A.Aggregator(tmp, keysfile, datadir, grace=GRACE, port=port)
    agg.start()
    prime(agg, keys, tmp, prime_cap, "crash")
    base = archive_count(datadir)
    rng = random.Random(SEED)
    # Kill points: fractions of the real records, spread over the stream.
    marks = [rng.uniform(0.05 + i * 0.15, 0.05 + (i + 1) * 0.15)
             for i in range(KILLS)]
    thresholds = [base + max(1, int(m * total)) for m in marks]
    print("kill thresholds (archive entries): %s of %d" %
          (thresholds, base + total))
    procs = {sid: start_sensor(sid, caps[sid], agg, keys,
                               os.path.join(tmp, "spool-crash-" + sid))
             for sid in SENSORS}
    killed_at = []
    deadline = time.time() + 150
    try:
        for th in thresholds:
            # After a restart the sensors come back after their backoff:
            # each kill waits for records newer than the last one's.
            if killed_at:
                th = max(th, killed_at[-1] + rng.randint(1, 12))
            while time.time() < deadline:
                n = archive_count(datadir)
                if n >= th or all(p.poll() is not None
                                  for p in procs.values()):
                    break
                time.sleep(0.001)
            if all(p.poll() is not None for p in procs.values()):
                break
            # A moment into the commit window: ~0-3 ms after the append.
            time.sleep(rng.uniform(0, 0.003))
            agg.proc.send_signal(signal.SIGKILL)
            agg.proc.wait()
            killed_at.append(archive_count(datadir))
            agg.start()
        ok = finish_sensors(procs, "crash run")
    except BaseException:
        for p in procs.values():
            p.kill()
        agg.stop(signal.SIGKILL)
        raise
    print("killed at archive entries %s" % killed_at)
    check(len(killed_at) == KILLS and
          all(base <= n < base + total for n in killed_at) and
          killed_at == sorted(set(killed_at)),
          "the aggregator was killed %d times while records were streaming "
          "(%d kills)" % (KILLS, len(killed_at)))
    return agg, datadir, ok


def reference_run(tmp, caps, keysfile, keys, prime_cap):
    datadir = os.path.join(tmp, "data-ref")
    agg = A.Aggregator(tmp, keysfile, datadir, grace=GRACE).start()
    prime(agg, keys, tmp, prime_cap, "ref")
    procs = {sid: start_sensor(sid, caps[sid], agg, keys,
                               os.path.join(tmp, "spool-ref-" + sid))
             for sid in SENSORS}
    try:
        finish_sensors(procs, "uninterrupted run")
    except BaseException:
        agg.stop()
        raise
    return agg, datadir


def compare_rrds(ref_dir, crash_dir, keys, starts, avgs, reporters):
    ref = rrd_table(ref_dir, keys, starts)
    crash = rrd_table(crash_dir, keys, starts)
    # The uninterrupted run against doc/CONTRACTS.md contract 4, computed
    # here.
    bad = []
    for p, k in keys:
        name = "%s/%d" % (p, k)
        first = min(s for (s, pp, kk) in avgs if (pp, kk) == (p, k))
        for s in starts:
            if s >= first and not same(ref[name][s], avgs.get((s, p, k), 0.0)):
                bad.append("%s at %d: %s, expected %r" %
                           (name, s, ref[name][s], avgs.get((s, p, k), 0.0)))
    for s in starts:
        if not same(ref["sensors"][s], reporters[s]):
            bad.append("sensors.rrd at %d: %s, expected %d" %
                       (s, ref["sensors"][s], reporters[s]))
    for b in bad[:8]:
        print("    " + b)
    check(not bad, "uninterrupted run: %d keys and sensors.rrd over %d "
          "intervals hold the averages computed from --print" %
          (len(keys), len(starts)))
    # The crashed run against the uninterrupted one, row for row.
    bad = []
    for name in sorted(ref):
        for s in starts:
            if not same(crash[name][s], ref[name][s]):
                bad.append("%s at %d: %s after crashes, %s uninterrupted" %
                           (name, s, crash[name][s], ref[name][s]))
    for b in bad[:12]:
        print("    " + b)
    if bad:
        diff_iv = sorted({int(b.split(" at ")[1].split(":")[0])
                          for b in bad})
        print("    %d rows differ, in %d intervals: %s" %
              (len(bad), len(diff_iv), diff_iv[:20]))
    check(not bad, "crashed run: %d RRDs over %d intervals equal the "
          "uninterrupted run's" % (len(ref), len(starts)))
    return not bad


def sensor_kill(tmp, agg, keys, cap, want, datadir):
    """Kill a replaying sensor mid-stream, run it again on its spool."""
    sid = "s4"
    spool = os.path.join(tmp, "spool-" + sid)
    mine = sorted(k for k in want if k[0] == sid)

    def held():
        return sum(1 for _, raw in A.read_archive(datadir, False)[0]
                   if A.record_head(raw)[0] == sid)

    p = start_sensor(sid, cap, agg, keys, spool)
    deadline = time.time() + 60
    while time.time() < deadline and p.poll() is None and \
            held() < len(mine) // 3:
        time.sleep(0.001)
    # Freeze the aggregator so that the sensor surely dies mid-stream.
    agg.proc.send_signal(signal.SIGSTOP)
    try:
        alive = p.poll() is None
        p.send_signal(signal.SIGKILL)
        p.wait()
        n = held()
    finally:
        agg.proc.send_signal(signal.SIGCONT)
    left = len([f for f in os.listdir(spool) if f.endswith(".rec")])
    print("sensor %s killed with %d of %d records archived, %d spooled" %
          (sid, n, len(mine), left))
    check(alive and 0 < n < len(mine) and left > 0,
          "sensor %s was killed mid-replay" % sid)
    p = start_sensor(sid, cap, agg, keys, spool)
    _, err = sensor_wait(p)
    check(p.returncode == 0, "sensor %s run again on its spool exits 0%s" %
          (sid, "" if p.returncode == 0 else ": " + err[-800:]))
    if "merged with the record of an earlier run" in err:
        print("    note: the second run merged %d spooled records of the "
              "first into its own" %
              err.count("merged with the record of an earlier run"))
    check_archive(datadir, want, "sensor killed mid-replay", only={sid})


def lagging_sensor(tmp):
    """A restart must not forget a sensor active a moment ago
    (doc/CONTRACTS.md contract 7):
    s1 and s2 report ten intervals, s3 only the first five, which become
    final; the aggregator is killed and restarted; two seconds later (a
    live sensor reports at the end of its next interval) s3 reports the
    other five.  Uninterrupted, those five wait for s3 and sensors.rrd
    reads 3; after the restart they must read the same.  Each sensor first
    reports one interval an hour early, so that all three are active before
    the compared intervals arrive; the grace period (LAG_GRACE) is long, as
    nothing here waits for it: every compared interval is final because all
    three sensors reported it, however slow the machine."""
    caps = {}
    half = T0 // STEP * STEP + 5 * STEP  # s3's sixth interval
    for sid, seed, start, end in (("s1", 31, T0, T0 + 600),
                                  ("s2", 32, T0, T0 + 600),
                                  ("s3a", 33, T0, half),
                                  ("s3b", 34, half, T0 + 600)):
        caps[sid] = os.path.join(tmp, "lag-%s.pcap" % sid)
        A.gencap(caps[sid], 5 * (end - start), end - start, start, seed,
                 ["-p", "20"])
    early = os.path.join(tmp, "lag-early.pcap")
    A.gencap(early, 20, STEP, T0 - 3600, 35, ["-p", "20"])
    keysfile, keys = A.make_keys(tmp, ["s1", "s2", "s3"])
    prints = [A.sensor_print(caps[s]) for s in ("s1", "s2")]
    prints.append(A.sensor_print(caps["s3a"]) + A.sensor_print(caps["s3b"]))
    avgs, reporters = A.expected_averages(prints)
    starts = sorted(reporters)
    tables = {}
    for crash in (False, True):
        tag = "lag-crash" if crash else "lag-plain"
        datadir = os.path.join(tmp, "data-" + tag)
        agg = A.Aggregator(tmp, keysfile, datadir, grace=LAG_GRACE).start()
        try:
            for sid in ("s1", "s2", "s3"):
                A.run_sensor_to(agg, sid, keys[sid], early,
                                os.path.join(tmp, "spool-%s-e%s" % (tag, sid)))
            A.run_sensor_to(agg, "s3", keys["s3"], caps["s3a"],
                            os.path.join(tmp, "spool-%s-s3a" % tag))
            for sid in ("s1", "s2"):
                A.run_sensor_to(agg, sid, keys[sid], caps[sid],
                                os.path.join(tmp, "spool-%s-%s" % (tag, sid)))
            agg.wait_final(half - STEP, timeout=10)
            if crash:
                agg.proc.send_signal(signal.SIGKILL)
                agg.proc.wait()
                agg.start()
            time.sleep(2.5)
            A.run_sensor_to(agg, "s3", keys["s3"], caps["s3b"],
                            os.path.join(tmp, "spool-%s-s3b" % tag))
            agg.wait_final(starts[-1], timeout=60)
            time.sleep(0.5)
            tables[crash] = rrd_table(datadir, sorted({(p, k) for
                                                       (_, p, k) in avgs}),
                                      starts)
        finally:
            agg.stop()
    plain, crashed = tables[False], tables[True]
    check(all(same(plain["sensors"][s], reporters[s]) for s in starts),
          "lagging sensor, uninterrupted: sensors.rrd reads %s" %
          [plain["sensors"][s] for s in starts])
    bad = [(name, s) for name in plain for s in starts
           if not same(plain[name][s], crashed[name][s])]
    check(not bad, "lagging sensor: after a kill -9 and restart the RRDs "
          "equal the uninterrupted run's (sensors.rrd %s, uninterrupted "
          "%s; %d rows differ)" %
          ([crashed["sensors"][s] for s in starts],
           [plain["sensors"][s] for s in starts], len(bad)))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # the sensors write their spools as nobody
        caps = {}
        for sid, n, seed in (("s1", 12000, 11), ("s2", 9000, 12),
                             ("s3", 6000, 13)):
            caps[sid] = os.path.join(tmp, sid + ".pcap")
            A.gencap(caps[sid], n, 120 * STEP, T0, seed, ["-p", "40"])
        caps["s4"] = os.path.join(tmp, "s4.pcap")
        A.gencap(caps["s4"], 40000, 600 * STEP, T0, 14, ["-p", "40"])
        prime_cap = os.path.join(tmp, "prime.pcap")
        A.gencap(prime_cap, 50, 30, T0 - 3600, 15, ["-p", "40"])
        keysfile, keys = A.make_keys(tmp, list(SENSORS) + ["s4"])

        prints = {sid: A.sensor_print(caps[sid]) for sid in caps}
        want = expected_records(prints)
        primed = expected_records({sid: A.sensor_print(prime_cap)
                                   for sid in SENSORS})
        check(len(primed) == 3, "the priming capture is one interval")
        want.update(primed)
        avgs, reporters = A.expected_averages([prints[s] for s in SENSORS])
        starts = sorted(reporters)
        check(set(reporters.values()) == {3} and len(starts) >= 100,
              "the three captures cover the same %d intervals" % len(starts))
        total = sum(1 for k in want if k[0] in SENSORS) - len(primed)

        t = time.time()
        ref, ref_dir = reference_run(tmp, caps, keysfile, keys, prime_cap)
        print("uninterrupted run: %.1fs" % (time.time() - t))
        t = time.time()
        agg, crash_dir, ok = crash_run(tmp, caps, keysfile, keys, prime_cap,
                                       total, A.free_port())
        print("crashed run: %.1fs" % (time.time() - t))
        try:
            check_archive(ref_dir, want, "uninterrupted run", only=SENSORS)
            check_archive(crash_dir, want, "crashed run", only=SENSORS)
            ref.wait_final(starts[-1])
            agg.wait_final(starts[-1])
            time.sleep(0.5)
            keys_all = sorted({(p, k) for (s, p, k) in avgs})
            compare_rrds(ref_dir, crash_dir, keys_all, starts, avgs,
                         reporters)
            print("crashed aggregator's log (recoveries, lateness):")
            for line in agg.text().splitlines():
                if "recovered" in line or "records:" in line or \
                        "listening" in line:
                    print("    " + line)
            check(ref.stop() == 0, "uninterrupted aggregator stops on "
                  "SIGTERM")
            sensor_kill(tmp, agg, keys, caps["s4"], want, crash_dir)
            check(agg.stop() == 0, "crashed aggregator finally stops on "
                  "SIGTERM")
            lagging_sensor(tmp)
        finally:
            ref.stop(signal.SIGKILL)
            agg.stop(signal.SIGKILL)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    require("rrdtool")
    sys.exit(main())
