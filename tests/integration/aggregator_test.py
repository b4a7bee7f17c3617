"""End to end: sensors replay captures (-r) to a real aggregator over TCP on
loopback; the RRDs, read back with `rrdtool fetch`, must hold for every
interval exactly the average the test computes from the sensors' own
--print outputs (doc/CONTRACTS.md contract 4: the divisor counts only sensors
that reported the interval), 0 where a key had no packets.  The same through a
real rrdcached.  Then: a resent replay is acknowledged as duplicate and
archived once; a sensor's records for intervals already final are archived as
late, leave the RRDs alone, and count after `teiten-aggregator rebuild`.
A backlog (an aggregator started on an archive whose intervals were never
written, as after an outage of its writer) is written many intervals
together, directly and through rrdcached: every key's rows equal the
hand-computed averages and the summaries equal those written live."""

import glob
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check, require  # noqa: E402

T0 = 1700000000


def archive_entries(datadir):
    """Records in the archive, counted from the files' own framing."""
    n = 0
    for path in glob.glob(os.path.join(datadir, "archive", "*.arc")):
        with open(path, "rb") as f:
            data = f.read()
        off = 0
        while off + 8 <= len(data):
            (length,) = struct.unpack_from(">I", data, off)
            off += 8 + length
            n += 1
    return n


def keys_to_check(avgs):
    """The five busiest keys, the campaign port, and some rare ones."""
    totals = {}
    for (s, p, k), v in avgs.items():
        totals[(p, k)] = totals.get((p, k), 0) + v
    ranked = sorted(totals, key=lambda pk: -totals[pk])
    rare = [pk for pk in ranked if totals[pk] < 1][:3]
    return set(ranked[:5] + rare + [("tcp", 5168), ("icmp", 8),
                                   ("icmp6", 128)]) & set(totals)


