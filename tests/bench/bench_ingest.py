#!/usr/bin/env python3
"""Ingest cost of teiten-aggregator under a simulated fleet of sensors.

Runs a real teiten-aggregator (use a release build) on a temporary datadir
with a long --grace, and loadgen (tests/bench/loadgen.c) as N sensors, each
with its own id and key, sending records of about 2,000 keys (Zipf-like
counts) and waiting for the durable acknowledgement.  Two phases, each on
a fresh aggregator and datadir:

  rate   --rate records/s across the fleet for --duration seconds
         (default 170/s for 60 s: 10,000 sensors at one record a minute);
  max    as fast as the aggregator acknowledges, --window records in
         flight, for --burst seconds (0 skips it).

For each phase: records/s and keys/s acknowledged, ack latency p50/p99,
aggregator CPU time (utime + stime from /proc/PID/stat over the timed
phase) as % of one core, split into the network thread and the others
(the RRD writer), its peak RSS (VmHWM), archive commits (fsync groups) per
second from its final log report, and bytes it wrote to storage.

By default loadgen's lg-hold sensor keeps every interval of the run open
(see loadgen.c), so that no RRD is written: the numbers are receive,
verify, decode, sum, archive and fsync.  --finalize lets intervals become
final as they complete, adding the RRD writer thread's work (first
intervals create one RRD file per key: slow; bench_rrd.py measures that).

With --sketches, each phase runs twice, first with version-1 records
and then with version-2 records carrying sketches of distinct sources and
targets (loadgen's sources model, see loadgen.c; precision --sketch-p),
both against an aggregator given the same sketch key file
(--sketch-key-file), so that the sketches' cost is the difference.
Record sizes (bytes encoded: mean and percentiles over loadgen's
templates, which the records cycle through) are printed for each phase.

Memory per idle connection: the aggregator's VmRSS once the fleet has
connected and been challenged (each sensor waiting to send its first
record), less its VmRSS before, divided by the sensors; and the kernel's
side (Slab in /proc/meminfo, TCP pages in /proc/net/sockstat), whose
growth is that of both ends of each loopback connection.

A fleet larger than the open file limit needs root: the driver raises its
hard limit (up to /proc/sys/fs/nr_open) for itself, loadgen and the
aggregator.  loadgen connects from one loopback source address per
10,000 sensors (--sources), since one address reaches one port from at
most the ephemeral port range (about 28,000 ports).

Goals, reported but never enforced: 10,000 sensors at one record a minute
(~170 records and ~340,000 keys a second) cost under 10% of one core;
100,000 (--rate 1700: ~3.4 M keys a second) under 50%, with p99 ack
latency under 100 ms.  Exits non-zero only when something could not run.

Tools come from --build DIR, or --aggregator/--loadgen, or the
environment (TEITEN_AGGREGATOR, TEITEN_LOADGEN), which is how
`meson test --benchmark` passes them.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# Records/s of the fleet at one a minute: % of one core, p99 ack latency
# in ms (None: no goal).  The larger goal applies from its rate on.
GOALS = [(170, 10.0, None), (1_666, 50.0, 100.0)]
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", metavar="DIR",
                   help="meson build directory (release) holding both tools")
    p.add_argument("--aggregator", default=os.environ.get("TEITEN_AGGREGATOR"))
    p.add_argument("--loadgen", default=os.environ.get("TEITEN_LOADGEN"))
    p.add_argument("--sensors", type=int, default=10_000)
    p.add_argument("--rate", type=float, default=170.0,
                   help="records per second across the fleet (rate phase)")
    p.add_argument("--duration", type=float, default=60.0,
                   help="seconds of the rate phase (0 skips it)")
    p.add_argument("--burst", type=float, default=20.0,
                   help="seconds of the max-rate phase (0 skips it)")
    p.add_argument("--window", type=int, default=256,
                   help="records in flight in the max-rate phase")
    p.add_argument("--keys", type=int, default=2000,
                   help="keys per record, on average")
    p.add_argument("--grace", type=int, default=3600)
    p.add_argument("--finalize", action="store_true",
                   help="no hold sensor: intervals finalize, RRDs written")
    p.add_argument("--rrdcached", metavar="ADDR",
                   help="pass --rrdcached ADDR to the aggregator")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sketches", action="store_true",
                   help="run each phase without, then with, sketches")
    p.add_argument("--sketch-p", type=int, default=14,
                   help="sketch precision with --sketches")
    p.add_argument("--dir", default=os.environ.get("TMPDIR") or "/var/tmp",
                   help="where the temporary datadirs go (a real disk)")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary directory")
    args = p.parse_args()
    if args.build:
        args.aggregator = os.path.join(args.build, "aggregator",
                                       "teiten-aggregator")
        args.loadgen = os.path.join(args.build, "tests", "bench", "loadgen")
    for name in ("aggregator", "loadgen"):
        path = getattr(args, name)
        if not path:
            raise BenchError(f"no {name} binary: give --build DIR or "
                             f"--{name} PATH")
        if not os.access(path, os.X_OK):
            raise BenchError(f"{path}: not an executable")
    return args


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raise_nofile(need):
    """This process's open file limit, soft and hard, to at least need if
    root may (up to fs.nr_open), else soft to hard; the children inherit
    it.  Returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < need and os.geteuid() == 0:
        with open("/proc/sys/fs/nr_open") as f:
            hard = min(need, int(f.read()))
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def kernel_mem():
    """Slab (bytes) from /proc/meminfo and TCP pages from sockstat."""
    slab = tcp = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Slab:"):
                slab = int(line.split()[1]) * 1024
    with open("/proc/net/sockstat") as f:
        m = re.search(r"^TCP: .* mem (\d+)", f.read(), re.M)
        if m:
            tcp = int(m.group(1)) * os.sysconf("SC_PAGE_SIZE")
    return slab, tcp


