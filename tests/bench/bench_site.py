#!/usr/bin/env python3
"""Site regeneration on a year of data: 20,000 active keys, 100 sensors.

The issue's goal: `teiten-graph site` is incremental and cheap enough to
run every 5 minutes from a timer, under 5 s on this machine, for a year of
hourly intervals with 20,000 active keys and 100 sensors.

bench_site (tests/bench/bench_site.c) writes the DATADIR with the
aggregator's own code (rrdw for the first interval, which creates every
RRD; summary_add for every interval; the later RRD rows in batches of
rrd_update_r), ending at --end (2026-11-29 20:00 UTC by default).  It is
generated once into the cache directory (BUILDDIR/bench-site-data) and
reused while its parameters match (--regenerate to make it again).  Each
run copies it to a temporary work directory beside the cache, since new
intervals are appended to the copy, and times the real teiten-graph on it:

  cold       `teiten-graph site -d DATA -o OUT` into an empty OUT
             (every PNG rendered), --repeat times;
  no change  the same again at once: nothing new, no PNG rendered;
  top        `teiten-graph top -d DATA --window year -n 20`;
  new hour   `bench_site --append` adds one final interval as the
             aggregator's RRD thread would (rrdw_write, summary_add,
             last_final; timed on its own, then synced), then site: the
             day and week graphs are rendered again (every hour);
  new day    the interval that completes the UTC day, then site: every
             window moves, so every graph is rendered again (once a day).

Reported per case: median and minimum wall time, CPU (user + system) and
peak RSS (tests/bench/peakrss), PNGs rendered; the ratio to the 5 s goal;
the DATADIR's size and file count.  Checked, and the run fails if not: the
site has index.html, top-year.json has 20 rows led by the key bench_site
made hottest and agrees with `top --json`, the no-change run renders no
PNG, a new hour renders no month, quarter or year PNG that existed, and a
new day renders them all.  The page cache is warm (the copy was just
made); a cold page cache is not measured.  Timings never fail the run.

With --sketches it measures the summary's sketches instead (issue 10):
bench_site --summary-only --sketches writes, once, a DATADIR of the same
year and keys holding only the summary, every bucket with its .hll file
of distinct sources and targets (the sources model of bench_site.c, its S
given by --sketch-src), into the cache directory + "-sketches"; then it
reports the bytes of DATADIR/summary by part (hour and day buckets, .sum
and .hll; hourly buckets are pruned after 16 days) and times, best and
median of --repeat, `teiten-graph top -n 20 --period YEAR` (the calendar
year of --end), ranked --by sources and by packets (which reads the
sketches too, for the sources and targets columns).  Goals: the summary under 2 GB, ranking by sources over a
year under 1 s.  No site is drawn.

Tools from --build DIR, or --bench-site, --graph, --peakrss and --cache,
or the environment (TEITEN_BENCH_SITE, TEITEN_GRAPH, TEITEN_PEAKRSS,
TEITEN_BENCH_SITE_CACHE), which is how `meson test --benchmark` passes
them.  Needs --min-free-gb (4) free beside the cache, or skips (exit 77).
"""
import argparse
import calendar
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

GOAL_S = 5.0
SKIP = 77
# Bump when bench_site.c makes different data from the same parameters.
DATA_VERSION = 1
WINDOWS = ("day", "week", "month", "quarter", "year")
LONG_WINDOWS = ("month", "quarter", "year")
PROTO_BASE = {"tcp": 0, "udp": 65536, "icmp": 131072, "icmp6": 131328}
# aggregator/bucket.h's bucket file, native byte order.
SUM_HEAD = struct.Struct("=4sIqqQdII")
SUM_ENTRY = struct.Struct("=IId")


class BenchError(Exception):
    pass


FAILURES = []
LOADS = []  # 1-minute load average as each timed run starts


