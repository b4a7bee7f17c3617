"""Late records reach the graphs.  Three sensors replay generated captures
(two hours at 60 s) to a real aggregator one after another, each starting
once the previous one has exited and its intervals are final: the second
and third sensors' records for those intervals arrive late.  After the
catch-up (waited for in the log and by DATADIR/catchup going away), every
RRD row of several keys, of sensors.rrd and of each sensor's health file
read back with `rrdtool fetch`, and `teiten-graph top --json` for hour and
day windows, must equal those of a second aggregator that received the
three replays at once, and both must equal the averages this test computes
from the sensors' own --print outputs (doc/CONTRACTS.md contract 4).  Each
sensor's late records are counted, by arrival, in its
DATADIR/faults/<id>.rrd."""

import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
from teiten_testlib import (FAILURES, check, require,  # noqa: E402
                            wait_for)

DAY0 = 1699920000  # a UTC midnight
T0 = DAY0 + 10 * 3600 + 17  # not aligned: the sensor aligns
STEP = 60
SETTLE = 1  # --late-settle: catch up once late records pause this long
TIMEOUT = 120  # seconds without progress before giving up


def keys_to_check(avgs):
    totals = collections.Counter()
    for (s, p, k), v in avgs.items():
        totals[(p, k)] += v
    ranked = sorted(totals, key=lambda pk: (-totals[pk], pk))
    rare = [pk for pk in ranked if totals[pk] < 1][:4]
    return sorted(set(ranked[:6] + rare + [("tcp", 5168)]) & set(totals))


def fetch(path, starts):
    try:
        return A.rrd_fetch(path, starts[0], starts[-1] + STEP)
    except subprocess.CalledProcessError as e:
        return {"error": e.stderr.strip()}


def rows_of(datadir, avgs, reporters, sensors):
    """{file: {row: value}} over the captures' intervals."""
    starts = sorted(reporters)
    out = {}
    for p, k in keys_to_check(avgs):
        name = "%s/%d.rrd" % (p, k)
        out[name] = fetch(os.path.join(datadir, "rrd", name), starts)
    out["sensors.rrd"] = fetch(os.path.join(datadir, "rrd", "sensors.rrd"),
                               starts)
    for sid in sensors:
        name = "sensor/%s.rrd" % sid
        out[name] = fetch(os.path.join(datadir, "rrd", name), starts)
    return out


def expected_rows(avgs, reporters, prints):
    starts = sorted(reporters)
    out = {}
    for p, k in keys_to_check(avgs):
        first = min(s for (s, pp, kk) in avgs if (pp, kk) == (p, k))
        out["%s/%d.rrd" % (p, k)] = {
            s + STEP: avgs.get((s, p, k), 0.0) for s in starts if s >= first}
    out["sensors.rrd"] = {s + STEP: reporters[s] for s in starts}
    for sid, counts in prints.items():
        own = [s for s, _, _ in counts]
        out["sensor/%s.rrd" % sid] = {
            s + STEP: 1 for s in range(min(own), max(own) + STEP, STEP)}
    return out


def compare_expected(got, want, what):
    bad = []
    for name, rows in want.items():
        if "error" in got[name]:
            bad.append("%s: %s" % (name, got[name]["error"]))
            continue
        for t, v in sorted(rows.items()):
            if not A.close(got[name].get(t), v):
                bad.append("%s at %d: %s, expected %r" %
                           (name, t, got[name].get(t), v))
    for b in bad[:10]:
        print("    " + b)
    check(not bad, "%s: %d files, every row equals the hand-computed "
          "averages" % (what, len(want)))