def check_rrds(datadir, avgs, reporters, what, daemon=None, more=0):
    """more: also that many keys spread over all (an rrdtool run each)."""
    keys = keys_to_check(avgs)
    every = sorted({(p, k) for (s, p, k) in avgs})
    if more:
        keys |= set(every[::max(1, len(every) // more)])
    starts = sorted(reporters)
    bad = []
    for p, k in sorted(keys):
        first = min(s for (s, pp, kk) in avgs if (pp, kk) == (p, k))
        rows = A.rrd_fetch(os.path.join(datadir, "rrd", p, "%d.rrd" % k),
                           starts[0], starts[-1] + 60, daemon=daemon)
        for s in starts:
            if s < first:
                continue
            want = avgs.get((s, p, k), 0.0)
            got = rows.get(s + 60)
            if not A.close(got, want):
                bad.append("%s/%d at %d: rrd %s, expected %r" %
                           (p, k, s, got, want))
    rows = A.rrd_fetch(os.path.join(datadir, "rrd", "sensors.rrd"),
                       starts[0], starts[-1] + 60, daemon=daemon)
    for s in starts:
        if not A.close(rows.get(s + 60), reporters[s]):
            bad.append("sensors.rrd at %d: %s, expected %d" %
                       (s, rows.get(s + 60), reporters[s]))
    for b in bad[:10]:
        print("    " + b)
    check(not bad, "%s: %d keys over %d intervals equal the hand-computed "
          "averages" % (what, len(keys), len(starts)))


def replay_all(agg, sensors, keys, tmp):
    procs = []
    for sid, pcap in sensors:
        spool = os.path.join(tmp, "spool-" + sid)
        procs.append((sid, subprocess.Popen(
            [T.sensor_path(), "-r", pcap, "-a", agg.addr, "-s", sid, "-K",
             keys[sid], "--spool", spool], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)))
    for sid, p in procs:
        err = p.communicate(timeout=120)[1]
        check(p.returncode == 0, "sensor %s replays and exits 0 once all is "
              "acknowledged%s" % (sid, "" if p.returncode == 0 else
                                   ": " + err[-500:]))


def scenario(tmp, caps, keysfile, keys, avgs, reporters, daemon=None):
    name = "rrdcached" if daemon else "librrd"
    datadir = os.path.join(tmp, "data-" + name)
    extra = ["--rrdcached", daemon] if daemon else []
    agg = A.Aggregator(tmp, keysfile, datadir, extra=extra).start()
    try:
        replay_all(agg, [(s, caps[s]) for s in ("s1", "s2", "s3")], keys,
                   tmp)
        # A replay that lagged on a busy machine sent late records.
        agg.settle(max(reporters))
        check_rrds(datadir, avgs, reporters, name, daemon)
        entries = archive_entries(datadir)
        check(entries == sum(reporters.values()),
              "%s: archive holds one record per sensor and interval (%d)" %
              (name, entries))
        return agg, datadir
    except Exception:
        print(agg.text())
        agg.stop()
        raise


def summaries(datadir):
    out = {}
    for path in glob.glob(os.path.join(datadir, "summary", "*", "*.sum")):
        with open(path, "rb") as f:
            out[os.path.relpath(path, datadir)] = f.read()
    return out


def backlog(tmp, keysfile, live, avgs, reporters, daemon=None):
    """The archive of live's datadir alone, its intervals never written:
    the aggregator finalizes them all at its first tick and writes them
    as one backlog."""
    name = "backlog-" + ("rrdcached" if daemon else "librrd")
    datadir = os.path.join(tmp, "data-" + name)
    os.mkdir(datadir)
    shutil.copytree(os.path.join(live, "archive"),
                    os.path.join(datadir, "archive"))
    shutil.copy(os.path.join(live, "step"), datadir)
    extra = ["-v"] + (["--rrdcached", daemon] if daemon else [])
    agg = A.Aggregator(tmp, keysfile, datadir, extra=extra).start()
    try:
        agg.wait_final(max(reporters))
    finally:
        agg.stop()
    check(" written together" in agg.text(),
          "%s: intervals written together (the log says so)" % name)
    check_rrds(datadir, avgs, reporters, name, daemon, more=60)
    check(summaries(datadir) == summaries(live),
          "%s: the summary buckets equal those written live" % name)


def late_and_rebuild(tmp, agg, datadir, caps, keys, prints, avgs, reporters):
    before = archive_entries(datadir)
    p = A.run_sensor_to(agg, "s1", keys["s1"], caps["s1"],
                        os.path.join(tmp, "spool-s1"))
    check(archive_entries(datadir) == before and
          "already held" in p.stderr,
          "a resent replay is acknowledged as duplicate, archived once")
    A.run_sensor_to(agg, "s4", keys["s4"], caps["s4"],
                    os.path.join(tmp, "spool-s4"))
    time.sleep(1)
    check_rrds(datadir, avgs, reporters, "late records leave RRDs alone")
    check(agg.stop() == 0, "aggregator stops cleanly on SIGTERM")
    log = agg.text()
    check("late)" in log and " 0 late)" not in log,
          "late records are counted in the aggregator's report")
    subprocess.run([A.aggregator_path(), "rebuild", "-d", datadir],
                   check=True, capture_output=True)
    avgs4, rep4 = A.expected_averages(prints + [A.sensor_print(caps["s4"])])
    check_rrds(datadir, avgs4, rep4, "rebuild counts the late records")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # the sensors write their spools as nobody
        caps = {}
        for sid, n, dur, seed, extra in (
                ("s1", 30000, 900, 1, []),
                ("s2", 20000, 900, 2, ["--campaign", "5168@0.5"]),
                ("s3", 8000, 420, 3, []),
                ("s4", 5000, 900, 4, [])):
            caps[sid] = os.path.join(tmp, sid + ".pcap")
            A.gencap(caps[sid], n, dur, T0, seed, extra)
        keysfile, keys = A.make_keys(tmp, ["s1", "s2", "s3", "s4"])
        prints = [A.sensor_print(caps[s]) for s in ("s1", "s2", "s3")]
        avgs, reporters = A.expected_averages(prints)
        check(min(reporters.values()) < 3,
              "the captures leave some intervals with fewer reporters")

        agg, datadir = scenario(tmp, caps, keysfile, keys, avgs, reporters)
        backlog(tmp, keysfile, datadir, avgs, reporters)
        late_and_rebuild(tmp, agg, datadir, caps, keys, prints, avgs,
                         reporters)

        sock = os.path.join(tmp, "rrdcached.sock")
        rrdc = subprocess.Popen(
            ["rrdcached", "-g", "-l", "unix:" + sock, "-p",
             os.path.join(tmp, "rrdcached.pid"), "-j", tmp, "-w", "3600",
             "-f", "7200"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _ in range(100):
                if os.path.exists(sock) or rrdc.poll() is not None:
                    break
                time.sleep(0.05)
            check(os.path.exists(sock), "rrdcached started: %s" %
                  (rrdc.stderr.read().decode() if rrdc.poll() is not None
                   else "listening"))
            agg, cdata = scenario(tmp, caps, keysfile, keys, avgs,
                                  reporters, daemon="unix:" + sock)
            agg.stop()
            backlog(tmp, keysfile, cdata, avgs, reporters, "unix:" + sock)
            # rrdcached still remembers the old files' last update times:
            # a rebuild through it must make it forget them.
            p = subprocess.run([A.aggregator_path(), "rebuild", "-d", cdata,
                                "--rrdcached", "unix:" + sock],
                               capture_output=True, text=True)
            check(p.returncode == 0, "rebuild through rrdcached exits 0 %s"
                  % p.stderr.strip()[-200:])
            check_rrds(cdata, avgs, reporters, "rebuild through rrdcached",
                       "unix:" + sock)
        finally:
            rrdc.terminate()
            rrdc.wait()
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    require("rrdtool")
    sys.exit(main())