def ticks(path):
    """utime + stime in seconds from a /proc .../stat file."""
    with open(path) as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_sample(pid):
    """Process CPU seconds, and per thread {tid: seconds}."""
    total = ticks(f"/proc/{pid}/stat")
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            threads[int(tid)] = ticks(f"/proc/{pid}/task/{tid}/stat")
        except OSError:
            pass
    return total, threads


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


def proc_io(pid, key):
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def write_sketch_key(path, seed):
    """The fleet's sketch key file (keyfile.h: 64 hex digits, 0600)."""
    key = bytes((seed * 131 + i * 7) & 0xFF for i in range(32))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")


def start_aggregator(args, tmp, keys, active):
    port = free_port()
    datadir = os.path.join(tmp, "data")
    log = os.path.join(tmp, "aggregator.log")
    # loadgen's sensors connect, then wait for "go" before their first
    # record: longer than the default auth timeout for a large fleet.  A
    # sensor sending more than one record a minute (a fleet smaller than
    # the rate, or the max phase) reports the intervals after, back to
    # back, as one emptying its spool would: they may be far ahead.
    cmd = [args.aggregator, "-f", "-l", f"127.0.0.1:{port}", "-d", datadir,
           "-K", keys, "--grace", str(args.grace), "--active", str(active),
           "--auth-timeout", "3600", "--skew", "86400"]
    if args.rrdcached:
        cmd += ["--rrdcached", args.rrdcached]
    if args.sketches:
        cmd += ["--sketch-key-file", os.path.join(tmp, "sketch.key")]
    with open(log, "w") as logf:
        # It raises its soft open file limit to the hard one, which
        # main() raised for the fleet.
        proc = subprocess.Popen(cmd, stdout=logf, stderr=logf)
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"aggregator exited: {open(log).read()}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port, log
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise BenchError("aggregator does not listen")