def check(cond, what):
    print(("  ok   " if cond else "  FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", metavar="DIR",
                   help="meson build directory holding the programs")
    p.add_argument("--bench-site", default=os.environ.get("TEITEN_BENCH_SITE"))
    p.add_argument("--graph", default=os.environ.get("TEITEN_GRAPH"))
    p.add_argument("--peakrss", default=os.environ.get("TEITEN_PEAKRSS"))
    p.add_argument("--cache",
                   help="where the generated DATADIR is kept between runs "
                   "(default BUILDDIR/bench-site-data)")
    p.add_argument("--regenerate", action="store_true",
                   help="generate the DATADIR again even if cached")
    p.add_argument("--keys", type=int, default=20000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--sensors", type=int, default=100)
    p.add_argument("--step", type=int, default=3600)
    p.add_argument("--end", type=int, default=1795982400,
                   help="end of the newest generated interval (Unix time)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2,
                   help="bench_site's RRD writing threads")
    p.add_argument("--repeat", type=int, default=3,
                   help="cold, no-change and top runs")
    p.add_argument("--hours", type=int, default=3,
                   help="new-hour runs (fewer than the hours from --end "
                   "to midnight)")
    p.add_argument("--no-new-day", action="store_true")
    p.add_argument("--min-free-gb", type=float, default=4.0)
    p.add_argument("--sketches", action="store_true",
                   help="the summary's sketches: bytes and top --by sources")
    p.add_argument("--sketch-src", type=int, default=20000,
                   help="S of the sources model (with --sketches)")
    p.add_argument("--sketch-p", type=int, default=14)
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory (DATADIR copy and site)")
    a = p.parse_args()
    if a.build:
        a.bench_site = os.path.join(a.build, "tests", "bench", "bench_site")
        a.graph = os.path.join(a.build, "graph", "teiten-graph")
        a.peakrss = os.path.join(a.build, "tests", "bench", "peakrss")
    if not a.cache:
        a.cache = os.path.join(a.build, "bench-site-data") if a.build \
            else os.environ.get("TEITEN_BENCH_SITE_CACHE")
    for name in ("bench_site", "graph", "peakrss"):
        v = getattr(a, name)
        if not v or not os.access(v, os.X_OK):
            raise BenchError(f"no {name} program ({v}): give --build DIR")
    if not a.cache:
        raise BenchError("no cache directory: give --build DIR or --cache")
    a.cache = os.path.abspath(a.cache)
    if a.repeat < 1 or a.hours < 0:
        raise BenchError("--repeat must be at least 1, --hours at least 0")
    left = (86400 - a.end % 86400) // a.step  # intervals to midnight
    if a.hours >= left:
        raise BenchError(f"--hours must be below {left}: the new-hour runs "
                         f"stay within --end's UTC day")
    return a


def gen_argv(a, datadir):
    return [a.bench_site, "-d", datadir, "--keys", str(a.keys),
            "--days", str(a.days), "--sensors", str(a.sensors),
            "--step", str(a.step), "--end", str(a.end),
            "--seed", str(a.seed)]


def run_gen(argv):
    """Run bench_site; its lines as {first word: rest of the words}."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, text=True)
    out = {}
    for line in p.stdout.splitlines():
        w = line.split()
        if w:
            out[w[0]] = w[1:]
    if p.returncode != 0:
        raise BenchError(f"{' '.join(argv)}: exit {p.returncode}\n"
                         + p.stdout)
    return out


def ensure_data(a):
    """The cached DATADIR and what its generation reported."""
    params = {"version": DATA_VERSION, "keys": a.keys, "days": a.days,
              "sensors": a.sensors, "step": a.step, "end": a.end,
              "seed": a.seed}
    data = os.path.join(a.cache, "data")
    meta_path = os.path.join(a.cache, "params.json")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        meta = None
    if (not a.regenerate and meta and meta.get("params") == params
            and os.path.exists(os.path.join(data, "last_final"))):
        print(f"reusing {data} (generated in "
              f"{meta['generate_s']:.0f} s; --regenerate to redo)")
        return data, meta
    shutil.rmtree(a.cache, ignore_errors=True)
    os.makedirs(a.cache)
    print(f"generating {data}: {a.keys} keys, {a.sensors} sensors, "
          f"{a.days} days of {a.step} s intervals, {a.threads} RRD "
          f"threads (progress on stderr)", flush=True)
    out = run_gen(gen_argv(a, data) + ["--threads", str(a.threads)])
    meta = {"params": params, "hottest": out["hottest"][0],
            "create_s": float(out["create"][1]),
            "summary_s": float(out["summary"][1]),
            "rrd_s": float(out["rrd"][1]),
            "generate_s": float(out["generate"][1])}
    print(f"  generated in {meta['generate_s']:.1f} s: first interval "
          f"through rrdw (creates {out['create'][3]} RRDs) "
          f"{meta['create_s']:.1f} s; then, side by side, summary_add for "
          f"every interval {meta['summary_s']:.1f} s and the batched RRD "
          f"rows {meta['rrd_s']:.1f} s; check {float(out['check'][1]):.1f}"
          f" s", flush=True)
    with open(meta_path + ".tmp", "w") as f:
        json.dump(meta, f, indent=1)
    os.rename(meta_path + ".tmp", meta_path)
    return data, meta


def disk_usage(root):
    """{top-level part: [files, bytes (st_size), bytes allocated]}."""
    parts = {}
    for dirpath, _, files in os.walk(root):
        rel = os.path.relpath(dirpath, root).split(os.sep)
        part = "/".join(rel[:2]) if rel[0] == "summary" else rel[0]
        if part == ".":
            part = "top"
        acc = parts.setdefault(part, [0, 0, 0])
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            acc[0] += 1
            acc[1] += st.st_size
            acc[2] += st.st_blocks * 512
    return parts


def timed(a, argv):
    """Run argv under peakrss: wall s, CPU s, peak RSS KiB, stdout."""
    LOADS.append(os.getloadavg()[0])
    r0 = os.times()
    t = time.monotonic()
    p = subprocess.run([a.peakrss] + argv, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t
    r1 = os.times()
    err = p.stderr.splitlines()
    rss = None
    if err and err[-1].startswith("peakrss "):
        rss = int(err[-1].split()[1])
        err = err[:-1]
    if p.returncode != 0:
        raise BenchError(f"{' '.join(argv)}: exit {p.returncode}: "
                         + "\n".join(err))
    cpu = (r1.children_user - r0.children_user
           + r1.children_system - r0.children_system)
    return wall, cpu, rss, p.stdout


def pngs(site):
    """{PNG name under site: (inode, mtime_ns)}: what a run rewrote."""
    out = {}
    for sub in ("", "key", "report"):
        d = os.path.join(site, sub)
        if not os.path.isdir(d):
            continue
        with os.scandir(d) as it:
            for e in it:
                if e.name.endswith(".png"):
                    st = e.stat()
                    out[os.path.join(sub, e.name) if sub else e.name] = \
                        (st.st_ino, st.st_mtime_ns)
    return out


def rewritten(before, after):
    return sorted(n for n, v in after.items() if before.get(n) != v)


def window_of(name):
    base = os.path.basename(name)[:-4]
    for w in WINDOWS:
        if base.startswith(w + "-") or base.endswith("-" + w):
            return w
    return "?"


def site_run(a, data, site, results, case, *extra):
    before = pngs(site)
    wall, cpu, rss, _ = timed(a, [a.graph, "site", "-d", data, "-o", site]
                              + list(extra))
    after = pngs(site)
    new = rewritten(before, after)
    results.setdefault(case, []).append(
        {"wall": wall, "cpu": cpu, "rss": rss, "pngs": len(new),
         "load": LOADS[-1]})
    print(f"  {case}: {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS "
          f"{rss / 1024:.1f} MiB, {len(new)} of {len(after)} PNGs "
          f"rendered", flush=True)
    return before, after, new


def check_site(a, data, site, hottest):
    idx = os.path.join(site, "index.html")
    check(os.path.isfile(idx) and os.path.getsize(idx) > 0,
          "index.html exists")
    with open(os.path.join(site, "top-year.json")) as f:
        year = json.load(f)["rows"]
    check(len(year) == 20, f"top-year.json has 20 rows ({len(year)})")
    check(bool(year) and year[0]["key"] == hottest,
          f"the year's top key is {hottest}, the generator's hottest "
          f"({year[0]['key'] if year else None})")
    top = json.loads(subprocess.run(
        [a.graph, "top", "-d", data, "--window", "year", "-n", "20",
         "--json"], check=True, capture_output=True, text=True).stdout)
    check([r["key"] for r in top] == [r["key"] for r in year],
          "`top --window year --json` lists the keys of top-year.json")
    pages = [n for n in os.listdir(os.path.join(site, "key"))
             if n.endswith(".html")]
    drawn = pngs(site)
    n = len([x for x in drawn if not x.startswith("report/")])
    want = 4 * len(WINDOWS) + len(WINDOWS) * len(pages)
    check(n == want, f"{n} PNGs: 4 per window and one per window for "
          f"each of the {len(pages)} key pages ({want})")
    reports = [x for x in os.listdir(os.path.join(site, "report"))
               if x.endswith(".html") and x != "index.html"]
    n = len(drawn) - n
    check(reports and n == 3 * len(reports),
          f"{len(reports)} report pages (months, quarters, fiscal years), "
          f"each with its 3 top graphs ({n} PNGs)")
    return len(pages)


def hour_bucket(data, start):
    """{key index: sum} of DATADIR/summary/hour/START.sum, or None."""
    try:
        with open(os.path.join(data, "summary", "hour", f"{start}.sum"),
                  "rb") as f:
            b = f.read()
    except FileNotFoundError:
        return None
    magic, _, _, _, nint, _, _, n = SUM_HEAD.unpack_from(b)
    if magic != b"TSUM" or nint != 1:
        raise BenchError(f"summary/hour/{start}.sum: {magic} {nint}")
    return {e[0]: e[2] for e in SUM_ENTRY.iter_unpack(
        b[SUM_HEAD.size:SUM_HEAD.size + n * SUM_ENTRY.size])}


def check_rows(a, data, labels, n=48):
    """
    With one interval per hour, each hourly summary bucket holds exactly
    one interval's averages: the last n rows `rrdtool fetch` reads from
    a key's RRD (batched by bench_site, or appended by rrdw_write) must
    equal them, 0 where the key was absent.
    """
    rrdtool = shutil.which("rrdtool")
    if rrdtool is None or a.step != 3600:
        print("  (rows not compared: needs rrdtool and --step 3600)")
        return
    with open(os.path.join(data, "last_final")) as f:
        last = int(f.read())
    for label in labels:
        proto, key = label.split("/")
        out = subprocess.run(
            [rrdtool, "fetch", os.path.join(data, "rrd", proto,
                                            key + ".rrd"),
             "AVERAGE", "-r", str(a.step), "-s",
             str(last - n * a.step), "-e", str(last)],
            check=True, capture_output=True, text=True).stdout
        same = bad = 0
        for line in out.splitlines():
            t, sep, v = line.partition(":")
            if not sep or not t.strip().isdigit():
                continue
            b = hour_bucket(data, int(t) - a.step)
            if b is None or int(t) - a.step > last:
                continue
            want = b.get(PROTO_BASE[proto] + int(key), 0.0)
            got = float(v)
            if abs(got - want) <= 1e-9 * max(abs(want), 1e-300):
                same += 1
            else:
                bad += 1
        check(bad == 0 and same >= n - 1,
              f"{label}: {same} RRD rows (rrdtool fetch) equal the hourly "
              f"summary buckets, {bad} differ")


def append(a, data):
    out = run_gen(gen_argv(a, data) + ["--append"])
    # The site is timed, not the kernel writing back what rrdw dirtied.
    os.sync()
    w = out["append"]
    print(f"  appended interval {w[0]}: rrdw_write {float(w[3]):.2f} s "
          f"(reads every file's last update first, as after a restart), "
          f"summary_add {float(w[6]):.3f} s", flush=True)
    return float(w[3]), float(w[6])


def check_month_closes(a, data, site, results):
    """The daily run after a month closed: its report pages are drawn, the
    earlier closed periods' are kept, and it stays under the goal."""
    t = time.gmtime(a.end)
    m = calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0))
    print("month closes: site --end the day before the month's end, then "
          "--end at it")
    site_run(a, data, site, results, "day before", "--end", str(m - 86400))
    before, after, new = site_run(a, data, site, results, "month closes",
                                  "--end", str(m))
    prev = time.gmtime(m - 86400)
    month = "%04d-%02d" % (prev.tm_year, prev.tm_mon)
    reports = [n for n in after if n.startswith("report/")]
    drawn = [n for n in new if n.startswith("report/")]
    kept = [n for n in reports if n not in drawn]
    check(f"report/{month}-top1-5.png" in drawn and kept and
          not any(n.startswith(f"report/{month}-") for n in kept),
          f"the run after {month} closed draws its report and keeps the "
          f"{len(kept)} PNGs of earlier closed periods ({len(drawn)} drawn)")


