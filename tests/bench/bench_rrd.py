#!/usr/bin/env python3
"""RRD writing cost and disk size for every tcp and udp port.

Drives bench_rrd (tests/bench/bench_rrd.c), which calls the aggregator's
own RRD writer (rrdw_new/rrdw_write) with intervals that carry all
--keys keys (default 131,072: every tcp and udp port), in a temporary
datadir under --dir:

  create  the first interval: one rrd_create per key file, then its update;
  direct  --direct-intervals more intervals with librrd (rrd_update_r per
          file), the page cache warm from the creation;
  cached  a real rrdcached started here (rrdcached -g -l unix:SOCK -j DIR
          -w 3600 -f 7200) on the same files: one warm-up interval (the
          writer reads every file's last update once, as after a restart)
          and flush, then --cached-intervals intervals as one BATCH each,
          then FLUSHALL, waited for until rrdcached has written every value;
          the timing includes the flush, and rrdcached's own CPU is shown.

Then the disk used per key file (st_size, st_blocks, du) and its total for
131,072 keys, and the retention its RRAs give (`rrdtool info`).

Goals, reported but never enforced: a 60-second interval's RRD work for
131,072 keys at most 10 s; all RRDs for 131,072 keys under 8 GB.  Needs
--min-free-gb (20) free in --dir, or skips with a message (exit 77, which
meson reports as SKIP).  The temporary data is deleted at the end unless
--keep.  Exits non-zero only when something could not run.

The tool comes from --build DIR, --bench-rrd PATH or the environment
(TEITEN_BENCH_RRD), which is how `meson test --benchmark` passes it.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

GOAL_INTERVAL_S = 10.0
GOAL_BYTES = 8e9
ALL_KEYS = 131072
SKIP = 77


class BenchError(Exception):
    pass


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", metavar="DIR",
                   help="meson build directory (release) holding bench_rrd")
    p.add_argument("--bench-rrd", default=os.environ.get("TEITEN_BENCH_RRD"))
    p.add_argument("--keys", type=int, default=ALL_KEYS,
                   help="key files per interval (tcp then udp ports)")
    p.add_argument("--step", type=int, default=60)
    p.add_argument("--direct-intervals", type=int, default=3)
    p.add_argument("--cached-intervals", type=int, default=5)
    p.add_argument("--no-cached", action="store_true")
    p.add_argument("--rrdcached", default=shutil.which("rrdcached"))
    p.add_argument("--rrdtool", default=shutil.which("rrdtool"))
    p.add_argument("--dir", default=os.environ.get("TMPDIR") or "/var/tmp",
                   help="where the temporary datadir goes (a real disk)")
    p.add_argument("--min-free-gb", type=float, default=20.0)
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary datadir")
    args = p.parse_args()
    if args.build:
        args.bench_rrd = os.path.join(args.build, "tests", "bench",
                                      "bench_rrd")
    if not args.bench_rrd:
        raise BenchError("no bench_rrd binary: give --build DIR or "
                         "--bench-rrd PATH")
    if not os.access(args.bench_rrd, os.X_OK):
        raise BenchError(f"{args.bench_rrd}: not an executable")
    if not 1 <= args.keys <= ALL_KEYS:
        raise BenchError(f"--keys must be 1 to {ALL_KEYS}")
    return args


def run_bench(argv):
    """Run bench_rrd, echoing and parsing its lines as they come."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    out = {"intervals": []}
    for line in p.stdout:
        w = line.split()
        if w[0] == "interval":
            out["intervals"].append({"start": int(w[2]), "wall": float(w[4]),
                                     "user": float(w[6]),
                                     "sys": float(w[8])})
            print(f"    interval {w[1]}: {float(w[4]):.2f} s "
                  f"(user {float(w[6]):.2f}, sys {float(w[8]):.2f})",
                  flush=True)
        elif len(w) >= 3 and w[1] == "wall":
            out[w[0]] = float(w[2])
        elif w[0] in ("daemon_cpu", "failed"):
            out[w[0]] = float(w[1])
    if p.wait() != 0:
        raise BenchError(f"bench_rrd exited {p.returncode}")
    return out


