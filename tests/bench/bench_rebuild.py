#!/usr/bin/env python3
"""Rebuild: `teiten-aggregator rebuild` of a year of hourly history.

bench_rebuild_gen writes, with the aggregator's own record and archive
code, a DATADIR archive of --hours hourly intervals (8,760: a year) from
--sensors sensors (100) over the site benchmark's --keys keys (20,000;
the top 100 present every interval, the others in 90 % of them), each
tail key reported by --reporters of the sensors (10), so that a record
holds about 1,900 keys.  The archive is made once in --dir and reused
with --keep while its parameters are the same.  Then timed, after
removing what an earlier rebuild left (RRDs, summaries, markers):

  teiten-aggregator rebuild -d DATADIR -n 3600

Reported: wall, user and system time, peak RSS, the archive's size, the
RRD files written.  Checked, independently of the aggregator: for three
intervals within the hourly RRA, four keys each (the fleet's hottest
key, rank 151, a key of middling rank, a key absent from that interval), the
value `rrdtool fetch` gives equals the mean this script computes from
the interval's archive file, decoded here in Python (every record, CRC
included); sensors.rrd holds the number of records; DATADIR/last_final
is the newest interval.  Goal (issue 13), reported but never enforced:
under 10 minutes.  Binaries come from --build DIR (a release build).
"""
import argparse
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import agglib as A  # noqa: E402

GOAL_S = 600.0
END = 1795982400  # 2026-11-29 20:00 UTC, as bench_site's
STEP = 3600
HOURLY_ROWS = 400  # the hourly RRA's rows at a step of an hour (rrdw.c)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", required=True, metavar="DIR")
    p.add_argument("--hours", type=int, default=8760)
    p.add_argument("--sensors", type=int, default=100)
    p.add_argument("--keys", type=int, default=20000)
    p.add_argument("--reporters", type=int, default=10)
    p.add_argument("--dir", default=None,
                   help="where the archive is made (a tmp dir)")
    p.add_argument("--keep", action="store_true",
                   help="keep --dir's archive for the next run")
    return p.parse_args()


