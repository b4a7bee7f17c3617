#!/usr/bin/env python3
"""Backfill: a fleet replays a day of captures into a real aggregator.

Three sensors (--sensors) each replay one day (--days) of a synthetic
capture made by teiten-gencap (--packets each, 60-second intervals) to a
real teiten-aggregator at once, as operators bring old captures.  Timed:

  sensors   from the start until every sensor has exited (all records
            acknowledged, i.e. archived);
  writing   from then until DATADIR/last_final reaches the newest interval
            the captures hold (every RRD file and summary bucket written);
  rebuild   `teiten-aggregator rebuild` of the same DATADIR, daemon stopped.

The aggregator's CPU time (user and system, from /proc) is shown for the
whole replay.  With --rrdcached, a real rrdcached started here takes the
RRD updates.  Goal (issue 13), reported but never enforced: writing under
20 s.  Binaries come from --build DIR (a -Dbuildtype=release build).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

GOAL_WRITE_S = 20.0
START = 1699920000  # 2023-11-14 00:00 UTC, teiten-gencap's default


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", required=True, metavar="DIR")
    p.add_argument("--sensors", type=int, default=3)
    p.add_argument("--packets", type=int, default=200000)
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--rrdcached", action="store_true")
    p.add_argument("--dir", default=None, help="scratch folder (a tmp dir)")
    p.add_argument("--keep", action="store_true",
                   help="keep the scratch folder, and say where")
    return p.parse_args()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def newest_interval(sensor, pcap):
    out = subprocess.run([sensor, "-r", pcap, "-n", "60", "--print"],
                         capture_output=True, text=True, check=True).stdout
    return max(int(line.split("\t")[0]) for line in out.splitlines())


def run(args, tmp):
    build = os.path.abspath(args.build)
    os.environ["TEITEN_AGGREGATOR"] = os.path.join(
        build, "aggregator", "teiten-aggregator")
    os.environ["TEITEN_SENSOR"] = os.path.join(build, "sensor",
                                               "teiten-sensor")
    os.environ["TEITEN_GENCAP"] = os.path.join(build, "contrib",
                                               "teiten-gencap")
    import agglib as A
    sensor = os.environ["TEITEN_SENSOR"]
    ids = ["bf%d" % i for i in range(1, args.sensors + 1)]
    pattern = os.path.join(tmp, "day-%d.pcap")
    subprocess.run([os.environ["TEITEN_GENCAP"], "-c", str(args.packets),
                    "--days", str(args.days), "--sensors",
                    str(args.sensors), "-o", pattern], check=True)
    caps = {sid: pattern % (i + 1) for i, sid in enumerate(ids)}
    last = max(newest_interval(sensor, c) for c in caps.values())
    keysfile, keys = A.make_keys(tmp, ids)
    datadir = os.path.join(tmp, "data")
    extra = ["-n", "60"]
    cached = None
    if args.rrdcached:
        sock = os.path.join(tmp, "rrdcached.sock")
        journal = os.path.join(tmp, "journal")
        os.mkdir(journal)
        cached = subprocess.Popen(["rrdcached", "-g", "-l", "unix:" + sock,
                                   "-j", journal, "-w", "3600", "-f",
                                   "7200"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        while not os.path.exists(sock):
            if cached.poll() is not None:
                raise SystemExit("rrdcached did not start")
            time.sleep(0.05)
        extra += ["--rrdcached", "unix:" + sock]
    agg = A.Aggregator(tmp, keysfile, datadir, grace=5, extra=extra).start()
    try:
        t0 = time.monotonic()
        procs = [subprocess.Popen(
            [sensor, "-r", caps[sid], "-a", agg.addr, "-s", sid, "-K",
             keys[sid], "--spool", os.path.join(tmp, "spool-" + sid), "-n",
             "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for sid in ids]
        for p in procs:
            if p.wait() != 0:
                raise SystemExit("a sensor exited %d" % p.returncode)
        t1 = time.monotonic()
        while A.last_final(datadir) != last:
            if agg.proc.poll() is not None:
                raise SystemExit("the aggregator exited")
            time.sleep(0.05)
        t2 = time.monotonic()
        user, system = cpu_seconds(agg.proc.pid)
    finally:
        agg.stop()
        if cached is not None:
            cached.terminate()
            cached.wait()
    keyfiles = sum(len(os.listdir(os.path.join(datadir, "rrd", p)))
                   for p in ("tcp", "udp", "icmp", "icmp6")
                   if os.path.isdir(os.path.join(datadir, "rrd", p)))
    t3 = time.monotonic()
    subprocess.run([os.environ["TEITEN_AGGREGATOR"], "rebuild", "-d",
                    datadir, "-n", "60"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t4 = time.monotonic()
    intervals = (last - START) // 60 + 1
    print("%d sensors x %d packets, %d intervals of 60 s, %d key files%s"
          % (args.sensors, args.packets, intervals, keyfiles,
             ", through rrdcached" if args.rrdcached else ""))
    print("sensors done after   %7.2f s" % (t1 - t0))
    print("writing after that   %7.2f s  (goal < %.0f s)"
          % (t2 - t1, GOAL_WRITE_S))
    print("aggregator CPU       %7.2f s user, %.2f s system" % (user, system))
    print("rebuild              %7.2f s" % (t4 - t3))


def main():
    args = parse_args()
    tmp = tempfile.mkdtemp(prefix="teiten-backfill-", dir=args.dir)
    try:
        run(args, tmp)
    finally:
        if args.keep:
            print("kept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