def sizes(root):
    """Key files, apparent bytes, allocated bytes (st_blocks), du bytes."""
    n = size = blocks = 0
    for proto in ("tcp", "udp"):
        with os.scandir(os.path.join(root, proto)) as it:
            for e in it:
                if e.name.endswith(".rrd"):
                    st = e.stat()
                    n += 1
                    size += st.st_size
                    blocks += st.st_blocks * 512
    du = subprocess.run(["du", "-s", "--block-size=1",
                         os.path.join(root, "tcp"), os.path.join(root, "udp")],
                        capture_output=True, text=True)
    du_bytes = sum(int(l.split()[0]) for l in du.stdout.splitlines()) \
        if du.returncode == 0 else None
    return n, size, blocks, du_bytes


def rrd_info(rrdtool, path):
    out = subprocess.run([rrdtool, "info", path], check=True,
                         capture_output=True, text=True).stdout
    info = {}
    for line in out.splitlines():
        k, _, v = line.partition(" = ")
        info[k] = v.strip().strip('"')
    step = int(info["step"])
    rras = []
    i = 0
    while f"rra[{i}].rows" in info:
        rras.append((info[f"rra[{i}].cf"], int(info[f"rra[{i}].pdp_per_row"]),
                     int(info[f"rra[{i}].rows"])))
        i += 1
    ds = sorted({m.group(1) for m in
                 (re.match(r"ds\[(\w+)\]\.type", k) for k in info) if m})
    return step, rras, ds


def span(secs):
    if secs >= 365 * 86400:
        return f"{secs / (365.25 * 86400):.1f} years"
    if secs >= 2 * 86400:
        return f"{secs / 86400:.0f} days"
    return f"{secs / 3600:.0f} hours"


