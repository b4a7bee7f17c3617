#!/usr/bin/env python3
"""Throughput and memory of teiten-sensor against bare reads of its file.

Generates (or reuses) a capture with teiten-gencap, warms the page cache,
then times, best of N, on the same file: the bare pcap_loop baseline, a
bare mmap walk with a simple parse and per-key counting (mmap_bare), the
same walk reading the file in 256 KiB pieces as the direct reader does
(mmap_bare -p, "read_bare"), and
`teiten-sensor -r FILE -n 3600 --print >/dev/null` with its direct reader
(--reader direct) and through libpcap (--reader libpcap, the reader before
issue 13), the direct reader with --sources (distinct sources and targets
in sketches, issue 10), and tcpdump -w for context when it is installed.  Goals (issue
13), reported but never enforced: the direct reader at least 3x the
libpcap reader's packets per second and within 1.5x of the mmap walk's
time; peak RSS < 16 MiB; with --sources within 1.5x of the bare
libpcap loop's time (issue 10).  Exits non-zero only when something could not
run.

Tools come from --build DIR, or --sensor/--gencap/--bare/--mmap/--peakrss,
or the environment (TEITEN_SENSOR, TEITEN_GENCAP, TEITEN_PCAP_BARE,
TEITEN_MMAP_BARE, TEITEN_PEAKRSS), which is how `meson test --benchmark`
passes them.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

GOAL_SPEEDUP = 3.0  # direct reader over the libpcap reader
GOAL_MMAP_RATIO = 1.5  # direct reader's time over the mmap walk's
GOAL_RSS_MIB = 16
GOAL_SOURCES_RATIO = 1.5  # sensor --sources over the bare libpcap loop
KEYED = ("tcp", "udp", "icmp", "icmp6")


class BenchError(Exception):
    pass


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", metavar="DIR",
                   help="meson build directory holding the three tools")
    p.add_argument("--sensor", default=os.environ.get("TEITEN_SENSOR"))
    p.add_argument("--gencap", default=os.environ.get("TEITEN_GENCAP"))
    p.add_argument("--bare", default=os.environ.get("TEITEN_PCAP_BARE"))
    p.add_argument("--mmap", default=os.environ.get("TEITEN_MMAP_BARE"))
    p.add_argument("--peakrss", default=os.environ.get("TEITEN_PEAKRSS"))
    p.add_argument("--packets", type=int, default=10_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--interval", type=int, default=3600)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--cache-dir", default=os.path.join(
        os.environ.get("TMPDIR") or "/tmp", "teiten-bench"))
    p.add_argument("--no-tcpdump", action="store_true")
    args = p.parse_args()
    if args.build:
        args.sensor = os.path.join(args.build, "sensor", "teiten-sensor")
        args.gencap = os.path.join(args.build, "contrib", "teiten-gencap")
        args.bare = os.path.join(args.build, "tests", "bench", "pcap_bare")
        args.mmap = os.path.join(args.build, "tests", "bench", "mmap_bare")
        args.peakrss = os.path.join(args.build, "tests", "bench", "peakrss")
    for name in ("sensor", "gencap", "bare", "mmap", "peakrss"):
        path = getattr(args, name)
        if not path:
            raise BenchError(f"no {name} binary: give --build DIR or "
                             f"--{name} PATH")
        if not os.access(path, os.X_OK):
            raise BenchError(f"{path}: not an executable")
    return args


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_summary(text):
    """teiten-gencap -v: '...: N packets: tcp N udp N ... vlan N'."""
    m = re.search(r"(\d+) packets:((?: [a-z0-9]+ \d+)+)", text)
    if m is None:
        raise BenchError(f"teiten-gencap: no summary in {text!r}")
    words = m.group(2).split()
    summary = {k: int(v) for k, v in zip(words[::2], words[1::2])}
    summary["packets"] = int(m.group(1))
    return summary


def capture(args):
    """The capture and its summary, regenerated only when stale."""
    # The generator's own bytes are part of the key: a changed mix is a
    # different capture even with the same options.
    params = {"packets": args.packets, "seed": args.seed,
              "gencap": sha256(args.gencap)}
    os.makedirs(args.cache_dir, exist_ok=True)
    base = os.path.join(args.cache_dir, "gencap-%d-s%d-%s" % (
        args.packets, args.seed, params["gencap"][:12]))
    pcap, meta = base + ".pcap", base + ".json"
    try:
        with open(meta) as f:
            m = json.load(f)
        if m["params"] == params and os.path.getsize(pcap) == m["size"]:
            return pcap, m["summary"], "reused"
    except (OSError, ValueError, KeyError):
        pass
    tmp = pcap + ".tmp"
    t0 = time.perf_counter()
    r = subprocess.run([args.gencap, "-v", "-c", str(args.packets),
                        "-S", str(args.seed), "-o", tmp],
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise BenchError(f"teiten-gencap failed: {r.stderr.strip()}")
    took = time.perf_counter() - t0
    summary = parse_summary(r.stderr)
    os.replace(tmp, pcap)
    with open(meta, "w") as f:
        json.dump({"params": params, "size": os.path.getsize(pcap),
                   "summary": summary}, f)
    return pcap, summary, f"generated in {took:.1f} s"


def warm(path):
    with open(path, "rb", buffering=0) as f:
        while f.read(1 << 20):
            pass


def run_once(peakrss, argv):
    """Wall seconds, CPU seconds and peak RSS (KiB) of one fresh child.

    The peak comes from the peakrss wrapper: a child of this process
    would report Python's own high-water mark (tens of MiB) as its floor.
    """
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen([peakrss] + argv, stdout=subprocess.DEVNULL,
                             stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        msg = err.read().decode(errors="replace").strip()
    m = re.search(r"^peakrss (\d+)$", msg, re.M)
    if p.returncode != 0 or m is None:
        raise BenchError(f"{argv[0]} exited {p.returncode}: {msg}")
    return wall, ru.ru_utime + ru.ru_stime, int(m.group(1))


def measure(peakrss, cmds, runs):
    """Best-of-runs for each command, interleaved so drift hits all."""
    best = {name: None for name in cmds}
    rss = {name: 0 for name in cmds}
    for _ in range(runs):
        for name, argv in cmds.items():
            wall, cpu, maxrss = run_once(peakrss, argv)
            b = best[name]
            best[name] = (wall, cpu) if b is None else (min(b[0], wall),
                                                        min(b[1], cpu))
            rss[name] = max(rss[name], maxrss)
    return best, rss


def sanity(args, pcap, summary, reader):
    """The sensor's printed per-key total against what was generated."""
    want = sum(summary[k] for k in KEYED)
    p = subprocess.Popen([args.sensor, "-r", pcap, "-n", str(args.interval),
                          "--print", "--reader", reader],
                         stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    got = 0
    for line in p.stdout:
        got += int(line.rstrip("\n").split("\t")[3])
    err = p.stderr.read()
    if p.wait() != 0:
        raise BenchError(f"teiten-sensor exited {p.returncode}: {err}")
    return got, want


def main():
    args = parse_args()
    pcap, summary, how = capture(args)
    size = os.path.getsize(pcap)
    n = summary["packets"]
    print(f"capture: {pcap}")
    print(f"  {n} packets, {size / 1e6:.0f} MB, {how}; " +
          " ".join(f"{k} {v}" for k, v in summary.items() if k != "packets"))
    warm(pcap)

    sensor = [args.sensor, "-r", pcap, "-n", str(args.interval), "--print"]
    cmds = {
        "pcap_bare": [args.bare, pcap],
        "mmap_bare": [args.mmap, pcap],
        "read_bare": [args.mmap, "-p", pcap],
        "sensor direct": sensor + ["--reader", "direct"],
        "sensor libpcap": sensor + ["--reader", "libpcap"],
        "sensor --sources": sensor + ["--reader", "direct", "--sources"],
    }
    tcpdump = None if args.no_tcpdump else shutil.which("tcpdump")
    if tcpdump:
        # "-w -" into /dev/null: given "-w /dev/null", tcpdump running as
        # root hands the file to its unprivileged user, chowning /dev/null.
        cmds["tcpdump -w"] = [tcpdump, "-r", pcap, "-w", "-"]
    bare_out = subprocess.run([args.bare, pcap], capture_output=True,
                              text=True, check=False)
    if bare_out.returncode != 0 or int(bare_out.stdout) != n:
        raise BenchError(f"pcap_bare read {bare_out.stdout.strip()} "
                         f"packets, expected {n}: {bare_out.stderr}")
    for flags in ([], ["-p"]):
        mmap_out = subprocess.run([args.mmap] + flags + [pcap],
                                  capture_output=True, text=True,
                                  check=False)
        if (mmap_out.returncode != 0 or
                int(mmap_out.stdout.split()[0]) != n):
            raise BenchError(f"mmap_bare {' '.join(flags)} read "
                             f"{mmap_out.stdout.strip()} packets, "
                             f"expected {n}: {mmap_out.stderr}")

    print(f"load average before: {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs; best of {args.runs}")
    best, rss = measure(args.peakrss, cmds, args.runs)
    print(f"  {'':<16}{'wall s':>8}{'cpu s':>8}{'Mpps':>8}{'RSS MiB':>9}")
    for name, (wall, cpu) in best.items():
        print(f"  {name:<16}{wall:8.3f}{cpu:8.3f}{n / wall / 1e6:8.2f}"
              f"{rss[name] / 1024:9.1f}")
    bare, walk = best["pcap_bare"], best["mmap_bare"]
    direct, old = best["sensor direct"], best["sensor libpcap"]
    print(f"sensor libpcap/pcap_bare: {old[0] / bare[0]:.2f} wall, "
          f"{old[1] / bare[1]:.2f} cpu")
    print(f"sensor direct/pcap_bare: {direct[0] / bare[0]:.2f} wall, "
          f"{direct[1] / bare[1]:.2f} cpu")
    speedup = old[0] / direct[0]
    print(f"direct speed-up over the libpcap reader: {speedup:.2f}x wall, "
          f"{old[1] / direct[1]:.2f}x cpu (goal >= {GOAL_SPEEDUP}x): "
          f"{'ok' if speedup >= GOAL_SPEEDUP else 'SLOW'}")
    ratio = direct[0] / walk[0]
    print(f"sensor direct/mmap_bare: {ratio:.2f} wall, "
          f"{direct[1] / walk[1]:.2f} cpu (goal <= {GOAL_MMAP_RATIO}): "
          f"{'ok' if ratio <= GOAL_MMAP_RATIO else 'SLOW'}")
    src = best["sensor --sources"]
    ratio = src[0] / bare[0]
    print(f"sensor --sources/pcap_bare: {ratio:.2f} wall, "
          f"{src[1] / bare[1]:.2f} cpu (goal <= {GOAL_SOURCES_RATIO}): "
          f"{'ok' if ratio <= GOAL_SOURCES_RATIO else 'SLOW'}; "
          f"over sensor direct: {src[0] / direct[0]:.2f} wall, "
          f"{src[1] / direct[1]:.2f} cpu")
    piece = best["read_bare"]
    print(f"sensor direct/read_bare (context): {direct[0] / piece[0]:.2f} "
          f"wall, {direct[1] / piece[1]:.2f} cpu")
    for name in ("sensor direct", "sensor libpcap", "sensor --sources"):
        mib = rss[name] / 1024
        print(f"{name} peak RSS: {mib:.1f} MiB (goal < {GOAL_RSS_MIB}): "
              f"{'ok' if mib < GOAL_RSS_MIB else 'OVER'}")
    if tcpdump:
        td = best["tcpdump -w"]
        print(f"tcpdump/bare (context): {td[0] / bare[0]:.2f} wall, "
              f"{td[1] / bare[1]:.2f} cpu")
    for reader in ("direct", "libpcap"):
        got, want = sanity(args, pcap, summary, reader)
        print(f"sanity ({reader}): sensor per-key total {got}, generated "
              f"keyed {want}: {'ok' if got == want else 'MISMATCH'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench_sensor: {e}", file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        print(f"bench_sensor: {e}", file=sys.stderr)
        sys.exit(1)