def generate(args, gen, top):
    """DATADIR with the archive, generated unless --dir holds it."""
    datadir = os.path.join(top, "data")
    params = os.path.join(top, "params")
    want = "hours %d sensors %d keys %d reporters %d end %d\n" % (
        args.hours, args.sensors, args.keys, args.reporters, END)
    try:
        with open(params) as f:
            if f.read() == want:
                print("archive reused from %s" % datadir)
                return datadir
    except FileNotFoundError:
        pass
    shutil.rmtree(datadir, ignore_errors=True)
    if os.path.exists(params):
        os.remove(params)
    t0 = time.monotonic()
    out = subprocess.run([gen, "-d", datadir, "--hours", str(args.hours),
                          "--sensors", str(args.sensors), "--keys",
                          str(args.keys), "--reporters",
                          str(args.reporters), "--end", str(END)],
                         check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    print(out.strip(), "(wall %.1f s)" % (time.monotonic() - t0))
    with open(params, "w") as f:
        f.write(want)
    return datadir


def clear_derived(datadir):
    """What a rebuild writes, so that each run starts from the archive."""
    for d in ("rrd", "summary"):
        shutil.rmtree(os.path.join(datadir, d), ignore_errors=True)
    for m in ("last_final", "generation", "timezone", "catchup"):
        try:
            os.remove(os.path.join(datadir, m))
        except FileNotFoundError:
            pass


def archive_bytes(datadir):
    adir = os.path.join(datadir, "archive")
    names = os.listdir(adir)
    return len(names), sum(os.path.getsize(os.path.join(adir, n))
                           for n in names)


def timed_rebuild(args, datadir):
    agg = os.path.join(args.build, "aggregator", "teiten-aggregator")
    peakrss = os.path.join(args.build, "tests", "bench", "peakrss")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([peakrss, agg, "rebuild", "-d", datadir, "-n",
                        str(STEP)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = p.stderr.splitlines()
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit("rebuild exited %d" % p.returncode)
    kib = int([ln for ln in lines if ln.startswith("peakrss ")][-1].split()[1])
    said = [ln for ln in lines if "rebuilt" in ln]
    return (wall, after.ru_utime - before.ru_utime,
            after.ru_stime - before.ru_stime, kib,
            said[-1] if said else "")


def interval_means(datadir, start):
    """{(proto, key): mean over the interval's records}, and how many
    records: the interval's archive file decoded here."""
    with open(os.path.join(datadir, "archive", "%d.arc" % start),
              "rb") as f:
        data = f.read()
    sums, n, off = {}, 0, 0
    while off < len(data):
        length, crc = struct.unpack_from(">II", data, off)
        raw = data[off + 8:off + 8 + length]
        if len(raw) != length or A.crc32c(raw) != crc:
            raise SystemExit("archive %d: a damaged entry" % start)
        rec = A.decode_record(raw)
        if rec["start"] != start or rec["len"] != STEP:
            raise SystemExit("archive %d: a record of %d+%d" %
                             (start, rec["start"], rec["len"]))
        for k, v in rec["counts"].items():
            sums[k] = sums.get(k, 0) + v
        n += 1
        off += 8 + length
    return {k: v / n for k, v in sums.items()}, n


def rrd_value(path, start):
    """The row of the interval at start (rrdtool labels a row by its
    end)."""
    rows = A.rrd_fetch(path, start, start + STEP, step=STEP)
    return rows.get(start + STEP)


def close(a, b):
    return a is not None and abs(a - b) <= 1e-9 * max(1.0, abs(b))


def check(args, datadir):
    """Mismatches, as lines; empty if every checked value is right."""
    bad = []
    last = END - STEP
    lf = A.last_final(datadir)
    if lf != last:
        bad.append("last_final %s, not %d" % (lf, last))
    back = min(args.hours, HOURLY_ROWS - 10)
    starts = sorted({last, last - STEP * (back // 2),
                     last - STEP * (back - 1)})
    got = {start: interval_means(datadir, start) for start in starts}
    # The keys of any checked interval, hottest first: the hottest, one
    # just past the 100 always present, one of middling rank, and in each
    # interval one of the tail that it lacks.
    total = {}
    for means, _ in got.values():
        for k, v in means.items():
            total[k] = total.get(k, 0) + v
    ranked = sorted(total, key=lambda k: (-total[k], k))
    for start in starts:
        means, n = got[start]
        picks = [ranked[0], ranked[min(150, len(ranked) - 1)],
                 ranked[len(ranked) // 2]]
        picks += [k for k in ranked[len(ranked) // 2:]
                  if k not in means][:1]
        for proto, key in picks:
            want = means.get((proto, key), 0.0)
            val = rrd_value(os.path.join(datadir, "rrd", proto,
                                         "%d.rrd" % key), start)
            ok = close(val, want)
            print("check %d %s/%d: rrd %s, archive mean %.10g %s" %
                  (start, proto, key, val, want, "ok" if ok else "WRONG"))
            if not ok:
                bad.append("%d %s/%d" % (start, proto, key))
        val = rrd_value(os.path.join(datadir, "rrd", "sensors.rrd"), start)
        print("check %d sensors.rrd: %s, records %d %s" %
              (start, val, n, "ok" if close(val, n) else "WRONG"))
        if not close(val, n):
            bad.append("%d sensors.rrd %s, not %d" % (start, val, n))
    return bad


def rrd_files(datadir):
    n = 0
    for _, _, files in os.walk(os.path.join(datadir, "rrd")):
        n += sum(1 for f in files if f.endswith(".rrd"))
    return n


def main():
    args = parse_args()
    args.build = os.path.abspath(args.build)
    gen = os.path.join(args.build, "tests", "bench", "bench_rebuild_gen")
    if args.dir is None:
        top = tempfile.mkdtemp(prefix="teiten-rebuild-")
    else:
        top = os.path.abspath(args.dir)
        os.makedirs(top, exist_ok=True)
    try:
        datadir = generate(args, gen, top)
        clear_derived(datadir)
        nfiles, size = archive_bytes(datadir)
        print("archive: %d intervals of %d s, %d bytes (%.2f GiB)" %
              (nfiles, STEP, size, size / 2**30))
        with open("/proc/loadavg") as f:
            print("loadavg before: %s" % f.read().strip())
        wall, user, system, kib, said = timed_rebuild(args, datadir)
        with open("/proc/loadavg") as f:
            print("loadavg after:  %s" % f.read().strip())
        print(said)
        print("rebuild   %8.1f s wall (goal < %.0f s), %.1f s user, "
              "%.1f s system, peak RSS %.1f MiB" %
              (wall, GOAL_S, user, system, kib / 1024))
        print("rrd files %8d" % rrd_files(datadir))
        bad = check(args, datadir)
    finally:
        if args.dir is None or not args.keep:
            shutil.rmtree(top if args.dir is None else
                          os.path.join(top, "data"), ignore_errors=True)
            if args.dir is not None and os.path.exists(
                    os.path.join(top, "params")):
                os.remove(os.path.join(top, "params"))
    for b in bad:
        print("WRONG: %s" % b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
