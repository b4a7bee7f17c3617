"""Graphs (graph/graph.c, called through graph_driver) of a datadir
that a real aggregator built from sensors replaying generated captures
(one with a TCP 5168 campaign rising half way), and of a datadir made here
with the rrdtool command line alone, in the layout of doc/CONTRACTS.md
contract 5, holding a key with a constant 5 packets per sensor per 60 s
interval.

Every PNG must exist, be a PNG (signature, IHDR) larger than the plot
area, and keep its size from one rendering to the next.  The numbers are
read back independently with `rrdtool xport` and `rrdtool graphv`, using
the recipe graph.c documents (zero where sensors reported but the key
read unknown; times unit / step): the constant key reads 300 per hour (5
per minute on the day window), and for the aggregator's data the
legend's average and maximum equal the mean and maximum of the averages
this test computes from the sensors' own --print outputs."""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check, require  # noqa: E402

T0 = 1699999200  # 2023-11-14 22:00 UTC, hour-aligned
END = T0 + 7200  # 2023-11-15 00:00 UTC
STEP = 60
PLOT = (720, 240)  # GRAPH_WIDTH, GRAPH_HEIGHT
SPANS = ("day", "week", "month", "quarter", "year")
UNIT = {"day": 60}  # seconds per y unit; 3600 for the others


DRIVER_ENV = dict(os.environ)


def driver_env(tmp):
    DRIVER_ENV.update(T.graph_env(tmp))


def driver(*args, check_rc=True):
    p = subprocess.run([os.environ["TEITEN_GRAPH_DRIVER"]] +
                       [str(a) for a in args], capture_output=True,
                       text=True, timeout=60, env=DRIVER_ENV)
    if check_rc and p.returncode != 0:
        raise AssertionError("graph_driver %s: %s" % (args, p.stderr))
    return p


def png_size(path):
    """(width, height) from the IHDR chunk, or None if not a PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or \
            head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def recipe(datadir, key, unit, prints):
    """DEF/CDEF/VDEF of graph.c for one key, and PRINTs of the scaled
    average and maximum in the given formats."""
    path = os.path.join(datadir, "rrd", key + ".rrd")
    sens = os.path.join(datadir, "rrd", "sensors.rrd")

    def zero(v):
        return "s,UN,%s,%s,UN,0,%s,IF,IF,%d,*,%d,/" % (v, v, v, unit, STEP)
    out = ["DEF:s=%s:reporting:AVERAGE" % sens,
           "DEF:d=%s:avg:AVERAGE" % path,
           "DEF:x=%s:avg:AVERAGE:reduce=MAX" % path,
           "CDEF:v=" + zero("d"), "CDEF:w=" + zero("x"),
           "VDEF:a=v,AVERAGE", "VDEF:m=w,MAXIMUM"]
    for fmt in prints:
        out += ["PRINT:a:" + fmt, "PRINT:m:" + fmt]
    return out


def window(span, end=END):
    length = {"day": 1, "week": 7, "month": 30, "quarter": 91,
              "year": 365}[span] * 86400
    align = 3600 if span in ("day", "week") else 86400
    e = end - end % align
    return e - length, e


def graphv_prints(datadir, key, span, tmp, end=END):
    """PRINT values of the recipe: [avg, max] as floats, then as the
    legend's "%10.2lf" text."""
    start, e = window(span, end)
    unit = UNIT.get(span, 3600)
    out = subprocess.run(
        ["rrdtool", "graphv", os.path.join(tmp, "recipe.png"), "--start",
         str(start), "--end", str(e), "--width", "720"] +
        recipe(datadir, key, unit, ["%.9lf", "%10.2lf"]),
        capture_output=True, text=True, check=True,
        env=dict(os.environ, TZ="UTC")).stdout
    vals = {}
    for line in out.splitlines():
        if line.startswith("print["):
            k, v = line.split(" = ", 1)
            vals[int(k[6:-1])] = v.strip('"')
    return [float(vals[0]), float(vals[1])], [vals[2], vals[3]]


def xport(datadir, key, span, end=END):
    """The graph's scaled series, known rows only, one per RRA row."""
    start, e = window(span, end)
    unit = UNIT.get(span, 3600)
    out = subprocess.run(
        ["rrdtool", "xport", "--json", "--maxrows", "100000", "--start",
         str(start), "--end", str(e)] + recipe(datadir, key, unit, [])[:4] +
        ["XPORT:v"],
        capture_output=True, text=True, check=True).stdout
    data = json.loads(out)["data"]
    return [r[0] for r in data if r[0] is not None]


