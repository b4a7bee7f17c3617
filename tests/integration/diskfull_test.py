"""Disk full, on small tmpfs file systems the test mounts (it runs as root).

RRDs: DATADIR/rrd is a tmpfs filled up before two sensors replay their
captures to a real aggregator.  Their records are archived and
acknowledged, but no RRD file can be created: the log names the failing
files, DATADIR/last_final does not move, and no RRD exists.  Once space
returns, without a rebuild, the writer's retries log each file as caught
up, and every row of every key's RRD and of sensors.rrd, read back with
`rrdtool fetch`, equals the averages this test computes from the sensors'
own --print outputs (doc/CONTRACTS.md contract 4).  The aggregator runs with
--queue-budget 0, so that every interval waiting behind the failing one
keeps only its start and is derived again from the archive when written.

Archive: DATADIR/archive is a full tmpfs.  A sensor's records are not
acknowledged (the aggregator says it cannot archive them), the archive
stays empty and the sensor's spool keeps them; once space returns the
sensor exits 0 and every RRD row equals the hand-computed averages."""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import (FAILURES, check, require,  # noqa: E402
                            wait_for)

T0 = 1699920000 + 5 * 3600 + 23
STEP = 60
TIMEOUT = 120  # seconds for one awaited event


def gencaps(tmp):
    caps = {}
    for sid, n, start, dur, seed in (("s1", 3000, T0, 1800, 21),
                                     ("s2", 1500, T0 + 300, 1200, 22)):
        caps[sid] = os.path.join(tmp, sid + ".pcap")
        A.gencap(caps[sid], n, dur, start, seed, ["-p", "40"])
    return caps


def check_all_rrds(datadir, avgs, reporters, what):
    """Every key file's rows from its first interval on, and sensors.rrd."""
    starts = sorted(reporters)
    first = {}
    for (s, p, k) in avgs:
        first[(p, k)] = min(first.get((p, k), s), s)
    bad = []
    for (p, k), f0 in sorted(first.items()):
        path = os.path.join(datadir, "rrd", p, "%d.rrd" % k)
        try:
            rows = A.rrd_fetch(path, starts[0], starts[-1] + STEP)
        except subprocess.CalledProcessError as e:
            bad.append("%s/%d: %s" % (p, k, e.stderr.strip()))
            continue
        for s in starts:
            if s >= f0 and not A.close(rows.get(s + STEP),
                                       avgs.get((s, p, k), 0.0)):
                bad.append("%s/%d at %d: %s, expected %r" %
                           (p, k, s, rows.get(s + STEP),
                            avgs.get((s, p, k), 0.0)))
    try:
        rows = A.rrd_fetch(os.path.join(datadir, "rrd", "sensors.rrd"),
                           starts[0], starts[-1] + STEP)
        bad += ["sensors.rrd at %d: %s, expected %d" %
                (s, rows.get(s + STEP), reporters[s]) for s in starts
                if not A.close(rows.get(s + STEP), reporters[s])]
    except subprocess.CalledProcessError as e:
        bad.append("sensors.rrd: %s" % e.stderr.strip())
    for b in bad[:10]:
        print("    " + b)
    check(not bad, "%s: every row of %d key files and sensors.rrd over %d "
          "intervals equals the hand-computed averages" %
          (what, len(first), len(starts)))