def stats(runs, key="wall"):
    v = [r[key] for r in runs]
    return statistics.median(v), min(v)


def report(results, a, meta, parts, npages, appends):
    print(f"\nsummary: teiten-graph on {a.days} days of {a.step} s "
          f"intervals, {a.keys} active keys, {a.sensors} sensors; "
          f"{npages} key pages; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}")
    print("  wall and CPU (user + system) seconds, median / min; the load "
          "average as the runs started; the median wall time / 5 s")
    print(f"  {'case':<14}{'runs':>4}{'wall':>14}{'CPU':>14}"
          f"{'RSS MiB':>8}{'PNGs':>5}{'load':>6}{'/ 5 s':>6}")
    for case in ("cold", "no change", "new hour", "new day", "day before",
                 "month closes", "top year"):
        runs = results.get(case)
        if not runs:
            continue
        med, mn = stats(runs)
        cmed, cmn = stats(runs, "cpu")
        rss = max(r["rss"] for r in runs) / 1024
        png = statistics.median(r["pngs"] for r in runs)
        load = statistics.median(r["load"] for r in runs)
        print(f"  {case:<14}{len(runs):>4}{med:>7.2f}/{mn:<6.2f}"
              f"{cmed:>7.2f}/{cmn:<6.2f}{rss:>8.1f}{png:>5.0f}{load:>6.1f}"
              f"{med / GOAL_S:>6.2f}")
    if "cold" in results and "no change" in results:
        n = results["cold"][0]["pngs"]
        per = [(stats(results["cold"], k)[1]
                - stats(results["no change"], k)[1]) / max(1, n)
               for k in ("wall", "cpu")]
        print(f"  per PNG rendered: about {1000 * per[0]:.0f} ms wall, "
              f"{1000 * per[1]:.0f} ms CPU (best cold minus best no-change "
              f"run, over {n} PNGs); {len(WINDOWS)} PNGs per key page")
    if appends:
        r = [x[0] for x in appends]
        print(f"  appending one interval (bench_site --append, not part of "
              f"the site's time): rrdw_write median "
              f"{statistics.median(r):.2f} s, summary_add "
              f"{statistics.median(x[1] for x in appends):.3f} s")
    tf = sum(p[0] for p in parts.values())
    tb = sum(p[2] for p in parts.values())
    print(f"  DATADIR: {tf} files, {tb / 1e6:.0f} MB allocated ("
          + ", ".join(f"{k} {v[0]} files {v[2] / 1e6:.0f} MB"
                      for k, v in sorted(parts.items()) if v[0]) + ")")
    print(f"  DATADIR generated in {meta['generate_s']:.0f} s "
          f"(first interval {meta['create_s']:.0f} s, summary "
          f"{meta['summary_s']:.0f} s and RRD rows {meta['rrd_s']:.0f} s "
          f"side by side)")
    cases = [c for c in results if c != "top year"]
    worst = max(cases, key=lambda c: stats(results[c])[0])
    w, c = stats(results[worst])[0], stats(results[worst], "cpu")[0]
    print(f"goal: a regeneration under {GOAL_S:.0f} s: the slowest case "
          f"({worst}) takes {w:.2f} s wall, {w / GOAL_S:.2f}x the goal "
          f"({c:.2f} s CPU, {c / GOAL_S:.2f}x): "
          f"{'ok' if w < GOAL_S else 'OVER'}; median load average "
          f"{statistics.median(LOADS):.1f} on {os.cpu_count()} CPUs")


