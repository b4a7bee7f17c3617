"""Periods and time zones, end to end.  Three sensors replay generated
captures of 25 days of March 2008 (hourly intervals) to a real aggregator
with `timezone = Asia/Tokyo`; then:

(a) `teiten-graph top --period` rankings equal rankings this test computes
    itself from the sensors' --print outputs (doc/CONTRACTS.md contract 4
    per interval, then the mean over the period's reported intervals),
    with the period's bounds from Python's zoneinfo: the calendar quarter
    2008Q1 and the fiscal year FY2007 in Japan time, an inclusive date
    range, FY2008 under way (ranked so far, and said so), and single days:
    a Japan day whose hourly sums are pruned (read from its daily sums),
    Europe/Berlin's 23-hour 2008-03-30 (read by the hour);
(b) a request that neither kind of sum answers exactly (a New York day
    after its hours were pruned, while the daily sums are cut at Japan's
    midnights) is refused with the reason, never answered as empty;
(c) `teiten-aggregator rebuild --timezone America/New_York` cuts the daily
    sums again: New York's 23-hour 2008-03-09 and its 2008Q1 now rank
    exactly; DATADIR/timezone says so; a daemon started with the old zone
    refuses to start and names rebuild; a zone whose midnights are not
    interval boundaries is refused;
(d) `teiten-graph png --period` draws a PNG for a quarter and for a range,
    of one key, of the quarter's top 1-5, 6-10 and ICMP keys, and of the
    sensors reporting;
    with an annotations file (--events, or `events` in the [graph] section
    of a -c file) the graph of the event's key carries its red rule, one of
    another key does not, and a malformed line fails naming file and line;
(f) `teiten-graph site --watch --events` in Japan time: every watched key
    has a page, linked from the index; the event is listed with its link on
    its key's page, dates say Asia/Tokyo, and changing the event's text
    draws that key's graphs again;
(e) `teiten-graph series --json/--csv` gives, row by row, the sensors'
    per-interval averages (0 where sensors reported without the key) and
    the number reporting, stamped with each interval's start in the zone,
    and at most as many rows as a graph has pixels over a quarter.
"""

import csv
import datetime
import json
import os
import subprocess
import sys
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
import site_test  # noqa: E402
from site_test import png_colours  # noqa: E402
from teiten_testlib import FAILURES, check  # noqa: E402

STEP = 3600
DAY = 86400
T0 = 1204934400  # 2008-03-08T00:00:00Z
DURATION = 25 * DAY
PROTO_BASE = {"tcp": 0, "udp": 65536, "icmp": 131072, "icmp6": 131328}
GRAPH_ENV = dict(os.environ)


def graph(*args):
    return subprocess.run([os.environ["TEITEN_GRAPH"]] + list(args),
                          capture_output=True, text=True, timeout=600,
                          env=GRAPH_ENV)


def build_datadir(tmp):
    sensors = (("s1", 20000, T0, DURATION, 1, []),
               ("s2", 15000, T0, DURATION - 3 * DAY, 2,
                ["--campaign", "5168@0.5"]),
               ("s3", 8000, T0 + 12 * DAY, DURATION - 12 * DAY, 3, []))
    caps = {}
    for sid, n, start, dur, seed, extra in sensors:
        caps[sid] = os.path.join(tmp, sid + ".pcap")
        A.gencap(caps[sid], n, dur, start, seed, ["-p", "40"] + extra)
    keysfile, keys = A.make_keys(tmp, list(caps))
    prints = [A.sensor_print(caps[s], STEP) for s in caps]
    avgs, reporters = A.expected_averages(prints, STEP)
    datadir = os.path.join(tmp, "data")
    agg = A.Aggregator(tmp, keysfile, datadir, grace=5,
                       extra=["-n", str(STEP), "--timezone", "Asia/Tokyo"])
    agg.start()
    try:
        for sid, (rc, err) in sorted(
                A.replay_all(agg, caps, keys, tmp, STEP).items()):
            check(rc == 0, "sensor %s replays (%s)" %
                  (sid, "exit 0" if rc == 0 else err[-300:]))
        agg.settle(max(reporters))
    finally:
        agg.stop()
    return datadir, keysfile, avgs, reporters


