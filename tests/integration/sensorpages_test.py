"""The sensor pages and the groups page, end to end.  Three sensors replay
generated captures (hourly intervals over two and a half days, one sensor
with the TCP 5168 campaign that the others do not see) to a real
aggregator; `teiten-graph site`, with two groups in its configuration
(one naming a sensor that does not exist), builds the site; then a real
headless Chromium loads the pages and:

(a) each sensor page's top 10 per window (rank, key, its average, the
    fleet's average, their ratio, "only this sensor") equals what this
    test computes from each sensor's own `teiten-sensor -r FILE --print`
    output: per window, the sensor's packets per key over the intervals
    it reported (every interval from its first to its last), against the
    fleet's mean of doc/CONTRACTS.md contract 4;
(b) groups.html gives each group's top 10 per window: its sensors' sums
    over their reported intervals, summed;
(c) each sensor's health graph exists per window, decodes in Chromium,
    and index.html links the sensors' index, which links every sensor;
(d) `teiten-aggregator rebuild` makes the same .sens files from the
    archive as the live daemon wrote.

Set TEITEN_KEEP_TMP=1 to keep the temporary directory.
"""

import collections
import os
import re
import subprocess
import sys
import urllib.parse
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import site_test as S  # noqa: E402
from teiten_testlib import FAILURES, check, run_in_tmp  # noqa: E402

STEP = 3600
DAY = 86400
T0 = 1699920000 + 2 * 3600
SENSORS = (("s1", 30000, T0, 2 * DAY + 12 * 3600, 1, []),
           ("s2", 20000, T0, 2 * DAY, 2, ["--campaign", "5168@0.4"]),
           ("s3", 8000, T0 + DAY, DAY + 5 * 3600, 3, []))
GROUPS = (("domestic", ("s1", "s2")), ("overseas", ("s3", "nosuch")))
WINDOWS = ("day", "week", "month", "quarter", "year")


def label(p, k):
    return "%s/%d" % (p, k)


def own_sums(prints, start, end):
    """{sensor: (intervals reported, {label: packets})} over [start, end):
    a sensor reports every interval from its first to its last."""
    out = {}
    for sid, counts in prints.items():
        starts = [k[0] for k in counts]
        rep = sum(1 for s in range(min(starts), max(starts) + STEP, STEP)
                  if start <= s < end)
        sums = collections.Counter()
        for (s, p, k), n in counts.items():
            if start <= s < end:
                sums[label(p, k)] += n
        if rep:
            out[sid] = (rep, sums)
    return out


def fleet_means(avgs, reporters, start, end):
    return S.expected_window(avgs, reporters, start, end)


def expected_rank(own, ids, fleet):
    """[(label, mean, fleet mean, ratio, only)] best first, at most 10;
    one sensor's or a group's (its sums over its reported intervals)."""
    rep, sums = 0, collections.Counter()
    for sid in dict.fromkeys(ids):
        if sid in own:
            rep += own[sid][0]
            sums.update(own[sid][1])
    if rep == 0:
        return []
    keys = sorted((k for k in sums if sums[k] > 0),
                  key=lambda k: (-sums[k], S.keyidx(k)))[:10]
    rows = []
    for k in keys:
        m = sums[k] / rep
        f = fleet.get(k, 0)
        seen = sum(1 for s in own if own[s][1].get(k, 0) > 0)
        rows.append((k, m, f, m / f if f else None,
                     len(ids) == 1 and seen == 1))
    return rows


def expected_excess(own, sid, fleet):
    """The keys where sensor sid stands out: its mean minus the fleet's,
    most first, only those above the fleet's; at most 10."""
    if sid not in own:
        return []
    rep, sums = own[sid]
    score = {k: sums[k] / rep - fleet.get(k, 0) for k in sums
             if sums[k] > 0}
    keys = sorted((k for k in score if score[k] > 0),
                  key=lambda k: (-score[k], S.keyidx(k)))[:10]
    rows = []
    for k in keys:
        m, f = sums[k] / rep, fleet.get(k, 0)
        seen = sum(1 for s in own if own[s][1].get(k, 0) > 0)
        rows.append((k, m, f, m / f if f else None, seen == 1))
    return rows