def sketch_data(a):
    """The cached summary-only DATADIR with sketches, and its meta."""
    params = {"version": DATA_VERSION, "keys": a.keys, "days": a.days,
              "sensors": a.sensors, "step": a.step, "end": a.end,
              "seed": a.seed, "sketch_src": a.sketch_src,
              "sketch_p": a.sketch_p}
    cache = a.cache + "-sketches"
    data = os.path.join(cache, "data")
    meta_path = os.path.join(cache, "params.json")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        meta = None
    if (not a.regenerate and meta and meta.get("params") == params
            and os.path.exists(os.path.join(data, "last_final"))):
        print(f"reusing {data} (generated in {meta['generate_s']:.0f} s)")
        return data, meta
    shutil.rmtree(cache, ignore_errors=True)
    os.makedirs(data)
    print(f"generating {data}: the summary alone with sketches, "
          f"{a.keys} keys, {a.days} days, S = {a.sketch_src} "
          f"(progress on stderr)", flush=True)
    out = run_gen(gen_argv(a, data) + [
        "--summary-only", "--sketches", "--sketch-src", str(a.sketch_src),
        "--sketch-p", str(a.sketch_p)])
    meta = {"params": params, "hottest": out["hottest"][0],
            "summary_s": float(out["summary"][1]),
            "summary_add_s": float(out["summary"][6]),
            "generate_s": float(out["generate"][1])}
    with open(meta_path + ".tmp", "w") as f:
        json.dump(meta, f, indent=1)
    os.rename(meta_path + ".tmp", meta_path)
    return data, meta


