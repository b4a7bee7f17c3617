"""PNG legends, read back.  The datadir of period_test.py (three sensors
replaying 25 days of March 2008, hourly intervals, a real aggregator with
`timezone = Asia/Tokyo`); then `teiten-graph png --legend --json` draws a
PNG and prints what each key line of its legend says, read back from the
rendering itself (rrd_graph_v), and every figure must equal:

(a) the mean and maximum this test computes from the sensors' --print
    outputs (doc/CONTRACTS.md contract 4 per interval, 0 where sensors
    reported without the key, intervals nobody reported left out), over
    the rows the graph reads, with the period's bounds from Python's
    zoneinfo, times the y axis's unit over the step:
    - a three-day period and a single day in Japan time, read at the RRD
      step (the base archive holds 400 hours): exactly the period's
      intervals, so the average is also the contract 4 window value
      `teiten-graph top` ranks by; the hour after the period (which has
      data) must not count; the day is in packets per minute;
    - the quarter 2008Q1 in Japan time, which only the daily archive
      (AVERAGE, 24 steps, xff 0.5: rows of UTC days) covers: the maximum
      of the daily rows stamped in (start, end], each row the mean of its
      day's reported intervals, known when at least 12 of its 24 were
      reported; the average is the quarter's exact contract 4 mean, as
      `top` and the tables give it, not the rows' (which differ);
(b) the rows' figures printed by the rrdtool command line, `rrdtool
    graphv` on DEFs this test writes from graph.c's documented recipe;
(c) the text the legend draws ("%10.2lf" of the figure);
and --top 1-5 lines carry the five ports this test ranks first; a key
never seen says so, with no numbers; the text form prints the same
texts; --legend with --sensors, and png --json without --legend, are
refused.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import period_test as P  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check, require  # noqa: E402

STEP = P.STEP
TOKYO = "Asia/Tokyo"
WIDTH = 720  # GRAPH_WIDTH: the plot's pixels choose the archive read
BASE_ROWS = 400  # rrdw.c: the step archive keeps max(2 days, 400) rows
DAY = 86400


def hourly_rows(reporters, s, e):
    """Rows at the RRD step over [s, e): (interval start, weight 1) for
    each interval some sensor reported."""
    return [[t] for t in sorted(reporters) if s <= t < e]


def daily_rows(reporters, s, e):
    """The daily archive's rows stamped in (s, e]: UTC days [d, d + DAY)
    with d + DAY in (s, e], each the list of its reported intervals, or
    None (unknown) when fewer than 12 of its 24 were reported."""
    rows = []
    d = s - s % DAY
    while d + DAY <= e:
        if d + DAY > s:
            hours = [t for t in range(d, d + DAY, STEP) if t in reporters]
            rows.append(hours if 2 * len(hours) >= DAY // STEP else None)
        d += DAY
    return rows


def hand(avgs, rows, key, unit):
    """Mean and maximum over the known rows of key's per-interval values,
    0 where sensors reported without it, in packets per unit seconds."""
    proto, port = key.split("/")
    vals = [sum(avgs.get((t, proto, int(port)), 0.0) for t in r) / len(r)
            for r in rows if r]
    if not vals:
        return None, None
    scale = unit / STEP
    return scale * sum(vals) / len(vals), scale * max(vals)


def rrdtool_prints(datadir, key, s, e, unit):
    """graph.c's recipe for one key, as documented at its top, through
    `rrdtool graphv`: [average, maximum]."""
    proto, port = key.split("/")
    path = os.path.join(datadir, "rrd", proto, port + ".rrd")
    sens = os.path.join(datadir, "rrd", "sensors.rrd")

    def zero(v):
        return "s,UN,%s,%s,UN,0,%s,IF,IF,%d,*,%d,/" % (v, v, v, unit, STEP)
    args = ["DEF:s=%s:reporting:AVERAGE" % sens,
            "DEF:d=%s:avg:AVERAGE" % path,
            "DEF:x=%s:avg:AVERAGE:reduce=MAX" % path,
            "CDEF:v=" + zero("d"), "CDEF:w=" + zero("x"),
            "CDEF:l=TIME,%d,GT,UNKN,v,IF" % e,
            "CDEF:k=TIME,%d,GT,UNKN,w,IF" % e,
            "VDEF:a=l,AVERAGE", "VDEF:m=k,MAXIMUM",
            "PRINT:a:%.17le", "PRINT:m:%.17le"]
    p = subprocess.run(["rrdtool", "graphv", "/dev/null", "--start", str(s),
                        "--end", str(e), "--width", str(WIDTH)] + args,
                       capture_output=True, text=True, timeout=120)
    vals = {}
    for line in p.stdout.splitlines():
        if line.startswith("print["):
            k, v = line.split(" = ", 1)
            vals[int(k[6:-1])] = float(v.strip('"'))
    return [vals.get(0), vals.get(1)]


def legend(datadir, tmp, name, *args, json_out=True):
    out = os.path.join(tmp, name + ".png")
    p = P.graph("png", "-d", datadir, "-o", out, "--legend",
                *(["--json"] if json_out else []), *args)
    ok = p.returncode == 0 and os.path.exists(out)
    if ok:
        with open(out, "rb") as f:
            ok = f.read(8) == b"\x89PNG\r\n\x1a\n"
    check(ok, "%s: png --legend %s draws a PNG (%s)" %
          (name, " ".join(args), p.stderr.strip()[-300:]))
    if not ok:
        return None
    return json.loads(p.stdout) if json_out else p.stdout


def close_or_none(a, b):
    return (a is None and b is None) or (a is not None and b is not None and
                                         A.close(a, b))


def check_lines(what, got, datadir, avgs, rows, s, e, unit, exact=None):
    """Each seen key line against the hand-computed figures, rrdtool's
    and the drawn text.  exact: the period's contract 4 means per
    interval, which the legend's average gives instead of the rows'
    where they differ (coarser rows of UTC days)."""
    for ln in got["keys"]:
        key = ln["key"]
        rmean, mx = hand(avgs, rows, key, unit)
        mean = rmean if exact is None else exact.get(key, 0.0) * unit / STEP
        cli = rrdtool_prints(datadir, key, s, e, unit)
        check(ln["seen"] and close_or_none(ln["avg"], mean) and
              close_or_none(ln["max"], mx),
              "%s %s: legend average %r and maximum %r are the hand-"
              "computed %r and %r" % (what, key, ln["avg"], ln["max"],
                                      mean, mx))
        check(close_or_none(cli[0], rmean) and close_or_none(cli[1], mx),
              "%s %s: rrdtool graphv on the same DEFs prints %r, the hand-"
              "computed %r" % (what, key, cli, [rmean, mx]))
        want = ["%.2f" % v if v is not None else "nan" for v in (mean, mx)]
        check([ln["avg_text"], ln["max_text"]] == want,
              "%s %s: the legend draws %r (%r expected)" %
              (what, key, [ln["avg_text"], ln["max_text"]], want))


def port_ranking(avgs, reporters, s, e):
    means, _ = P.expected(avgs, reporters, s, e)
    ports = [k for k in means if k.split("/")[0] in ("tcp", "udp")]
    return sorted(ports, key=lambda k: (-means[k], P.keyidx(k))), means


def check_short(datadir, tmp, avgs, reporters):
    period = "2008-03-20..2008-03-22"
    s, e = P.bounds(TOKYO, (2008, 3, 20), (2008, 3, 22))
    check(max(reporters) + STEP - BASE_ROWS * STEP <= s,
          "the three days lie in the base archive's 400 hours")
    check(e in reporters,
          "the hour after the period has data (it must not count)")
    ranked, means = port_ranking(avgs, reporters, s, e)
    rows = hourly_rows(reporters, s, e)
    got = legend(datadir, tmp, "short-top", "--period", period, "--tz",
                 TOKYO, "--top", "1-5")
    if got is None:
        return
    check([ln["key"] for ln in got["keys"]] == ranked[:5],
          "three days: --top 1-5 lines are the hand-ranked top five %r "
          "(%r)" % (ranked[:5], [ln["key"] for ln in got["keys"]]))
    check(got["unit"] == "packets per sensor per hour" and
          got["zone"] == TOKYO and got["start"] == "2008-03-20T00:00:00+09:00"
          and got["end"] == "2008-03-23T00:00:00+09:00",
          "three days: unit, zone and bounds in Japan time (%r)" %
          {k: got.get(k) for k in ("unit", "zone", "start", "end")})
    check_lines("three days", got, datadir, avgs, rows, s, e, STEP)
    for ln in got["keys"]:
        check(A.close(ln["avg"], means[ln["key"]]),
              "three days %s: the legend average is the window value "
              "top ranks by (%r, %r)" % (ln["key"], ln["avg"],
                                         means[ln["key"]]))
    # One day: per minute.
    s, e = P.bounds(TOKYO, (2008, 3, 21), (2008, 3, 21))
    key = ranked[1]
    got = legend(datadir, tmp, "day-key", "--period", "2008-03-21",
                 "--key", key)
    if got is not None:
        check(got["unit"] == "packets per sensor per minute" and
              len(got["keys"]) == 1,
              "a day's legend is per minute (%r)" % got["unit"])
        check_lines("2008-03-21", got, datadir, avgs,
                    hourly_rows(reporters, s, e), s, e, 60)
    text = legend(datadir, tmp, "short-text", "--period", period,
                  "--key", key, json_out=False)
    mean, mx = hand(avgs, rows, key, STEP)
    want = "%s %.2f %.2f" % (key, mean, mx)
    got_line = [ln for ln in (text or "").splitlines()
                if ln.startswith(key + " ")]
    check(len(got_line) == 1 and got_line[0].split()[0] == key and
          got_line[0].split()[-2:] == want.split()[-2:],
          "the text form prints %r (%r)" % (want, got_line))


def check_quarter(datadir, tmp, avgs, reporters):
    s, e = P.bounds(TOKYO, (2008, 1, 1), (2008, 3, 31))
    # The base archive reaches back 400 hours from the newest interval,
    # not to the quarter's start: rrd_fetch reads the daily archive.
    check(max(reporters) + STEP - BASE_ROWS * STEP > s,
          "the quarter reaches past the base archive")
    ranked, _ = port_ranking(avgs, reporters, s, e)
    rows = daily_rows(reporters, s, e)
    straddle = [t for t in reporters if e <= t < e - e % DAY + DAY]
    check(len(straddle) == 9,
          "the UTC day the Japan quarter ends in has 9 reported hours "
          "after it (%d)" % len(straddle))
    got = legend(datadir, tmp, "q1-top", "--period", "2008Q1", "--tz",
                 TOKYO, "--top", "1-5")
    if got is None:
        return
    check([ln["key"] for ln in got["keys"]] == ranked[:5],
          "2008Q1: --top 1-5 lines are the hand-ranked top five %r (%r)" %
          (ranked[:5], [ln["key"] for ln in got["keys"]]))
    check(got["period"] == "2008Q1" and
          got["start"] == "2008-01-01T00:00:00+09:00" and
          got["end"] == "2008-04-01T00:00:00+09:00",
          "2008Q1: bounds in Japan time (%r, %r)" % (got["start"],
                                                    got["end"]))
    exact, _ = P.expected(avgs, reporters, s, e)
    off = [k for k in ranked[:5]
           if not A.close(hand(avgs, rows, k, STEP)[0], exact[k])]
    check(off, "2008Q1: the daily rows' average differs from the quarter's "
          "exact mean for %d of the five keys (UTC days, Japan quarter)" %
          len(off))
    check_lines("2008Q1", got, datadir, avgs, rows, s, e, STEP, exact)


def check_never_and_refusals(datadir, tmp, avgs):
    seen = {"%s/%d" % (p, k) for (_, p, k) in avgs}
    never = next("tcp/%d" % k for k in range(1, 65536)
                 if "tcp/%d" % k not in seen)
    got = legend(datadir, tmp, "never", "--period", "2008-03-20..2008-03-22",
                 "--key", never)
    if got is not None:
        ln = got["keys"][0] if got["keys"] else {}
        check(ln.get("key") == never and ln.get("seen") is False and
              ln.get("avg") is None and ln.get("max") is None and
              ln.get("avg_text") == "",
              "a key never seen has no numbers (%r)" % ln)
    text = legend(datadir, tmp, "never-text", "--period",
                  "2008-03-20..2008-03-22", "--key", never, json_out=False)
    check(text is not None and any(
        ln.startswith(never + " ") and ln.rstrip().endswith("never seen")
        for ln in text.splitlines()),
        "the text form says the key was never seen (%r)" % text)
    out = os.path.join(tmp, "refused.png")
    for args, word in ((["--sensors", "--legend"], "--legend"),
                       (["--key", never, "--json"], "--json")):
        p = P.graph("png", "-d", datadir, "-o", out, "--period", "2008Q1",
                    *args)
        check(p.returncode != 0 and word in p.stderr,
              "png %s is refused (%r)" % (" ".join(args), p.stderr.strip()))


def main(tmp):
    P.GRAPH_ENV.update(T.graph_env(tmp))
    datadir, _, avgs, reporters = P.build_datadir(tmp)
    if FAILURES:
        return
    check_short(datadir, tmp, avgs, reporters)
    check_quarter(datadir, tmp, avgs, reporters)
    check_never_and_refusals(datadir, tmp, avgs)


if __name__ == "__main__":
    require("rrdtool")
    T.run_in_tmp("teiten-legend-", main)