def num(text):
    return float(text.replace(",", ""))


def close_text(text, want):
    """A number as the page prints it, to its decimals, equals want."""
    dec = len(text.split(".")[1]) if "." in text else 0
    return abs(num(text) - want) <= 0.5 * 10 ** -dec + 1e-9 * abs(want)


ROWS = ("[...document.querySelectorAll('#%s table.sensortop')].map(t => "
        "({cap: t.caption.textContent, rows: [...t.tBodies[0].rows].map("
        "r => [...r.cells].map(c => c.textContent))}))")
SPAN = ("[...document.querySelectorAll('#%s h2 time')].map(t => "
        "t.getAttribute('datetime'))")


def window_span(b, w):
    t = b.js(SPAN % w)
    return tuple(int(datetime.fromisoformat(x).timestamp()) for x in t)


def compare(rows, want, what, only_col):
    ok = len(rows) == len(want)
    bad = []
    for i, (r, e) in enumerate(zip(rows, want)):
        k, m, f, ratio, only = e
        good = (r[0] == str(i + 1) and r[1] == k and close_text(r[2], m)
                and close_text(r[3], f) and
                (r[4] == "\u2013" if ratio is None
                 else close_text(r[4], ratio)))
        if only_col:
            good = good and (r[5] == "only this sensor") == only
        if not good:
            bad.append("row %d: page %r, expected %r" % (i + 1, r, e))
    for x in bad[:3]:
        print("    " + x)
    check(ok and not bad and want, "%s: %d rows as computed from --print%s"
          % (what, len(want), "" if ok else " (page has %d)" % len(rows)))


def check_sensor_pages(b, base, out, prints, avgs, reporters):
    b.open(base + "index.html", 1280, 900)
    links = b.js(S.LINKS)
    check(base + "sensor/index.html" in links and
          base + "groups.html" in links,
          "index.html links sensor/index.html and groups.html")
    b.open(base + "sensor/index.html", 1280, 900)
    got = sorted(urllib.parse.urlparse(x).path.rsplit("/", 1)[1]
                 for x in b.js(S.LINKS) if "/sensor/s" in x)
    check(got == ["s1.html", "s2.html", "s3.html"],
          "the sensors' index links each sensor's page: %r" % got)
    S.check_links(b, base, "sensor/index.html")
    only_seen = False
    for sid in sorted(prints):
        page = "sensor/%s.html" % sid
        b.open(base + page, 1280, 900)
        b.screenshot(os.path.join(b.tmp, "sensor-%s.png" % sid))
        S.check_loaded(b, page)
        S.check_links(b, base, page)
        for w in WINDOWS:
            png = os.path.join(out, "sensor", "%s-%s.png" % (sid, w))
            check(os.path.exists(png) and S.png_size(png)[0] > 0,
                  "%s: health graph %s is a PNG" % (page, png))
            start, end = window_span(b, w)
            own = own_sums(prints, start, end)
            fleet = fleet_means(avgs, reporters, start, end)
            want = expected_rank(own, [sid], fleet)
            tables = b.js(ROWS % w)
            if not check(len(tables) == 2 and
                         tables[0]["cap"].startswith("Top 10") and
                         "stands out" in tables[1]["cap"],
                         "%s: a top 10 and a stands-out table in %s" %
                         (page, w)):
                continue
            if sid not in own:
                check(tables[0]["rows"][0][0].startswith("No data"),
                      "%s %s: no data, as it did not report" % (page, w))
                continue
            compare(tables[0]["rows"], want, "%s, last %s" % (page, w), 1)
            excess = expected_excess(own, sid, fleet)
            if excess:
                compare(tables[1]["rows"], excess, "%s, where it stands "
                        "out, last %s" % (page, w), 1)
            only_seen |= any(r[4] for r in want)
    check(only_seen, "some key was seen by one sensor only (the campaign)")