def summary_bytes(data):
    """{(hour|day, sum|hll): [files, bytes]} of DATADIR/summary."""
    out = {}
    for kind in ("hour", "day"):
        d = os.path.join(data, "summary", kind)
        for name in os.listdir(d):
            ext = name.rsplit(".", 1)[-1]
            acc = out.setdefault((kind, ext), [0, 0])
            acc[0] += 1
            acc[1] += os.lstat(os.path.join(d, name)).st_size
    return out


def sketches_main(a):
    print(f"{os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    data, meta = sketch_data(a)
    print(f"  generated in {meta['generate_s']:.0f} s, of which "
          f"summary_add {meta['summary_add_s']:.0f} s")
    parts = summary_bytes(data)
    total = sum(v[1] for v in parts.values())
    print(f"DATADIR/summary: {total:,} bytes ({total / 1e9:.2f} GB; goal "
          f"< 2 GB: {'ok' if total < 2e9 else 'OVER'})")
    for (kind, ext), (n, b) in sorted(parts.items()):
        print(f"  {kind}/*.{ext}: {n} files, {b:,} bytes, "
              f"{b / max(n, 1) / 1e6:.2f} MB each")
    year = time.gmtime(a.end - 1).tm_year
    cases = [("sources", "--period", str(year)),
             ("packets", "--period", str(year))]
    for by, opt, val in cases:
        runs = []
        for _ in range(a.repeat):
            argv = [a.graph, "top", "-d", data, opt, val, "-n", "20"]
            if by == "sources":
                argv += ["--by", "sources"]
            wall, cpu, rss, out = timed(a, argv)
            runs.append({"wall": wall, "cpu": cpu, "rss": rss,
                         "load": LOADS[-1]})
        med, mn = stats(runs)
        print(f"top {opt} {val} --by {by}: best {mn:.2f} s, median "
              f"{med:.2f} s wall; CPU best {stats(runs, 'cpu')[1]:.2f} s; "
              f"peak RSS {max(r['rss'] for r in runs) / 1024:.0f} MiB; "
              f"load {' '.join('%.1f' % r['load'] for r in runs)}"
              + (f" (goal < 1 s: {'ok' if mn < 1 else 'OVER'})"
                 if by == "sources" else ""), flush=True)
        if by == "sources":
            print("    " + "\n    ".join(out.splitlines()[:8]))
    return 0


def main():
    a = parse_args()
    if a.sketches:
        return sketches_main(a)
    parent = os.path.dirname(a.cache)
    os.makedirs(parent, exist_ok=True)
    st = os.statvfs(parent)
    free = st.f_bavail * st.f_frsize
    if free < a.min_free_gb * 1e9:
        print(f"bench_site: skipped: {free / 1e9:.1f} GB free in {parent}, "
              f"need {a.min_free_gb:.0f} GB (--min-free-gb)")
        return SKIP
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"{free / 1e9:.0f} GB free in {parent}", flush=True)
    data, meta = ensure_data(a)
    parts = disk_usage(data)
    work = tempfile.mkdtemp(prefix="bench-site-work-", dir=parent)
    results, appends = {}, []
    try:
        t = time.monotonic()
        wdata = os.path.join(work, "data")
        subprocess.run(["cp", "-a", "--reflink=auto", data, wdata],
                       check=True)
        os.sync()
        print(f"copied the DATADIR to {wdata} and synced in "
              f"{time.monotonic() - t:.1f} s", flush=True)
        site = os.path.join(work, "site")

        print(f"cold: site into an empty directory, {a.repeat} times")
        for _ in range(a.repeat):
            shutil.rmtree(site, ignore_errors=True)
            site_run(a, wdata, site, results, "cold")
        npages = check_site(a, wdata, site, meta["hottest"])

        print(f"no change: site again at once, {a.repeat} times")
        for _ in range(a.repeat):
            _, _, new = site_run(a, wdata, site, results, "no change")
            check(not new, "no PNG rendered without new data")

        print(f"top: teiten-graph top --window year -n 20, {a.repeat} times")
        for _ in range(a.repeat):
            wall, cpu, rss, out = timed(a, [a.graph, "top", "-d", wdata,
                                            "--window", "year", "-n", "20"])
            results.setdefault("top year", []).append(
                {"wall": wall, "cpu": cpu, "rss": rss, "pngs": 0,
                 "load": LOADS[-1]})
            print(f"  top: {wall:.3f} s wall, {cpu:.3f} s CPU, peak RSS "
                  f"{rss / 1024:.1f} MiB", flush=True)

        print(f"new hour: one more final interval, then site, "
              f"{a.hours} times")
        for _ in range(a.hours):
            appends.append(append(a, wdata))
            before, _, new = site_run(a, wdata, site, results, "new hour")
            old_long = [n for n in new if n in before
                        and window_of(n) in LONG_WINDOWS]
            check(not old_long, "no month, quarter or year PNG that "
                  f"existed rendered again ({len(old_long)})")
            check(all(f"day-{g}.png" in new for g in ("top1-5", "sensors")),
                  "the day graphs rendered again")

        if not a.no_new_day:
            left = (86400 - a.end % 86400) // a.step - a.hours
            print(f"new day: {left} more intervals, the last completing the "
                  f"UTC day, then site")
            for _ in range(left):
                appends.append(append(a, wdata))
            _, after, new = site_run(a, wdata, site, results, "new day")
            windows = [n for n in after if not n.startswith("report/")]
            check(set(windows) <= set(new),
                  f"every window and key PNG rendered on a new day "
                  f"({len(new)} of {len(after)}, closed reports kept)")
            check_site(a, wdata, site, meta["hottest"])

        check_month_closes(a, wdata, site, results)

        print("data: the RRDs against the window summary")
        year = json.loads(subprocess.run(
            [a.graph, "top", "-d", wdata, "--window", "year", "-n",
             "100000", "--json"],
            check=True, capture_output=True, text=True).stdout)
        check(len(year) == a.keys, f"{len(year)} keys in the year window "
              f"({a.keys} generated, all active)")
        check(any(r["key"].startswith("icmp") for r in year[:20]),
              "ICMP types among the year's top 20")
        listed = {r["key"] for r in year}
        check_rows(a, wdata, [k for k in (
            meta["hottest"], year[len(year) // 2]["key"], year[-1]["key"],
            "tcp/60001", "udp/3702") if k in listed])

        report(results, a, meta, parts, npages, appends)
    finally:
        if a.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"bench_site: {len(FAILURES)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench_site: {e}", file=sys.stderr)
        sys.exit(1)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"bench_site: {e}", file=sys.stderr)
        sys.exit(1)