def run_phase(args, name, rate, duration, start, sketch=False):
    tmp = tempfile.mkdtemp(prefix=f"teiten-ingest-{name}-", dir=args.dir)
    agg = None
    try:
        keys = os.path.join(tmp, "sensors.keys")
        subprocess.run([args.loadgen, "--write-keys", keys, "-n",
                        str(args.sensors), "--seed", str(args.seed)],
                       check=True)
        if args.sketches:
            write_sketch_key(os.path.join(tmp, "sketch.key"), args.seed)
        active = max(3600, int(duration) + 600)
        agg, port, log = start_aggregator(args, tmp, keys, active)
        cmd = [args.loadgen, "-a", f"127.0.0.1:{port}", "-n",
               str(args.sensors), "--rate", str(rate), "--duration",
               str(duration), "--keys", str(args.keys), "--window",
               str(args.window), "--seed", str(args.seed), "--start",
               str(start), "--sources", str(-(-args.sensors // 10_000))]
        if args.finalize:
            cmd.append("--no-hold")
        if sketch:
            cmd += ["--sketch-key", os.path.join(tmp, "sketch.key"),
                    "--sketch-p", str(args.sketch_p)]
        res = {"name": name, "rss_base_kib": proc_status(agg.pid, "VmRSS")}
        kmem0 = kernel_mem()
        lg = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        cpu0 = cpu1 = None
        for line in lg.stdout:
            line = line.strip()
            if line.startswith("ready "):
                _, n, secs = line.split()
                res["connect_secs"] = float(secs)
                res["rss_connected_kib"] = proc_status(agg.pid, "VmRSS")
                kmem1 = kernel_mem()
                res["kernel_slab"] = kmem1[0] - kmem0[0]
                res["kernel_tcp"] = kmem1[1] - kmem0[1]
            elif line == "go":
                t0 = time.monotonic()
                cpu0 = cpu_sample(agg.pid)
                wb0 = proc_io(agg.pid, "write_bytes")
            elif line == "done":
                t1 = time.monotonic()
                cpu1 = cpu_sample(agg.pid)
                wb1 = proc_io(agg.pid, "write_bytes")
            elif line.startswith("{"):
                res.update(json.loads(line))
        if lg.wait() not in (0, 2) or cpu0 is None or cpu1 is None:
            raise BenchError(f"loadgen exited {lg.returncode}")
        if agg.poll() is not None:
            raise BenchError(f"aggregator died: {open(log).read()}")
        res["hwm_kib"] = proc_status(agg.pid, "VmHWM")
        res["rss_done_kib"] = proc_status(agg.pid, "VmRSS")
        res["wall"] = t1 - t0
        res["agg_cpu"] = cpu1[0] - cpu0[0]
        main = cpu1[1].get(agg.pid, 0) - cpu0[1].get(agg.pid, 0)
        res["agg_cpu_main"] = main
        res["agg_cpu_other"] = res["agg_cpu"] - main
        res["write_bytes"] = (wb1 - wb0 if wb0 is not None and
                              wb1 is not None else None)
        agg.send_signal(signal.SIGTERM)
        try:
            agg.wait(60)
        except subprocess.TimeoutExpired:
            agg.kill()
            agg.wait()
        text = open(log).read()
        m = re.search(r"(\d+) commits", text)
        res["commits"] = int(m.group(1)) if m else None
        m = re.search(r"records: (\d+) stored .*?(\d+) intervals final, "
                      r"(\d+) open", text)
        if m:
            res["agg_stored"] = int(m.group(1))
            res["agg_final"] = int(m.group(2))
            res["agg_open"] = int(m.group(3))
        warn = [l for l in text.splitlines()
                if "disconnected" in l or "record rejected" in l or
                "accept:" in l or "refusing" in l]
        res["agg_warnings"] = len(warn)
        if warn:
            res["agg_first_warning"] = warn[0]
        return res
    finally:
        if agg is not None and agg.poll() is None:
            agg.kill()
            agg.wait()
        if args.keep:
            print(f"  kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(res):
    secs = res["wall"]  # go .. done: the timed phase and its drain
    recs = res["stored"] / secs
    keys = res["keys_acked"] / secs
    pct = 100.0 * res["agg_cpu"] / secs
    print(f"phase {res['name']}: {res['sensors']} sensors connected in "
          f"{res['connect_secs']:.1f} s ({res['connected'] - 1} + lg-hold"
          f", {res['dead']} failed); {res['sent']} records sent in "
          f"{res['secs']:.1f} s + {res['drain_secs']:.2f} s drain")
    print(f"  acked durably: {res['stored']} stored, {res['duplicate']} "
          f"duplicate, {res['rejected']} rejected, {res['lost']} lost"
          f"{', %d sends skipped (all busy)' % res['stalls'] if res['stalls'] else ''}")
    print(f"  throughput: {recs:,.1f} records/s, {keys:,.0f} keys/s, "
          f"{res['bytes'] / secs / 1e6:.2f} MB/s of frames "
          f"({res['avg_keys']:.0f} keys, "
          f"{res['bytes'] / max(res['sent'], 1) / 1e3:.1f} kB per record)")
    print(f"  record size (bytes encoded, version "
          f"{2 if res['sketch_p'] else 1}"
          f"{', sketches p=%d' % res['sketch_p'] if res['sketch_p'] else ''}"
          f"): mean {res['rec_bytes_mean']:,}, min {res['rec_bytes_min']:,},"
          f" p50 {res['rec_bytes_p50']:,}, p90 {res['rec_bytes_p90']:,}, "
          f"p99 {res['rec_bytes_p99']:,}, max {res['rec_bytes_max']:,} "
          f"(frame payload limit {res['frame_max_payload']:,})")
    print(f"  ack latency: p50 {res['lat_p50_ms']:.2f} ms, p90 "
          f"{res['lat_p90_ms']:.2f} ms, p99 {res['lat_p99_ms']:.2f} ms, "
          f"max {res['lat_max_ms']:.2f} ms")
    print(f"  aggregator CPU: {res['agg_cpu']:.2f} s in {secs:.1f} s = "
          f"{pct:.2f}% of one core (network thread "
          f"{100 * res['agg_cpu_main'] / secs:.2f}%, others "
          f"{100 * res['agg_cpu_other'] / secs:.2f}%); "
          f"{1e6 * res['agg_cpu'] / max(res['stored'], 1):.0f} us/record")
    n = res["sensors"]
    per = (res["rss_connected_kib"] - res["rss_base_kib"]) * 1024 / n
    print(f"  aggregator memory: VmHWM {res['hwm_kib'] / 1024:.1f} MiB; "
          f"VmRSS {res['rss_base_kib'] / 1024:.1f} MiB before the fleet, "
          f"{res['rss_connected_kib'] / 1024:.1f} MiB once all sensors "
          f"connected, {res['rss_done_kib'] / 1024:.1f} MiB at the end")
    print(f"  per idle connection: {per:,.0f} bytes of aggregator RSS; "
          f"kernel, both ends of the loopback connection: "
          f"{res['kernel_slab'] / n:,.0f} bytes of slab, "
          f"{res['kernel_tcp'] / n:,.0f} bytes of TCP buffers")
    if res.get("commits") is not None:
        print(f"  archive commits: {res['commits']} "
              f"(~{res['commits'] / secs:.1f}/s, "
              f"{res['stored'] / max(res['commits'], 1):.1f} records each)"
              + (f"; {res['write_bytes'] / secs / 1e6:.2f} MB/s written"
                 if res.get("write_bytes") is not None else ""))
    print(f"  loadgen CPU (same machine): {res['loadgen_cpu_s']:.2f} s "
          f"(includes its setup)")
    if "agg_final" in res:
        print(f"  intervals: {res['agg_final']} final, {res['agg_open']} "
              f"open at the end")
    if res["agg_warnings"]:
        print(f"  aggregator warnings: {res['agg_warnings']}, first: "
              f"{res['agg_first_warning']}")
    return recs, keys, pct


def main():
    args = parse_args()
    # The fleet, loadgen's own descriptors, the aggregator's reserve.
    nofile = raise_nofile(args.sensors + 1024)
    if nofile < args.sensors + 1024:
        raise BenchError(f"{args.sensors} sensors need an open file limit "
                         f"of {args.sensors + 1024}; it is {nofile}, and "
                         f"only root with CAP_SYS_RESOURCE may raise the "
                         f"hard limit")
    with open("/proc/loadavg") as f:
        loadavg = f.read().strip()
    print(f"{args.sensors} sensors, ~{args.keys} keys per record; "
          f"{os.cpu_count()} CPUs, /proc/loadavg {loadavg}; open file "
          f"limit {nofile}; datadirs in {args.dir}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    goal_pct, goal_p99 = [g[1:] for g in GOALS if args.rate >= g[0] or
                          g is GOALS[0]][-1]
    now = int(time.time()) // 60 * 60
    results = []
    variants = [False, True] if args.sketches else [False]
    for sketch in variants if args.duration > 0 else []:
        res = run_phase(args, "rate-sketches" if sketch else "rate",
                        args.rate, args.duration, now, sketch)
        results.append(res)
        recs, keys, pct = report(res)
        per_min = args.rate * 60 / args.sensors
        ok = pct < goal_pct and (goal_p99 is None or
                                 res["lat_p99_ms"] < goal_p99)
        print(f"goal: {args.sensors} sensors x {per_min:.2f} records/min "
              f"= {args.rate:.0f} records/s at < {goal_pct:.0f}% of one "
              f"core" + (f", p99 ack < {goal_p99:.0f} ms" if goal_p99
                         else "") +
              f": {pct:.2f}%, p99 {res['lat_p99_ms']:.1f} ms "
              f"{'ok' if ok else 'OVER'}"
              f"{'' if res['stalls'] == 0 and res['lost'] == 0 else ' (but the rate was not held)'}")
    for sketch in variants if args.burst > 0 else []:
        res = run_phase(args, "max-sketches" if sketch else "max", 0,
                        args.burst, now, sketch)
        results.append(res)
        recs, keys, pct = report(res)
        print(f"max sustained with durable acks: {recs:,.0f} records/s, "
              f"{keys:,.0f} keys/s at {pct:.0f}% of one core")
    bad = [r for r in results if r["dead"] or r["lost"] or r["rejected"]]
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench_ingest: {e}", file=sys.stderr)
        sys.exit(1)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"bench_ingest: {e}", file=sys.stderr)
        sys.exit(1)