def check_groups(b, base, prints, avgs, reporters):
    b.open(base + "groups.html", 1280, 900)
    b.screenshot(os.path.join(b.tmp, "groups.png"))
    S.check_links(b, base, "groups.html")
    for w in WINDOWS:
        start, end = window_span(b, w)
        own = own_sums(prints, start, end)
        fleet = fleet_means(avgs, reporters, start, end)
        tables = b.js(ROWS % w)
        check([t["cap"].split(":")[0] for t in tables] ==
              [g for g, _ in GROUPS], "groups.html, %s: a table per "
              "group, side by side, in the configured order" % w)
        for t, (g, ids) in zip(tables, GROUPS):
            want = expected_rank(own, ids, fleet)
            rep = sum(own[s][0] for s in ids if s in own)
            check(re.search(r"\b%d sensor-intervals" % rep, t["cap"])
                  is not None, "groups.html %s %s: %d sensor-intervals "
                  "(%r)" % (w, g, rep, t["cap"]))
            if want:
                compare(t["rows"], want, "groups.html %s, last %s" % (g, w),
                        0)
            else:
                check(t["rows"][0][0].startswith("No data"),
                      "groups.html %s, last %s: no data" % (g, w))


def sens_files(datadir):
    """{hour|day/<start>.sens: bytes}."""
    out = {}
    for kind in ("hour", "day"):
        d = os.path.join(datadir, "summary", kind)
        for name in os.listdir(d):
            if name.endswith(".sens"):
                with open(os.path.join(d, name), "rb") as f:
                    out[kind + "/" + name] = f.read()
    return out


def check_rebuild(datadir):
    """`teiten-aggregator rebuild` makes the same .sens files from the
    archive as the live daemon did."""
    live = sens_files(datadir)
    p = subprocess.run([A.aggregator_path(), "rebuild", "-d", datadir, "-n",
                        str(STEP)],
                       capture_output=True, text=True)
    again = sens_files(datadir)
    check(p.returncode == 0 and live and again == live,
          "rebuild makes the same %d .sens files as the live daemon%s" %
          (len(live), "" if p.returncode == 0 else ": " + p.stderr[-300:]))


def main(tmp):
    S.graph_env(tmp)
    caps = {}
    for sid, n, start, dur, seed, extra in SENSORS:
        caps[sid] = os.path.join(tmp, sid + ".pcap")
        A.gencap(caps[sid], n, dur, start, seed, extra)
    prints = {sid: A.sensor_print(caps[sid], STEP) for sid in caps}
    datadir, avgs, reporters = A.replay_datadir(tmp, caps, STEP)
    if FAILURES:
        return
    for sid in caps:
        check(os.path.exists(os.path.join(datadir, "rrd", "sensor",
                                          sid + ".rrd")),
              "the aggregator wrote %s's health RRD" % sid)
    sens = sorted(os.listdir(os.path.join(datadir, "summary", "day")))
    check(any(x.endswith(".sens") for x in sens),
          "the daily buckets have .sens files beside their .sum")
    check_rebuild(datadir)
    conf = os.path.join(tmp, "teiten.conf")
    with open(conf, "w") as f:
        f.write("[graph]\n")
        for g, ids in GROUPS:
            f.write("group = %s %s\n" % (g, " ".join(ids)))
    out = os.path.join(tmp, "site")
    S.timed_site(datadir, out, "-c", conf)
    if FAILURES:
        return
    S.check_pages(out)
    srv = S.serve(out)
    base = "http://127.0.0.1:%d/" % srv.server_address[1]
    b = S.Browser(tmp)
    b.out, b.tmp = out, tmp
    try:
        check_sensor_pages(b, base, out, prints, avgs, reporters)
        check_groups(b, base, prints, avgs, reporters)
    finally:
        b.close()
        srv.shutdown()


if __name__ == "__main__":
    if S.chromium_path() is None:
        print("FAIL: chromium is not installed; this test needs a real "
              "browser (contrib/setup-debian.sh --test installs it)")
        sys.exit(1)
    run_in_tmp("teiten-sensorpages-", main)