def top_json(datadir, start, end):
    p = subprocess.run([os.environ["TEITEN_GRAPH"], "top", "-d", datadir,
                        "--start", str(start), "--end", str(end), "-n",
                        "50", "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": p.stderr.strip()}
    return json.loads(p.stdout)


def expected_window(avgs, reporters, start, end):
    starts = [s for s in reporters if start <= s < end]
    sums = collections.Counter()
    for (s, p, k), v in avgs.items():
        if start <= s < end:
            sums["%s/%d" % (p, k)] += v
    return {k: v / len(starts) for k, v in sums.items() if v > 0}


def windows(reporters):
    first, last = min(reporters), max(reporters) + STEP
    h0 = first - first % 3600
    return [(h0, h0 + 3600), (h0 + 3600, h0 + 7200),
            (h0, last + (-last) % 3600), (DAY0, DAY0 + 86400)]


def check_top(seq, once, avgs, reporters):
    for s, e in windows(reporters):
        a, b = top_json(seq, s, e), top_json(once, s, e)
        check(a == b, "top --start %d --end %d --json: the same after "
              "sequential replays and the catch-up as after replays at "
              "once%s" % (s, e, "" if a == b else ": %r vs %r" %
                          (str(a)[:300], str(b)[:300])))
        want = expected_window(avgs, reporters, s, e)
        top = sorted(want, key=lambda k: -want[k])[:50]
        bad = [g for g in (a if isinstance(a, list) else [])
               if g["key"] not in want or not A.close(g["avg"],
                                                     want[g["key"]])]
        check(isinstance(a, list) and not bad and
              len(a) == len(top) and
              [g["avg"] for g in a] == sorted((g["avg"] for g in a),
                                              reverse=True),
              "top --start %d --end %d: %d keys, each at its hand-computed "
              "mean, best first%s" % (s, e, len(top),
                                      " (%r)" % bad[:3] if bad else ""))


def replay_one_after_another(tmp, agg, caps, keys, prints):
    for sid in ("s1", "s2", "s3"):
        p = A.run_sensor_to(agg, sid, keys[sid], caps[sid],
                            os.path.join(tmp, "seq-spool-" + sid),
                            check=False)
        check(p.returncode == 0, "sequential: sensor %s replays and exits "
              "0%s" % (sid, "" if p.returncode == 0 else
                       ": " + p.stderr[-300:]))
        if sid == "s1":
            # Final before the others start: their records come late.
            agg.wait_final(max(s for s, _, _ in prints[sid]), TIMEOUT)


def sensor_intervals(counts):
    starts = [k[0] for k in counts]
    return range(min(starts), max(starts) + STEP, STEP)


def check_faults(datadir, prints, t_begin):
    """Each sensor's late records, by arrival, in DATADIR/faults: s1's
    intervals were final before s2 and s3 started, so their records for
    those intervals came late; s1 had none."""
    last1 = max(sensor_intervals(prints["s1"]))
    want = {"s1": 0,
            "s2": sum(1 for s in sensor_intervals(prints["s2"])
                      if s <= last1),
            "s3": len(sensor_intervals(prints["s3"]))}
    for sid, n in want.items():
        path = os.path.join(datadir, "faults", sid + ".rrd")
        if n == 0:
            check(not os.path.exists(path), "%s had no fault: no %s" %
                  (sid, path))
            continue
        got = A.fault_totals(datadir, sid, t_begin - 600,
                             int(time.time()) + 600)
        check(got == {"late": n, "refused": 0, "deferred": 0,
                      "rejected": 0},
              "DATADIR/faults/%s.rrd counts its %d late records: %s" %
              (sid, n, got))


def main():
    t_begin = int(time.time())
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # the sensors write their spools as nobody
        caps = {}
        for sid, n, start, dur, seed, extra in (
                ("s1", 6000, T0, 7200, 11, []),
                ("s2", 4000, T0 + 600, 7200, 12, ["--campaign",
                                                   "5168@0.4"]),
                ("s3", 2000, T0 + 1800, 3600, 13, [])):
            caps[sid] = os.path.join(tmp, sid + ".pcap")
            # Few ports: each interval writes every key's file.
            A.gencap(caps[sid], n, dur, start, seed, ["-p", "100"] + extra)
        keysfile, keys = A.make_keys(tmp, ["s1", "s2", "s3"])
        prints = {sid: A.sensor_print(caps[sid]) for sid in caps}
        avgs, reporters = A.expected_averages(list(prints.values()))
        want = expected_rows(avgs, reporters, prints)
        extra = ["--late-settle", str(SETTLE)]

        seq = A.Aggregator(tmp, keysfile, os.path.join(tmp, "seq"),
                           extra=extra).start()
        once = A.Aggregator(tmp, keysfile, os.path.join(tmp, "once"),
                            extra=extra).start()
        try:
            replay_one_after_another(tmp, seq, caps, keys, prints)
            t0 = time.time()
            what = "sequential: the catch-up ends"
            if not check(wait_for(seq.caught_up, TIMEOUT, what), what):
                print(seq.text()[-3000:])
                return 1
            seq.wait_final(max(reporters), TIMEOUT)
            what = "sequential: caught up after the last interval"
            check(wait_for(seq.caught_up, TIMEOUT, what), what)
            print("     catch-up waited for %.1f s after the last replay" %
                  (time.time() - t0))
            log = seq.text()
            late = re.findall(r"late record from (s\d) for interval", log)
            check("s2" in late or "s3" in late,
                  "late records are logged as they arrive (%s)" %
                  sorted(set(late)))
            m = re.findall(r"catch-up: applying (\d+) late records? of (\d+) "
                           r"intervals? \(([^)]*)\)", log)
            check(m and sum(int(x[0]) for x in m) > 0,
                  "the catch-up says how many late records, of how many "
                  "intervals and from whom: %r" % m[-3:])
            done = re.findall(r"catch-up done in ([0-9.]+) s", log)
            check(bool(done), "the end of the catch-up is logged with its "
                  "duration (%s s)" % done)
            with open(os.path.join(seq.datadir, "generation")) as f:
                check(int(f.read()) >= 1, "DATADIR/generation moved on")

            res = A.replay_all(once, caps, keys, tmp, STEP)
            for sid, (rc, err) in res.items():
                check(rc == 0, "at once: sensor %s exits 0 %s" %
                      (sid, err[-300:] if rc else ""))
            once.wait_final(max(reporters), TIMEOUT)
            what = "at once: no late record waits"
            check(wait_for(once.caught_up, TIMEOUT, what), what)

            got_seq = rows_of(seq.datadir, avgs, reporters, caps)
            got_once = rows_of(once.datadir, avgs, reporters, caps)
            compare_expected(got_seq, want, "one after another")
            compare_expected(got_once, want, "at once")
            same = [n for n in got_seq if got_seq[n] != got_once[n]]
            check(not same, "every RRD row of %d files is the same both "
                  "ways%s" % (len(got_seq), (": " + ", ".join(same[:5]))
                              if same else ""))
            check_top(seq.datadir, once.datadir, avgs, reporters)
            check(not os.path.exists(os.path.join(seq.datadir,
                                                  "catchup.d")),
                  "no catch-up tree is left behind")
            check(seq.stop() == 0 and once.stop() == 0,
                  "both aggregators stop cleanly")
            check_faults(seq.datadir, prints, t_begin)
        except Exception:
            print(seq.text()[-3000:])
            raise
        finally:
            seq.stop()
            once.stop()
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    require("rrdtool")
    sys.exit(main())