def bounds(zone, first, last):
    """[start, end) of the inclusive dates first..last at zone's
    midnights, as Unix times."""
    z = zoneinfo.ZoneInfo(zone)
    a = datetime.datetime(*first, tzinfo=z)
    b = datetime.datetime(*last, tzinfo=z) + datetime.timedelta(days=1)
    b = datetime.datetime(b.year, b.month, b.day, tzinfo=z)
    return int(a.timestamp()), int(b.timestamp())


def expected(avgs, reporters, start, end):
    starts = [s for s in reporters if start <= s < end]
    sums = {}
    for (s, p, k), v in avgs.items():
        if start <= s < end:
            label = "%s/%d" % (p, k)
            sums[label] = sums.get(label, 0.0) + v
    means = {k: v / len(starts) for k, v in sums.items() if v > 0}
    return means, len(starts)


def keyidx(label):
    proto, key = label.split("/")
    return PROTO_BASE[proto] + int(key)


def compare(got, means, what):
    want = sorted(means, key=lambda k: (-means[k], keyidx(k)))[:20]
    bad = []
    if len(got) != len(want):
        bad.append("%d keys, expected %d" % (len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        if g["key"] not in means or not A.close(g["avg"], means[g["key"]]):
            bad.append("%s: avg %r, expected %r" %
                       (g["key"], g["avg"], means.get(g["key"])))
        elif not A.close(g["avg"], means[w]):
            bad.append("rank %d: %s, expected %s" % (i + 1, g["key"], w))
    for b in bad[:6]:
        print("    " + b)
    check(not bad and want, "%s: %d keys equal the hand-computed ranking" %
          (what, len(want)))


def top(datadir, *args):
    return graph("top", "-d", datadir, "-n", "20", *args)


def check_period(datadir, avgs, reporters, args, zone, first, last, what,
                 nintervals=None):
    s, e = bounds(zone, first, last)
    means, n = expected(avgs, reporters, s, e)
    if nintervals is not None:
        check(n == nintervals, "%s: the test's data has %d intervals in it "
              "(%d expected)" % (what, n, nintervals))
    p = top(datadir, "--json", *args)
    if p.returncode != 0:
        check(False, "%s: top %s: %s" % (what, " ".join(args), p.stderr))
        return
    compare(json.loads(p.stdout), means, what)
    p = top(datadir, *args)
    head = p.stdout.splitlines()[0] if p.stdout else ""
    check(p.returncode == 0 and "%d intervals" % n in head,
          "%s: the table's heading counts %d intervals (%r)" % (what, n, head))


def check_refused(datadir, args, what, *words):
    p = top(datadir, "--json", *args)
    ok = p.returncode != 0 and all(w in p.stderr for w in words)
    check(ok, "%s: refused, saying %s (%r)" %
          (what, ", ".join(words), p.stderr.strip()[-300:]))


def check_tokyo(datadir, avgs, reporters):
    zone_file = os.path.join(datadir, "timezone")
    with open(zone_file) as f:
        check(f.read() == "Asia/Tokyo\n", "DATADIR/timezone is Asia/Tokyo")
    tk = "Asia/Tokyo"
    check_period(datadir, avgs, reporters, ["--period", "2008Q1"], tk,
                 (2008, 1, 1), (2008, 3, 31), "2008Q1 in Japan time")
    check_period(datadir, avgs, reporters, ["--period", "FY2007"], tk,
                 (2007, 4, 1), (2008, 3, 31), "FY2007 in Japan time")
    check_period(datadir, avgs, reporters,
                 ["--period", "2008-03-10..2008-03-20"], tk,
                 (2008, 3, 10), (2008, 3, 20), "2008-03-10..2008-03-20")
    check_period(datadir, avgs, reporters, ["--period", "FY2008"], tk,
                 (2008, 4, 1), (2009, 3, 31), "FY2008, under way")
    p = top(datadir, "--period", "FY2008")
    check(p.returncode == 0 and "not over" in p.stdout and
          "+09:00" in p.stdout and "Asia/Tokyo" in p.stdout,
          "a period under way says so, in Japan time (%r)" %
          p.stdout.splitlines()[:2])
    # Hourly sums are kept 16 days behind the newest: 03-09 only by day.
    check_period(datadir, avgs, reporters, ["--period", "2008-03-09"], tk,
                 (2008, 3, 9), (2008, 3, 9), "a pruned Japan day", 24)
    check_period(datadir, avgs, reporters,
                 ["--tz", "Europe/Berlin", "--period", "2008-03-30"],
                 "Europe/Berlin", (2008, 3, 30), (2008, 3, 30),
                 "Berlin's 23-hour 2008-03-30, by the hour", 23)
    check_refused(datadir, ["--tz", "America/New_York", "--period",
                            "2008-03-09"],
                  "a New York day after its hours were pruned",
                  "Asia/Tokyo", "rebuild")
    s, e = bounds("UTC", (2008, 3, 9), (2008, 3, 9))
    check_refused(datadir, ["--tz", "UTC", "--start", str(s), "--end",
                            str(e)],
                  "a pruned UTC day by --start/--end", "Asia/Tokyo")
    check_refused(datadir, ["--period", "2008Q5"], "2008Q5", "2008Q5")
    check_refused(datadir, ["--tz", "Mars/Olympus", "--period", "2008"],
                  "an unknown zone", "Mars/Olympus")


def check_rebuild(datadir, keysfile, avgs, reporters, tmp):
    p = subprocess.run([A.aggregator_path(), "rebuild", "-d", datadir,
                        "-n", str(STEP), "--timezone", "America/New_York"],
                       capture_output=True, text=True, timeout=1200)
    check(p.returncode == 0, "rebuild --timezone America/New_York (%s)" %
          p.stderr.strip()[-300:])
    with open(os.path.join(datadir, "timezone")) as f:
        check(f.read() == "America/New_York\n",
              "DATADIR/timezone is America/New_York after rebuild")
    ny = "America/New_York"
    check_period(datadir, avgs, reporters, ["--period", "2008-03-09"], ny,
                 (2008, 3, 9), (2008, 3, 9),
                 "New York's 23-hour 2008-03-09 after rebuild", 23)
    check_period(datadir, avgs, reporters, ["--period", "2008Q1"], ny,
                 (2008, 1, 1), (2008, 3, 31), "2008Q1 in New York")
    p = top(datadir, "--period", "2008-03-09")
    check("-05:00" in p.stdout and "-04:00" in p.stdout,
          "the heading gives both of the day's offsets (%r)" %
          p.stdout.splitlines()[:1])
    for zone, n, words in (("Asia/Tokyo", STEP, ("rebuild",)),
                           ("Asia/Kolkata", STEP, ("interval boundary",))):
        p = subprocess.run([A.aggregator_path(), "-f", "-d", datadir, "-K",
                            keysfile, "-l", "127.0.0.1:%d" % A.free_port(),
                            "-n", str(n), "--timezone", zone],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode != 0 and all(w in p.stderr for w in words),
              "a daemon with timezone %s refuses to start (%r)" %
              (zone, p.stderr.strip()[-300:]))


def png(datadir, out, *args):
    p = graph("png", "-d", datadir, "-o", out, *args)
    ok = p.returncode == 0 and os.path.exists(out)
    if ok:
        with open(out, "rb") as f:
            ok = f.read(8) == b"\x89PNG\r\n\x1a\n"
    check(ok, "png %s draws a PNG (%s)" % (" ".join(args),
                                           p.stderr.strip()[-300:]))
    return ok


def check_png(datadir, tmp):
    p = top(datadir, "--json", "--period", "2008Q1")
    ranked = json.loads(p.stdout) if p.returncode == 0 else []
    key = ranked[0]["key"] if ranked else "tcp/80"
    other = ranked[1]["key"] if len(ranked) > 1 else "tcp/22"
    for period in ("2008Q1", "2008-03-10..2008-03-20"):
        png(datadir, os.path.join(tmp, "%s.png" % period.replace(".", "_")),
            "--period", period, "--key", key)
    for t in ("1-5", "6-10", "icmp"):
        png(datadir, os.path.join(tmp, "q1-%s.png" % t), "--period",
            "2008Q1", "--tz", "Asia/Tokyo", "--top", t)
    png(datadir, os.path.join(tmp, "q1-sensors.png"), "--period", "2008Q1",
        "--sensors")
    p = graph("png", "-d", datadir, "--period", "2008Q1", "--top", "11-15",
              "-o", os.path.join(tmp, "x.png"))
    check(p.returncode != 0 and "--top" in p.stderr,
          "png --top 11-15 is refused (%r)" % p.stderr.strip())
    events = os.path.join(tmp, "events")
    with open(events, "w") as f:
        f.write("# analysts' notes\n"
                "2008-03-15T09:00 %s worm wave https://example.org/x\n" % key)
    conf = os.path.join(tmp, "graph.conf")
    with open(conf, "w") as f:
        f.write("[graph]\nevents = %s\n" % events)
    red = "#C00000"
    for name, k, args, want in (
            ("with-event", key, ["--events", events], True),
            ("conf-event", key, ["-c", conf], True),
            ("other-key", other, ["--events", events], False),
            ("no-events", key, [], False)):
        out = os.path.join(tmp, name + ".png")
        if png(datadir, out, "--period", "2008-03-10..2008-03-20", "--key",
               k, *args):
            has = red in png_colours(out)
            check(has == want, "%s: the event's rule %s" %
                  (name, "is drawn" if want else "is not drawn"))
    with open(events, "a") as f:
        f.write("2008-03-32 %s no such day\n" % key)
    p = graph("png", "-d", datadir, "--events", events, "--period", "2008Q1",
              "--key", key, "-o", os.path.join(tmp, "bad.png"))
    check(p.returncode != 0 and "%s:3:" % events in p.stderr,
          "a malformed annotations line fails naming file and line (%r)" %
          p.stderr.strip())


def check_series(datadir, avgs, reporters):
    p = top(datadir, "--json", "--period", "2008-03-20..2008-03-22")
    key = json.loads(p.stdout)[1]["key"] if p.returncode == 0 else "tcp/80"
    proto, port = key.split("/")
    s, e = bounds("Asia/Tokyo", (2008, 3, 20), (2008, 3, 22))
    z = zoneinfo.ZoneInfo("Asia/Tokyo")
    p = graph("series", "-d", datadir, "--key", key, "--period",
              "2008-03-20..2008-03-22", "--json")
    if p.returncode != 0:
        check(False, "series --json: %s" % p.stderr)
        return
    got = json.loads(p.stdout)
    rows = got["rows"]
    bad = []
    want_times = list(range(s, e, STEP))
    if [r["time"] for r in rows] != [
            datetime.datetime.fromtimestamp(t, z).isoformat()
            for t in want_times]:
        bad.append("times %s..%s, expected %d hourly rows from %d" %
                   (rows[0]["time"] if rows else None,
                    rows[-1]["time"] if rows else None, len(want_times), s))
    for t, r in zip(want_times, rows):
        want = avgs.get((t, proto, int(port)), 0.0)
        if not A.close(r["avg"], want) or r["sensors"] != reporters[t]:
            bad.append("%s: %r, expected avg %r, sensors %d" %
                       (r["time"], r, want, reporters[t]))
    for b in bad[:6]:
        print("    " + b)
    check(not bad and got["zone"] == "Asia/Tokyo" and
          got["row_seconds"] == STEP,
          "series --json %s over 72 Japan hours: every row equals the "
          "sensors' averages and reporters" % key)
    p = graph("series", "-d", datadir, "--key", key, "--period",
              "2008-03-20..2008-03-22", "--csv")
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and len(lines) == 73 and
          lines[0] == "time,packets_per_sensor_per_interval,sensors" and
          all(float(ln.split(",")[1]) == r["avg"] for ln, r in
              zip(lines[1:], rows)),
          "series --csv has the same 72 rows under a heading")
    p = graph("series", "-d", datadir, "--key", key, "--period", "2008Q1",
              "--json")
    got = json.loads(p.stdout) if p.returncode == 0 else {"rows": []}
    check(0 < len(got["rows"]) <= 720 and got.get("row_seconds", 0) > STEP,
          "series over a quarter: %d rows of %s s, no more than the "
          "graph's 720 pixels" % (len(got["rows"]), got.get("row_seconds")))


def check_site(datadir, tmp):
    events = os.path.join(tmp, "site-events")
    with open(events, "w") as f:
        f.write("2008-03-15T09:00 tcp/2967 exploit wave "
                "https://example.org/advisory?a=1&b=2\n")
    out = os.path.join(tmp, "site")
    args = ["site", "-d", datadir, "-o", out, "--events", events,
            "--watch", "tcp/2967,icmp/13"]
    p = graph(*args)
    if p.returncode != 0:
        check(False, "site --watch --events: %s" % p.stderr)
        return
    with open(os.path.join(out, "index.html")) as f:
        index = f.read()
    check('href="key/tcp-2967.html"' in index and
          'href="key/icmp-13.html"' in index and "Asia/Tokyo" in index,
          "the index links both watched keys and gives its dates in "
          "Asia/Tokyo")
    page = os.path.join(out, "key", "tcp-2967.html")
    text = open(page).read() if os.path.exists(page) else ""
    check("exploit wave" in text and
          'href="https://example.org/advisory?a=1&amp;b=2"' in text and
          'datetime="2008-03-15T09:00:00+09:00"' in text,
          "the watched key's page lists the event, its link and its time")
    check(os.path.exists(os.path.join(out, "key", "icmp-13.html")),
          "a watched key without packets still has a page")

    def sig(name):
        with open(os.path.join(out, ".state")) as f:
            for line in f:
                if line.startswith(name + " ") or line.startswith(name +
                                                                   "\t"):
                    return line
        return None

    before = sig("key/tcp-2967-quarter.png")
    with open(events, "w") as f:
        f.write("2008-03-15T09:00 tcp/2967 exploit wave, revised\n")
    p = graph(*args)
    check(p.returncode == 0 and before is not None and
          sig("key/tcp-2967-quarter.png") not in (None, before),
          "a changed event draws its key's graph again (%r)" % before)


def ranking(means):
    return sorted(means, key=lambda k: (-means[k], keyidx(k)))


def report_json(out, name):
    path = os.path.join(out, "report", name + ".json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        check(False, "report/%s.json: %s" % (name, e))
        return None


def check_report(out, avgs, reporters, name, s, e, prev, closed):
    """report/<name>.json against the hand-computed ranking of [s, e), each
    key's rank in the previous period [prev), and the risers."""
    r = report_json(out, name)
    if r is None:
        return
    tk = zoneinfo.ZoneInfo("Asia/Tokyo")
    iso = lambda t: datetime.datetime.fromtimestamp(t, tk).isoformat()  # noqa: E731
    check(r["start"] == iso(s) and r["closed"] == closed and
          r["zone"] == "Asia/Tokyo" and r["step"] == STEP and
          r["unit"] == "packets per sensor per hour",
          "report %s states its period (%s), zone, step and unit, %s" %
          (name, r["start"], "closed" if closed else "under way"))
    until = e if closed else max(reporters) + STEP
    check(r["ranked_until"] == iso(until),
          "report %s ranks up to %s (%s)" % (name, iso(until),
                                             r["ranked_until"]))
    means, n = expected(avgs, reporters, s, until)
    check(r["intervals"] == n, "report %s: %d intervals (%d)" %
          (name, n, r["intervals"]))
    # STEP is an hour: per hour is per interval.
    compare(r["rows"], means, "report %s's top 20" % name)
    before, nb = expected(avgs, reporters, *prev)
    order = ranking(before)[:20]
    bad = []
    for row in r["rows"]:
        want = order.index(row["key"]) + 1 if row["key"] in order else None
        if nb == 0:
            ok = row["prev_rank"] is None and row["change"] is None
        elif want is None:
            ok = row["prev_rank"] is None and row["change"] == "new"
        else:
            ok = (row["prev_rank"] == want and row["change"] ==
                  ("%+d" % (want - row["rank"]) if want != row["rank"]
                   else "0"))
        if not ok:
            bad.append("%s: prev_rank %r change %r, expected rank %r" %
                       (row["key"], row["prev_rank"], row["change"], want))
    for b in bad[:5]:
        print("    " + b)
    check(not bad, "report %s: every key's rank in the previous period "
          "and its change (%d intervals before)" % (name, nb))
    gains = [(k, v - before.get(k, 0.0)) for k, v in means.items()
             if v > before.get(k, 0.0)] if nb else []
    gains.sort(key=lambda kv: (-kv[1], keyidx(kv[0])))
    got = [(x["key"], x["avg"] - x["avg_before"]) for x in r["risers"]]
    check(len(got) == min(10, len(gains)) and
          all(g[0] == w[0] and A.close(g[1], w[1])
              for g, w in zip(got, gains)),
          "report %s: the %d risers are the keys that gained most (%s)" %
          (name, len(got), ", ".join(k for k, _ in got[:3])))
    with open(os.path.join(out, "report", name + ".csv")) as f:
        rows = list(csv.DictReader(f))
    check([(x["key"], float(x["avg"])) for x in rows] ==
          [(x["key"], x["avg"]) for x in r["rows"]] and
          all(x["zone"] == "Asia/Tokyo" and x["period"] == name and
              x["unit"] == "packets per sensor per hour" for x in rows),
          "report %s.csv has the JSON's rows, each with period, zone and "
          "unit" % name)


def check_reports(datadir, avgs, reporters, tmp):
    """After check_site: the report pages of the same site."""
    out = os.path.join(tmp, "site")
    rep = os.path.join(out, "report")
    tk = "Asia/Tokyo"
    names = sorted(n[:-5] for n in os.listdir(rep) if n.endswith(".html")
                   and n != "index.html") if os.path.isdir(rep) else []
    want = ["2008-03", "2008-04", "2008Q1", "2008Q2", "FY2007", "FY2008"]
    check(names == want, "a report page per month, quarter and fiscal "
          "year with data: %s" % ", ".join(names))
    with open(os.path.join(rep, "index.html")) as f:
        index = f.read()
    check(all('href="%s.html"' % n in index for n in want) and
          "2008-04-01 \u2013 2008-06-30, so far" in index,
          "report/index.html links every period and marks those under way")
    with open(os.path.join(out, "index.html")) as f:
        check('href="report/index.html"' in f.read(),
              "the main page links the reports")
    fy7, q1 = bounds(tk, (2007, 4, 1), (2008, 3, 31)), \
        bounds(tk, (2008, 1, 1), (2008, 3, 31))
    mar, apr = bounds(tk, (2008, 3, 1), (2008, 3, 31)), \
        bounds(tk, (2008, 4, 1), (2008, 4, 30))
    check_report(out, avgs, reporters, "2008Q1", *q1,
                 bounds(tk, (2007, 10, 1), (2007, 12, 31)), True)
    check_report(out, avgs, reporters, "FY2007", *fy7,
                 bounds(tk, (2006, 4, 1), (2007, 3, 31)), True)
    check_report(out, avgs, reporters, "FY2008",
                 *bounds(tk, (2008, 4, 1), (2009, 3, 31)), fy7, False)
    check_report(out, avgs, reporters, "2008-04", *apr, mar, False)
    check_report(out, avgs, reporters, "2008Q2",
                 *bounds(tk, (2008, 4, 1), (2008, 6, 30)), q1, False)
    with open(os.path.join(rep, "2008Q1.html")) as f:
        page = f.read()
    check(all(x in page for x in (
        'src="../report/2008Q1-top1-5.png"', '2008Q1-top6-10.png',
        '2008Q1-icmp.png', '2008Q1-tcp-2967.png', '2008Q1-icmp-13.png',
        "exploit wave, revised", 'datetime="2008-03-15T09:00:00+09:00"')),
        "2008Q1.html: the top graphs, both watched keys' graphs and the "
        "quarter's event as the annotations file says now")
    r = report_json(out, "2008Q1") or {"watched": []}
    q1m, _ = expected(avgs, reporters, *q1)
    order = ranking(q1m)
    got = {w["key"]: w for w in r["watched"]}
    want = {k: (order.index(k) + 1 if k in q1m else None, q1m.get(k, 0.0))
            for k in ("tcp/2967", "icmp/13")}
    check(set(got) == set(want) and None in [w[0] for w in want.values()]
          and all(got[k]["rank"] == want[k][0] and
                  A.close(got[k]["avg"], want[k][1]) for k in want),
          "2008Q1.json: the watched keys with their rank and average, "
          "one without packets as none (%s)" % want)
    # A closed period is kept as drawn; one under way is drawn again.
    files = ["2008Q1.html", "2008Q1.json", "2008Q1-top1-5.png",
             "FY2007.html", "2008Q2.html"]
    ino = {n: os.stat(os.path.join(rep, n)).st_ino for n in files}
    p = graph("site", "-d", datadir, "-o", out, "--events",
              os.path.join(tmp, "site-events"), "--watch", "tcp/2967,icmp/13")
    check(p.returncode == 0, "site again (%s)" % p.stderr.strip())
    now = {n: os.stat(os.path.join(rep, n)).st_ino for n in files}
    kept = [n for n in files if now[n] == ino[n]]
    check(kept == files[:-1], "the next run keeps the closed periods' "
          "files and writes the current one's again (kept: %s)" %
          ", ".join(kept))
    browse_reports(tmp, out)
    # Ending at the fiscal year's end: the periods begun since are gone.
    end = bounds(tk, (2008, 3, 31), (2008, 3, 31))[1]
    p = graph("site", "-d", datadir, "-o", out, "--end", str(end),
              "--events", os.path.join(tmp, "site-events"), "--watch",
              "tcp/2967,icmp/13")
    left = sorted({n.split(".")[0].split("-t")[0].split("-i")[0]
                   for n in os.listdir(rep) if n != "index.html"})
    with open(os.path.join(rep, "index.html")) as f:
        index = f.read()
    check(p.returncode == 0 and left == ["2008-03", "2008Q1", "FY2007"] and
          "2008Q2" not in index and
          os.stat(os.path.join(rep, "2008Q1.html")).st_ino == ino[
              "2008Q1.html"],
          "site --end at FY2007's end: the later periods' pages and files "
          "are gone, the closed ones kept (%s)" % ", ".join(left))


def browse_reports(tmp, out):
    if site_test.chromium_path() is None:
        check(False, "chromium is not installed; the report pages need a "
              "real browser (contrib/setup-debian.sh --test installs it)")
        return
    srv = site_test.serve(out)
    base = "http://127.0.0.1:%d/" % srv.server_address[1]
    b = site_test.Browser(tmp)
    try:
        for page in ("report/index.html", "report/2008Q1.html",
                     "report/2008Q2.html"):
            for w, h, mobile in ((1280, 900, False), (390, 844, True)):
                b.open(base + page, w, h, mobile=mobile)
                what = "%s at %d px" % (page, w)
                if page != "report/index.html":
                    site_test.check_loaded(b, what)
                else:
                    errs = b.errors()
                    check(not errs, "%s: no console error (%s)" %
                          (what, errs[:2]))
                site_test.check_links(b, base, what)
                over = b.js(site_test.OVERFLOW)
                check(over <= 0, "%s: the page does not scroll sideways "
                      "(%d px too wide)" % (what, over))
    finally:
        b.close()
        srv.shutdown()


def main(tmp):
    GRAPH_ENV.update(T.graph_env(tmp))
    datadir, keysfile, avgs, reporters = build_datadir(tmp)
    if FAILURES:
        return
    check_tokyo(datadir, avgs, reporters)
    check_png(datadir, tmp)
    check_series(datadir, avgs, reporters)
    check_site(datadir, tmp)
    check_reports(datadir, avgs, reporters, tmp)
    check_rebuild(datadir, keysfile, avgs, reporters, tmp)


if __name__ == "__main__":
    T.run_in_tmp("teiten-period-", main)