def rrd_case(tmp, caps, keysfile, keys, avgs, reporters):
    datadir = os.path.join(tmp, "rrdfull")
    rrddir = os.path.join(datadir, "rrd")
    A.mount_tmpfs(rrddir, "96m")  # the key files (3 DS) with room to spare
    agg = None
    try:
        agg = A.Aggregator(tmp, keysfile, datadir,
                           extra=["--queue-budget", "0"]).start()
        filler = A.fill(rrddir)
        done = A.replay_all(agg, caps, keys, tmp, STEP)
        for sid, (rc, err) in sorted(done.items()):
            check(rc == 0, "rrd full: sensor %s's records are acknowledged "
                  "(archived) and it exits 0%s" % (sid, err[-300:]
                                                   if rc else ""))
        named = lambda: re.findall(  # noqa: E731
            r"rrd (\S+): .*retried until written", agg.text())
        what = "the log names the RRD files that cannot be made"
        check(wait_for(lambda: any(n.endswith("/sensors.rrd")
                                   for n in named()), TIMEOUT, what), what)
        what = "the first interval waits for a retry"
        check(wait_for(lambda: re.search(
            r"interval %s: .*not written; retried" % T.iso(min(reporters)),
            agg.text()) is not None, TIMEOUT, what), what)
        files = named()
        check(any("/sensor/s1.rrd" in n for n in files) and
              any(re.search(r"/rrd/tcp/\d+\.rrd$", n) for n in files),
              "named: sensors.rrd, sensor/s1.rrd and key files (%d files)" %
              len(set(files)))
        check(A.last_final(datadir) is None,
              "DATADIR/last_final has not moved (%s)" %
              A.last_final(datadir))
        os.unlink(filler)
        agg.wait_final(max(reporters), TIMEOUT)
        log = agg.text()
        caught = set(re.findall(r"rrd (\S+): caught up", log))
        check(set(files) <= caught,
              "each failing file is logged as caught up (%d of %d)" %
              (len(set(files) & caught), len(set(files))))
        check(re.search(r"interval %s: written after \d+ attempts" %
                        T.iso(min(reporters)), log) is not None,
              "the log says when the first interval was written")
        check(re.search(r"RRD writer queue over 0 MiB: interval "
                        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ and "
                        r"those after it wait as their start only", log)
              is not None, "the intervals behind it wait as their start "
              "only (--queue-budget 0)")
        check_all_rrds(datadir, avgs, reporters,
                       "rrd full, then space again, no rebuild")
        check(agg.stop() == 0, "the aggregator stops cleanly")
    except Exception:
        if agg:
            print(agg.text()[-3000:])
        raise
    finally:
        if agg:
            agg.stop()
        A.umount(rrddir)


def spool_records(spool):
    n = 0
    for _, _, names in os.walk(spool):
        n += sum(1 for f in names if f.endswith(".rec"))
    return n


def archive_case(tmp, caps, keysfile, keys, avgs, reporters):
    datadir = os.path.join(tmp, "arcfull")
    arcdir = os.path.join(datadir, "archive")
    A.mount_tmpfs(arcdir, "4m")
    agg = sensor = None
    spool = os.path.join(tmp, "arc-spool-s1")
    try:
        filler = A.fill(arcdir)
        agg = A.Aggregator(tmp, keysfile, datadir).start()
        sensor = subprocess.Popen(
            [T.sensor_path(), "-r", caps["s1"], "-a", agg.addr, "-s", "s1",
             "-K", keys["s1"], "--spool", spool, "-n", str(STEP)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        what = "the aggregator cannot archive and says so"
        check(wait_for(lambda: "cannot archive the record" in agg.text(),
                       TIMEOUT, what), what)
        held = spool_records(spool)
        check(held > 0 and sensor.poll() is None,
              "archive full: the sensor still holds %d records in its "
              "spool and goes on" % held)
        check(A.archive_records(datadir) == [] and
              A.last_final(datadir) is None,
              "nothing archived, nothing final")
        os.unlink(filler)
        err = sensor.communicate(timeout=TIMEOUT + 60)[1]
        check(sensor.returncode == 0, "space again: the sensor's records "
              "are acknowledged and it exits 0%s" %
              ("" if sensor.returncode == 0 else ": " + err[-300:]))
        agg.wait_final(max(reporters), TIMEOUT)
        check(spool_records(spool) == 0, "the spool is empty")
        check_all_rrds(datadir, avgs, reporters,
                       "archive full, then space again")
    except Exception:
        if agg:
            print(agg.text()[-3000:])
        raise
    finally:
        if sensor and sensor.poll() is None:
            sensor.kill()
            sensor.wait()
        if agg:
            agg.stop()
        A.umount(arcdir)


def main():
    if os.geteuid() != 0:
        print("FAIL: mounting tmpfs needs root")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # the sensors write their spools as nobody
        caps = gencaps(tmp)
        keysfile, keys = A.make_keys(tmp, ["s1", "s2"])
        prints = {sid: A.sensor_print(caps[sid]) for sid in caps}
        avgs, reporters = A.expected_averages(list(prints.values()))
        rrd_case(tmp, caps, keysfile, keys, avgs, reporters)
        avg1, rep1 = A.expected_averages([prints["s1"]])
        archive_case(tmp, caps, keysfile, keys, avg1, rep1)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    require("rrdtool")
    sys.exit(main())