def start_rrdcached(args, tmp):
    sock = os.path.join(tmp, "rrdcached.sock")
    jdir = os.path.join(tmp, "journal")
    os.mkdir(jdir)
    cmd = [args.rrdcached, "-g", "-l", "unix:" + sock, "-j", jdir,
           "-w", "3600", "-f", "7200", "-p",
           os.path.join(tmp, "rrdcached.pid"), "-b", tmp]
    log = open(os.path.join(tmp, "rrdcached.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    log.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            raise BenchError("rrdcached exited: " +
                             open(os.path.join(tmp, "rrdcached.log")).read())
        if os.path.exists(sock):
            return proc, sock
        time.sleep(0.05)
    proc.kill()
    raise BenchError("rrdcached does not listen")


def main():
    args = parse_args()
    st = os.statvfs(args.dir)
    free = st.f_bavail * st.f_frsize
    if free < args.min_free_gb * 1e9:
        print(f"bench_rrd: skipped: {free / 1e9:.1f} GB free in {args.dir}, "
              f"need {args.min_free_gb:.0f} GB (--dir, --min-free-gb)")
        return SKIP
    n, d, c = args.keys, args.direct_intervals, args.cached_intervals
    scale = ALL_KEYS / n
    print(f"{n} key files, step {args.step} s; {free / 1e9:.0f} GB free in "
          f"{args.dir}; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}")
    tmp = tempfile.mkdtemp(prefix="teiten-rrd-", dir=args.dir)
    datadir = os.path.join(tmp, "data")
    cached = None
    ok = True
    try:
        total = 1 + d + (0 if args.no_cached else 1 + c)
        start = (int(time.time()) // args.step - total - 10) * args.step
        print(f"direct librrd: creation, then {d} intervals")
        direct = run_bench([args.bench_rrd, "-d", datadir, "--keys", str(n),
                            "--intervals", str(1 + d), "--start", str(start),
                            "--step", str(args.step)])
        t = time.monotonic()
        os.sync()
        sync_s = time.monotonic() - t
        create = direct["intervals"][0]["wall"]
        warm = [i["wall"] for i in direct["intervals"][1:]]
        print(f"  creation interval: {create:.1f} s for {n} files "
              f"({1e6 * create / n:.0f} us each), then sync {sync_s:.1f} s")
        if warm:
            print(f"  direct per interval (warm cache): mean "
                  f"{sum(warm) / len(warm):.2f} s, min {min(warm):.2f} s, "
                  f"max {max(warm):.2f} s ({1e6 * min(warm) / n:.0f} us "
                  f"per file)")
        files, size, blocks, du_bytes = sizes(os.path.join(datadir, "rrd"))
        print(f"  disk: {files} key files, {size / files:,.0f} B each "
              f"(st_size), {blocks / files:,.0f} B allocated (st_blocks)"
              + (f", du {du_bytes / files:,.0f} B" if du_bytes else ""))
        total_bytes = (du_bytes or blocks) / files * ALL_KEYS
        print(f"  for {ALL_KEYS} keys: {total_bytes / 1e9:.2f} GB "
              f"({total_bytes / 2**30:.2f} GiB) on disk; goal < 8 GB: "
              f"{'ok' if total_bytes < GOAL_BYTES else 'OVER'}")
        if args.rrdtool:
            step, rras, ds = rrd_info(args.rrdtool, os.path.join(
                datadir, "rrd", "tcp", "80.rrd" if n > 80 else "0.rrd"))
            print(f"  retention (rrdtool info): step {step} s, DS "
                  f"{','.join(ds)}; " + "; ".join(
                      f"{cf} {ppr}x{step}s x {rows} rows = "
                      f"{span(ppr * step * rows)}" for cf, ppr, rows in rras))
        direct_best = min(warm) if warm else create
        if not args.no_cached and not args.rrdcached:
            print("cached: skipped, rrdcached not installed")
        elif not args.no_cached:
            cached, sock = start_rrdcached(args, tmp)
            print(f"rrdcached (-w 3600 -f 7200, journal): 1 warm-up "
                  f"interval and flush, then {c} intervals + FLUSHALL")
            r = run_bench([args.bench_rrd, "-d", datadir, "--keys", str(n),
                           "--intervals", str(1 + c), "--warmup", "1",
                           "--start", str(start + (1 + d) * args.step),
                           "--step", str(args.step), "--cached",
                           "unix:" + sock, "--cached-pid", str(cached.pid)])
            batch = [i["wall"] for i in r["intervals"][1:]]
            flush = r["flushall"]
            amort = (sum(batch) + flush) / len(batch)
            print(f"  warm-up interval {r['intervals'][0]['wall']:.2f} s "
                  f"(reads every file's last update), its flush "
                  f"{r.get('warmup_flush', 0):.2f} s")
            print(f"  BATCH per interval: mean {sum(batch) / len(batch):.2f}"
                  f" s; FLUSHALL of {len(batch)} intervals: {flush:.2f} s; "
                  f"per interval with the flush: {amort:.2f} s")
            if "daemon_cpu" in r:
                print(f"  rrdcached CPU over the timed part: "
                      f"{r['daemon_cpu']:.2f} s "
                      f"({r['daemon_cpu'] / len(batch):.2f} s per interval)")
            proj = sum(batch) / len(batch) + flush / (3600 / args.step)
            print(f"  projected with -w 3600 (one write per file per hour, "
                  f"{3600 // args.step} values each, if a flush of 60 costs "
                  f"about what a flush of {len(batch)} did): {proj:.2f} s "
                  f"per interval")
            direct_best = min(direct_best, amort)
        worst = max(sum(warm) / len(warm) if warm else create,
                    0) * scale
        print(f"goal: a {args.step}-second interval's RRD work for "
              f"{ALL_KEYS} keys <= {GOAL_INTERVAL_S:.0f} s: direct "
              f"{worst:.2f} s {'ok' if worst <= GOAL_INTERVAL_S else 'OVER'}"
              + (f", cached {amort * scale:.2f} s "
                 f"{'ok' if amort * scale <= GOAL_INTERVAL_S else 'OVER'}"
                 if not args.no_cached and args.rrdcached else "")
              + (f" (scaled from {n} keys)" if n != ALL_KEYS else ""))
    finally:
        if cached is not None and cached.poll() is None:
            cached.send_signal(signal.SIGTERM)
            try:
                cached.wait(120)
            except subprocess.TimeoutExpired:
                cached.kill()
                cached.wait()
        if args.keep:
            print(f"kept {tmp}")
        else:
            t = time.monotonic()
            shutil.rmtree(tmp, ignore_errors=True)
            print(f"removed {tmp} in {time.monotonic() - t:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench_rrd: {e}", file=sys.stderr)
        sys.exit(1)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"bench_rrd: {e}", file=sys.stderr)
        sys.exit(1)