def render_all(datadir, outdir, top, icmp, campaign, never):
    """Every graph kind, every window; {name: (path, legend lines)}."""
    made = {}
    os.makedirs(outdir, exist_ok=True)
    for span in SPANS:
        for name, title, keys in (
                ("top1-5", "top 1-5 ports", top[:5]),
                ("top6-10", "top 6-10 ports", top[5:10]),
                ("icmp", "ICMP by type", icmp),
                ("port", "tcp/5168", [campaign]),
                ("unseen", "a port never seen", [campaign, never])):
            out = os.path.join(outdir, "%s-%s.png" % (name, span))
            driver("keys", datadir, STEP, span, END, out, title, *keys)
            made[out] = len(keys)
        out = os.path.join(outdir, "sensors-%s.png" % span)
        driver("sensors", datadir, STEP, span, END, out)
        made[out] = 0
    return made


def check_pngs(made):
    sizes = {}
    for path, nkeys in sorted(made.items()):
        size = png_size(path) if os.path.exists(path) else None
        print("    %s: %s" % (os.path.basename(path), size))
        # The sensors graph is a half-height panel (graph.h).
        plot = (PLOT[0], PLOT[1] // 2) if nkeys == 0 else PLOT
        check(size is not None and size[0] > plot[0] and size[1] > plot[1],
              "%s is a PNG larger than the %dx%d plot area" %
              (os.path.basename(path), plot[0], plot[1]))
        if nkeys == 0 and size is not None:
            check(size[1] < PLOT[1],
                  "%s is lower than a key graph's %d px plot" %
                  (os.path.basename(path), PLOT[1]))
        sizes[path] = size
    keyed = {}
    for path, nkeys in made.items():
        if nkeys:
            keyed.setdefault(nkeys, set()).add(sizes[path])
    check(all(len(s) == 1 for s in keyed.values()),
          "graphs with as many legend lines have one size: %s" % keyed)
    check(len({s[0] for s in sizes.values() if s}) == 1,
          "every graph has the same width")
    return sizes


def build_datadir(tmp):
    """A real aggregator fed by three sensors; the expected averages."""
    caps = {}
    for sid, n, dur, seed, extra in (
            ("s1", 40000, 7200, 11, []),
            ("s2", 30000, 7200, 12, ["--campaign", "5168@0.45"]),
            ("s3", 8000, 3000, 13, [])):
        caps[sid] = os.path.join(tmp, sid + ".pcap")
        A.gencap(caps[sid], n, dur, T0, seed, extra)
    return A.replay_datadir(tmp, caps, grace=10, log_tail=300)


def ranked_keys(avgs):
    totals = {}
    for (s, p, k), v in avgs.items():
        totals["%s/%d" % (p, k)] = totals.get("%s/%d" % (p, k), 0) + v
    return sorted(totals, key=lambda k: -totals[k]), totals


def expected(avgs, reporters, key):
    """Mean and maximum per interval, 0 where sensors reported without
    the key (summary.h's window mean)."""
    p, k = key.split("/")
    vals = [avgs.get((s, p, int(k)), 0.0) for s in sorted(reporters)]
    return sum(vals) / len(vals), max(vals)


def check_numbers(datadir, avgs, reporters, tmp, top, campaign):
    for key in top[:3] + [campaign]:
        mean, mx = expected(avgs, reporters, key)
        got, text = graphv_prints(datadir, key, "day", tmp)
        check(A.close(got[0], mean) and A.close(got[1], mx),
              "day %s: legend average %s and maximum %s are the hand-"
              "computed %.4f and %.4f per minute" %
              (key, text[0].strip(), text[1].strip(), mean, mx))
    # Hourly rows hold the intervals' mean: the week's average is too.
    # The campaign starts 54 minutes into the first hour: its file must
    # read 0, not unknown, for the minutes before, or that hour's row
    # would average only the last six.
    for key in top[:3] + [campaign]:
        mean, _ = expected(avgs, reporters, key)
        got, _ = graphv_prints(datadir, key, "week", tmp)
        check(abs(got[0] - 60 * mean) < 1e-6 * 60 * mean,
              "week %s: average %.4f is 60 x the interval mean (%.4f)" %
              (key, got[0], 60 * mean))
    p, k = campaign.split("/")
    want = [avgs.get((s, p, int(k)), 0.0) for s in sorted(reporters)]
    series = xport(datadir, campaign, "day")
    check(len(series) == len(want) and
          all(A.close(a, b) for a, b in zip(series, want)),
          "day %s: the drawn series is the hand-computed average of each "
          "interval (%d intervals)" % (campaign, len(want)))
    first, second = sum(want[:60]) / 60, sum(want[60:]) / 60
    check(second > 10 * first,
          "%s rises: %.2f per minute in the first hour, %.2f in the second" %
          (campaign, first, second))


def const_datadir(tmp):
    """sensors.rrd (3 sensors) and tcp/40000 at 5 packets per sensor per
    interval, made with rrdtool for the 8 days before END."""
    datadir = os.path.join(tmp, "const")
    os.makedirs(os.path.join(datadir, "rrd", "tcp"))
    start = END - 8 * 86400
    rras = ["RRA:AVERAGE:0.5:1:2880", "RRA:AVERAGE:0.5:60:2400",
            "RRA:AVERAGE:0.5:1440:1827"]
    for rel, ds, value in (("sensors.rrd", "reporting", 3),
                           ("tcp/40000.rrd", "avg", 5)):
        path = os.path.join(datadir, "rrd", rel)
        subprocess.run(["rrdtool", "create", path, "--step", str(STEP),
                        "--start", str(start), "DS:%s:GAUGE:%d:0:U" %
                        (ds, 2 * STEP)] + rras, check=True)
        ups = ["%d:%d" % (t, value)
               for t in range(start + STEP, END + 1, STEP)]
        for i in range(0, len(ups), 2000):
            subprocess.run(["rrdtool", "update", path] + ups[i:i + 2000],
                           check=True)
    return datadir


def check_const(tmp, outdir):
    datadir = const_datadir(tmp)
    for span in SPANS:
        want = 5.0 if span == "day" else 300.0
        out = os.path.join(outdir, "const-%s.png" % span)
        p = driver("keys", datadir, STEP, span, END, out, "constant",
                   "tcp/40000", check_rc=False)
        check(p.returncode == 0 and png_size(out) is not None,
              "%s: constant key graphed%s" % (span, p.stderr.strip()))
        series = xport(datadir, "tcp/40000", span)
        check(series and all(A.close(v, want) for v in series),
              "%s: xport of the graph's series reads %g (%d rows)" %
              (span, want, len(series)))
        got, text = graphv_prints(datadir, "tcp/40000", span, tmp)
        check(A.close(got[0], want) and A.close(got[1], want) and
              text[0] == "%10.2f" % want,
              "%s: legend average and maximum read %r" % (span, text))


def check_errors(datadir, outdir, tmp):
    bad = os.path.join(tmp, "bad")
    shutil.copytree(datadir, bad)
    with open(os.path.join(bad, "rrd", "tcp", "445.rrd"), "wb") as f:
        f.write(b"not an rrd\n" * 10)
    out = os.path.join(outdir, "bad.png")
    p = driver("keys", bad, STEP, "day", END, out, "bad", "tcp/445",
               check_rc=False)
    check(p.returncode == 1 and "445.rrd" in p.stderr,
          "a damaged RRD fails with librrd's reason: %s" % p.stderr.strip())
    os.unlink(os.path.join(bad, "rrd", "sensors.rrd"))
    p = driver("sensors", bad, STEP, "day", END, out, check_rc=False)
    check(p.returncode == 1 and "sensors.rrd" in p.stderr,
          "no sensors.rrd fails with librrd's reason: %s" % p.stderr.strip())
    p = driver("keys", datadir, STEP, "day", END, os.path.join(
        tmp, "nodir", "x.png"), "x", "tcp/445", check_rc=False)
    check(p.returncode == 1 and p.stderr.strip() != "",
          "an unwritable output fails: %s" % p.stderr.strip())


def main():
    outdir = os.environ.get("TEITEN_GRAPH_OUT")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # the sensors write their spools as nobody
        driver_env(tmp)
        outdir = outdir or os.path.join(tmp, "png")
        datadir, avgs, reporters = build_datadir(tmp)
        ranked, _ = ranked_keys(avgs)
        top = [k for k in ranked if k.split("/")[0] in ("tcp", "udp")]
        icmp = [k for k in ranked if k.startswith("icmp")][:5]
        never = next("tcp/%d" % k for k in range(1, 65536)
                     if ("tcp/%d" % k) not in ranked)
        made = render_all(datadir, outdir, top, icmp, "tcp/5168", never)
        sizes = check_pngs(made)
        again = render_all(datadir, os.path.join(tmp, "again"), top, icmp,
                           "tcp/5168", never)
        check(all(png_size(p) == sizes[os.path.join(
            outdir, os.path.basename(p))] for p in again),
            "a second rendering has the same sizes")
        check_numbers(datadir, avgs, reporters, tmp, top, "tcp/5168")
        check_const(tmp, outdir)
        check_errors(datadir, outdir, tmp)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    require("rrdtool")
    sys.exit(main())
