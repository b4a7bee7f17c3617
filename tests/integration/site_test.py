"""The static site, end to end.  Three sensors replay generated captures
spanning three days (hourly intervals, one with the TCP 5168 campaign) to a
real aggregator; then `teiten-graph site` builds the site and:

(a) `teiten-graph top --json` and the site's top-<window>.json rankings
    equal rankings this test computes itself from the sensors' --print
    outputs (doc/CONTRACTS.md contract 4 per interval, then the mean over the
    window's reported intervals), for windows by name and by --start/--end,
    the site's in the unit of its tables (per minute or per hour) with the
    window, span, zone, step and unit stated; the rank changes in the
    exports agree with the previous window's ranking; the page says when
    it was generated, that its 2023 data are N days old, each table's span,
    and "Only N of M intervals" where so; the columns are explained above
    the first window; a fresh five-minute-step installation's day and week
    graphs run on to its newest final interval, mid-hour;
(b) every image a page references is a PNG whose IHDR size matches the
    page's width and height; the pages nest their tags properly;
(c) a real headless Chromium, driven over the DevTools protocol (Python
    standard library only), loads index.html and a key page from a local
    HTTP server: every image decodes, every link answers 200, the console
    stays free of errors, on a phone-wide screen nothing but the tables
    and graphs (each at its own size in its frame) scrolls sideways, and
    in a dark colour scheme the page is dark.  Screenshots are saved and
    their paths printed;
(d) a second run without new data renders no PNG again and is much
    faster; an earlier --end renders the day graphs again but not the
    month ones.

Set TEITEN_KEEP_TMP=1 to keep the temporary directory (screenshots, site).
"""

import base64
import collections
import hashlib
import html.parser
import http.server
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check  # noqa: E402

STEP = 3600
DAY = 86400
T0 = 1699920000 + 2 * 3600  # two hours into a UTC day
DURATION = 3 * DAY
# name: (length, align) as graph/span.c has them
WINDOWS = {"day": (DAY, 3600), "week": (7 * DAY, 3600),
           "month": (30 * DAY, DAY), "quarter": (91 * DAY, DAY),
           "year": (365 * DAY, DAY)}
PROTO_BASE = {"tcp": 0, "udp": 65536, "icmp": 131072, "icmp6": 131328}
TOP = 20
# seconds per unit of the site's averages: per minute on the day window,
# per hour on the others (the unit of their graphs)
UNIT = {"day": 60, "week": 3600, "month": 3600, "quarter": 3600,
        "year": 3600}
UNIT_NAME = {60: "minute", 3600: "hour"}
ZONE = "UTC"  # the tests give teiten-graph no --tz


def iso(t):
    """ISO 8601 with the zone's offset, by Python's zoneinfo."""
    return datetime.fromtimestamp(t, ZoneInfo(ZONE)).isoformat()


def in_unit(means, w, step=STEP):
    """Per-interval means in the site's unit for window w."""
    return {k: v * UNIT[w] / step for k, v in means.items()}


def graph_path():
    return os.environ["TEITEN_GRAPH"]


GRAPH_ENV = dict(os.environ)


def graph_env(tmp):
    GRAPH_ENV.update(T.graph_env(tmp))


def graph(*args):
    return subprocess.run([graph_path()] + list(args), capture_output=True,
                          text=True, timeout=600, env=GRAPH_ENV)


def check_cli(datadir, tmp):
    """Mistakes on teiten-graph's command line: a non-zero exit and a
    first line on stderr that names the problem (doc/CONTRACTS.md contract 9);
    only an unknown command or option adds the usage after it."""
    cases = (
        (["bogus"], 'unknown command "bogus"'),
        (["top", "-d", datadir, "-q"], "invalid option"),
        (["site", "-d", datadir, "-n", "3", "-o", tmp],
         "option -n does not apply to site"),
        (["top", "-d", datadir, "--window", "weekly"], "option --window"),
        (["top", "-d", datadir, "--start", "1700000000", "--end",
          "1700001000"], "whole hours"),
        (["png", "-d", datadir, "--window", "day", "--key", "tcp/70000",
          "-o", os.path.join(tmp, "x.png")], "option --key"),
        (["top", "-d", os.path.join(tmp, "nothing"), "--window", "day"],
         os.path.join(tmp, "nothing")),
        (["png", "-d", datadir, "--window", "day", "--key", "tcp/22", "-o",
          os.path.join(tmp, "no", "such", "x.png")],
         os.path.join(tmp, "no", "such", "x.png")),
    )
    for args, want in cases:
        p = graph(*args)
        last = p.stderr.strip().splitlines()[:1] or [""]
        check(p.returncode == 1 and last[0].startswith("teiten-graph: ")
              and want in last[0],
              "teiten-graph %s: exit %d, %r" % (" ".join(args[:1] + args[3:]
                                                        if "-d" in args
                                                        else args),
                                                p.returncode, last[0]))
    p = graph("--version")
    check(p.returncode == 0 and p.stdout.startswith("teiten-graph "),
          "teiten-graph --version: %r" % p.stdout.strip())
    # Started by a parent that ignores SIGCHLD (inherited across exec),
    # the rendering processes must still be waited for.
    out = os.path.join(tmp, "sigchld-site")
    p = subprocess.run([graph_path(), "site", "-d", datadir, "-o", out],
                       capture_output=True, text=True, timeout=600,
                       env=GRAPH_ENV, preexec_fn=lambda: signal.signal(
                           signal.SIGCHLD, signal.SIG_IGN))
    check(p.returncode == 0 and os.path.exists(
        os.path.join(out, "year-top1-5.png")),
          "site with SIGCHLD ignored by its parent: exit %d %s" %
          (p.returncode, p.stderr.strip()[-120:]))
    # A damaged RRD, drawn by one of the rendering processes: the error
    # names it, the run fails, and no temporary file is left behind.
    broken = os.path.join(tmp, "broken")
    shutil.copytree(datadir, broken)
    rrd = os.path.join(broken, "rrd", "tcp", "23.rrd")
    os.truncate(rrd, 100)
    out = os.path.join(tmp, "broken-site")
    p = graph("site", "-d", broken, "-o", out)
    left = [f for _, _, fs in os.walk(out) for f in fs if f.endswith(".tmp")]
    check(p.returncode == 1 and rrd in p.stderr and not left,
          "a damaged RRD fails the site, named (%r), no .tmp left (%d)" %
          (p.stderr.strip()[-120:], len(left)))


# --- data --------------------------------------------------------------


def build_datadir(tmp):
    """Replay three captures to a real aggregator; returns the datadir and
    the expected per-interval averages and reporters."""
    sensors = (("s1", 60000, T0, DURATION, 1, []),
               ("s2", 40000, T0, DURATION - DAY // 2, 2,
                ["--campaign", "5168@0.4"]),
               ("s3", 15000, T0 + DAY, DAY + 5 * 3600, 3, []))
    caps = {}
    for sid, n, start, dur, seed, extra in sensors:
        caps[sid] = os.path.join(tmp, sid + ".pcap")
        A.gencap(caps[sid], n, dur, start, seed, extra)
    return A.replay_datadir(tmp, caps, STEP)


def keyidx(label):
    proto, key = label.split("/")
    return PROTO_BASE[proto] + int(key)


def expected_window(avgs, reporters, start, end):
    """{label: mean} over [start, end): sum of the per-interval averages
    over the reported intervals, divided by their number."""
    starts = [s for s in reporters if start <= s < end]
    sums = collections.defaultdict(float)
    for s in sorted(starts):
        for (ss, p, k), v in avgs.items():
            if ss == s:
                sums["%s/%d" % (p, k)] += v
    return {k: v / len(starts) for k, v in sums.items() if v > 0}


def ranked(means):
    """Labels best first; equal means in key index order, as summary.c."""
    return sorted(means, key=lambda k: (-means[k], keyidx(k)))


def span(name, end):
    length, align = WINDOWS[name]
    e = end - end % align
    return e - length, e


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def compare_ranking(got, means, n, what):
    """got: [{"rank", "key", "avg"}...].  Ties may come in any order, so
    each key must carry its own expected mean and the means, position by
    position, must be the expected top n."""
    want = ranked(means)[:n]
    bad = []
    if len(got) != len(want):
        bad.append("%d entries, expected %d" % (len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        if g["rank"] != i + 1:
            bad.append("rank %s at position %d" % (g["rank"], i + 1))
        if g["key"] not in means or not close(g["avg"], means[g["key"]]):
            bad.append("%s: avg %r, expected %r" %
                       (g["key"], g["avg"], means.get(g["key"])))
        if not close(g["avg"], means[w]):
            bad.append("position %d: %s %r, expected %s %r" %
                       (i + 1, g["key"], g["avg"], w, means[w]))
    if len({g["key"] for g in got}) != len(got):
        bad.append("a key listed twice")
    for b in bad[:8]:
        print("    " + b)
    check(not bad and len(want) > 0, "%s: %d keys equal the hand-computed "
          "ranking" % (what, len(want)))


def top_json(datadir, *args):
    p = graph("top", "-d", datadir, "--json", *args)
    if p.returncode != 0:
        check(False, "teiten-graph top %s: %s" % (" ".join(args), p.stderr))
        return []
    return json.loads(p.stdout)


def check_rankings(datadir, out, avgs, reporters):
    end = max(reporters) + STEP
    for w in ("day", "week"):
        s, e = span(w, end)
        compare_ranking(top_json(datadir, "--window", w, "-n", "10"),
                        expected_window(avgs, reporters, s, e), 10,
                        "top --window %s -n 10" % w)
    for s, e in ((T0 - 2 * 3600 + DAY, T0 - 2 * 3600 + 2 * DAY),
                 (T0 + 5 * 3600, T0 + 29 * 3600),
                 (T0 - 2 * 3600, T0 - 2 * 3600 + 3 * DAY)):
        compare_ranking(top_json(datadir, "--start", str(s), "--end",
                                 str(e), "-n", "10"),
                        expected_window(avgs, reporters, s, e), 10,
                        "top --start %d --end %d" % (s, e))
    for w in ("day", "month"):
        with open(os.path.join(out, "top-%s.json" % w)) as f:
            doc = json.load(f)
        s, e = span(w, end)
        check_export_head(doc, w, s, e, reporters)
        exported = doc.get("rows", [])
        compare_ranking(exported, in_unit(expected_window(
            avgs, reporters, s, e), w), TOP,
            "site top-%s.json (per sensor per %s)" %
            (w, UNIT_NAME[UNIT[w]]))
        check_changes(exported, avgs, reporters, s, e, w)
        check_csv(out, w, doc)
        check_table(out, w, expected_window(avgs, reporters, s, e))


def check_export_head(doc, w, s, e, reporters):
    """A JSON export says what it holds: its window, the table's span
    (ISO 8601 with offset), zone, step, unit, and the number of reported
    intervals and mean sensors reporting."""
    n = [r for r in reporters if s <= r < e]
    want = {"window": w, "start": iso(s), "end": iso(e), "zone": ZONE,
            "step": STEP, "intervals": len(n),
            "unit": "packets per sensor per %s" % UNIT_NAME[UNIT[w]]}
    got = {k: doc.get(k) for k in want}
    sensors = sum(reporters[r] for r in n) / len(n) if n else 0
    check(got == want and close(doc.get("sensors", -1), sensors),
          "top-%s.json names its window, span, zone, step and unit: %r "
          "(sensors %r, expected %r)" % (w, got, doc.get("sensors"),
                                         sensors))


class Tables(html.parser.HTMLParser):
    """{section id: [[cell text, ...] per body row]} of index.html."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.section, self.cell, self.head = {}, None, None, []
        self.swatch = {}  # the colour swatch of each row, or None

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.section = dict(attrs).get("id")
        elif tag == "tr" and self.section:
            self.rows.setdefault(self.section, []).append([])
            self.swatch.setdefault(self.section, []).append(None)
        elif tag == "span" and self.section and \
                dict(attrs).get("class") == "sw":
            st = dict(attrs).get("style", "")
            self.swatch[self.section][-1] = st.split(":")[-1].upper()
        elif tag in ("td", "th") and self.section:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[self.section][-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def png_colours(path):
    """The set of "#RRGGBB" colours in an 8-bit RGB or RGBA PNG without
    interlacing (what rrd_graph writes), decoded with zlib alone."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", data[pos + 8:pos + 21])
        elif kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    w, h, depth, ctype, _, _, lace = hdr
    if depth != 8 or ctype not in (2, 6) or lace:
        raise ValueError("%s: PNG type %d/%d not decoded here" %
                         (path, depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    prev, seen = bytearray(stride), set()
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pr) & 255
        for x in range(0, stride, bpp):
            seen.add("#%02X%02X%02X" % tuple(line[x:x + 3]))
        prev = line
    return seen


def check_colours(out):
    """Every key drawn in a window's graphs has a swatch beside it in the
    table; no two keys drawn in one window (its port graphs and its ICMP
    graph) share a colour, a key has the same colour in every window, and
    the PNG holds pixels of it."""
    p = Tables()
    with open(os.path.join(out, "index.html")) as f:
        p.feed(f.read())
    colour, bad = {}, []
    for w in WINDOWS:
        rows = p.rows.get(w, [])[1:]
        sw = p.swatch.get(w, [])[1:]
        ports = [(r[1], c) for r, c in zip(rows, sw)
                 if r[1].split("/")[0] in ("tcp", "udp")]
        icmps = [(r[1], c) for r, c in zip(rows, sw)
                 if r[1].split("/")[0] in ("icmp", "icmp6")]
        groups = (("top1-5", ports[:5]), ("top6-10", ports[5:10]),
                  ("icmp", icmps[:5]))
        drawn = {k for _, g in groups for k, _ in g}
        # One table holds the swatches of all three graphs: no colour
        # may stand for two keys in it.
        cs = [c for _, g in groups for _, c in g]
        if len(set(cs)) != len(cs):
            bad.append("%s: keys drawn share a colour: %r" %
                       (w, [kc for _, g in groups for kc in g]))
        for k, c in ports + icmps:
            if (c is not None) != (k in drawn):
                bad.append("%s %s: swatch %r" % (w, k, c))
        for name, g in groups:
            cs = [c for _, c in g]
            if len(set(cs)) != len(cs):
                bad.append("%s-%s.png: colours %r" % (w, name, g))
            if not g:
                continue
            have = png_colours(os.path.join(out, "%s-%s.png" % (w, name)))
            bad += ["%s-%s.png has no pixel of %s's %s" % (w, name, k, c)
                    for k, c in g if c not in have]
            for k, c in g:
                if colour.setdefault(k, c) != c:
                    bad.append("%s: %s in %s, %s before" %
                               (k, c, w, colour[k]))
    for b in bad[:8]:
        print("    " + b)
    check(colour and not bad,
          "colours: %d keys drawn, each with one colour in every window "
          "and its graphs, none shared within a window" % len(colour))


def check_table(out, w, means):
    """The index table's Avg column is the window's mean in the unit of
    its graphs: per sensor per minute on the day window, per hour on the
    others, every row with the same decimals: 2, or more when the
    column's largest value is below 1 so that it shows 3 significant
    digits; commas between thousands.  Share has 2 decimals."""
    p = Tables()
    with open(os.path.join(out, "index.html")) as f:
        p.feed(f.read())
    rows = p.rows.get(w, [])
    unit = 60 if w == "day" else 3600
    order = ranked(means)[:TOP]
    bad = []
    check(rows and rows[0][3] == "Avg/%s" % ("min" if w == "day" else
                                             "hour"),
          "index.html, %s table: the Avg column names its unit" % w)
    top = max(means.values()) * unit / STEP if means else 0
    dec = 2
    while dec < 8 and 0 < top * 10 ** dec < 100:
        dec += 1
    for r in rows[1:]:
        want = means.get(r[1], 0) * unit / STEP
        cell = r[3]
        whole, _, frac = cell.partition(".")
        groups = whole.split(",")
        if (r[1] not in order or len(frac) != dec or
                not all(len(g) == 3 for g in groups[1:]) or
                not 1 <= len(groups[0]) <= 3 or
                abs(float(cell.replace(",", "")) - want) >
                0.5 * 10 ** -dec + 1e-9):
            bad.append("%s: %s, expected %.*f" % (r[1], cell, dec, want))
        if not (r[4].endswith("%") and len(r[4].partition(".")[2]) == 3):
            bad.append("%s: share %s, not 2 decimals" % (r[1], r[4]))
    for b in bad[:5]:
        print("    " + b)
    check(len(rows) == min(TOP, len(means)) + 1 and not bad,
          "index.html, %s table: %d rows with each key's mean per sensor "
          "per %s" % (w, len(rows) - 1, "minute" if w == "day" else "hour"))


def check_changes(exported, avgs, reporters, s, e, w):
    """"change" is prev_rank - rank as "+3"/"-2"/"0", "new" outside the
    previous window's top 20, null when that window has no data."""
    prev = expected_window(avgs, reporters, s - (e - s), s)
    order = ranked(prev)
    bad = []
    for g in exported:
        if not prev:
            if g["change"] is not None or g["prev_rank"] is not None:
                bad.append("%s: %r without previous data" % (g["key"], g))
            continue
        pm = prev.get(g["key"])
        cut = prev[order[TOP - 1]] if len(order) >= TOP else -1
        if pm is not None and close(pm, cut):
            continue  # tied at the cut: either side is right
        if pm is None or order.index(g["key"]) >= TOP:
            ok = g["change"] == "new" and g["prev_rank"] is None
        else:
            r = order.index(g["key"]) + 1
            d = r - g["rank"]
            ok = (g["prev_rank"] == r and
                  g["change"] == ("+%d" % d if d > 0 else "%d" % d))
            # equal means in the previous window: any order among them
            ok = ok or close(prev[order[g["prev_rank"] - 1]], pm) \
                if g["prev_rank"] else ok
        if not ok:
            bad.append("%s: %r" % (g["key"], g))
    for b in bad[:5]:
        print("    " + b)
    check(not bad, "top-%s.json: rank changes against the previous %s "
          "(%s)" % (w, w, "has data" if prev else "no data: null"))


def check_csv(out, w, doc):
    """The CSV has the JSON's rows, in the same unit, and on each row the
    window, span, zone, step and unit that the JSON gives once."""
    import csv
    exported = doc.get("rows", [])
    with open(os.path.join(out, "top-%s.csv" % w), newline="") as f:
        rows = list(csv.DictReader(f))
    same = len(rows) == len(exported) and all(
        int(r["rank"]) == g["rank"] and r["key"] == g["key"] and
        r["service"] == g["service"] and float(r["avg"]) == g["avg"] and
        r["change"] == (g["change"] or "") and r["unit"] == doc["unit"] and
        r["window"] == w and r["start"] == doc["start"] and
        r["end"] == doc["end"] and r["zone"] == doc["zone"] and
        int(r["step"]) == doc["step"] for r, g in zip(rows, exported))
    check(same and rows, "top-%s.csv has the JSON's rows and columns, "
          "with its window, span, zone, step and unit" % w)


# --- what the page says about itself -----------------------------------


def sections(text):
    """{section id: its HTML} of index.html."""
    out = {}
    for part in text.split('<section id="')[1:]:
        name, _, body = part.partition('"')
        out[name] = body.split("</section>")[0]
    return out


def time_tag(t):
    """How the pages write a time: ISO 8601 with offset, then the local
    minute and the zone."""
    d = datetime.fromtimestamp(t, ZoneInfo(ZONE))
    return '<time datetime="%s">%s %s</time>' % (
        d.isoformat(), d.strftime("%Y-%m-%d %H:%M"), ZONE)


def check_generated(out, newest, before, after):
    """The page says when it was generated (by the real clock, between
    before and after) and, the data being from 2023, that they are N
    days old, N from the end of the newest final interval."""
    with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
        text = f.read()
    times = [time_tag(t) for t in range(int(before), int(after) + 1)]
    check(any("Generated at " + t in text for t in times),
          "index.html says when it was generated, as <time> in %s" % ZONE)
    days = {(t - newest) // DAY for t in range(int(before), int(after) + 1)}
    want = ["Data are %d day%s old: the newest final interval ended at %s" %
            (n, "" if n == 1 else "s", time_tag(newest)) for n in days]
    check(any(w in text for w in want) and 'class="warn"' in text,
          "index.html warns that its data are %s days old" %
          "/".join(map(str, sorted(days))))


def check_spans(out, reporters, step, end, what):
    """Each window section states the span its table covers (whole
    hours for the day and week windows); when the newest final interval
    ends past it, that the graphs run on to its end; and, when fewer
    intervals were reported in it than it spans, "Only N of this
    window's M intervals"."""
    with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
        secs = sections(f.read())
    bad = []
    notes = 0
    for w in WINDOWS:
        body = secs.get(w, "")
        s, e = span(w, end)
        if "The table covers %s to %s" % (time_tag(s), time_tag(e)) \
                not in body:
            bad.append("%s: no table span %s-%s" % (w, iso(s), iso(e)))
        graph_end = end - end % step if w in ("day", "week") else e
        runs_on = "the graphs run on to the newest final interval's " \
                  "end, %s" % time_tag(graph_end)
        if (graph_end != e) != (runs_on in body):
            bad.append("%s: graphs to %s stated wrongly" %
                       (w, iso(graph_end)))
        n = len([r for r in reporters if s <= r < e])
        m = (e - s) // step
        note = "Only %d of this window's %d intervals of %d s were " \
               "reported" % (n, m, step)
        if (n < m) != (note in body) or (n >= m and "Only " in body):
            bad.append("%s: %d of %d intervals, note %s" %
                       (w, n, m, note in body))
        notes += note in body
    for b in bad[:5]:
        print("    " + b)
    check(not bad, "%s: every window states its table's span, the "
          "graphs' end, and %d say how few intervals they have" %
          (what, notes))


def check_legend(out):
    """The columns are explained above the first window, the arrows in
    words; each change cell's title says "rose" or "fell" in words."""
    with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
        text = f.read()
    legend = text.find('<div class="legend">')
    first = text.find("<section ")
    check(0 < legend < first and "\u2191 rose" in text[legend:first] and
          "\u2193 fell" in text[legend:first] and
          "<b>Avg</b>" in text[legend:first],
          "index.html explains Avg, Share and the arrows before the first "
          "window")
    ups = text.count('<td class="up" title="\u2191 rose ')
    downs = text.count('<td class="down" title="\u2193 fell ')
    check(ups == text.count('<td class="up"') and
          downs == text.count('<td class="down"') and ups + downs > 0,
          "every rank change says rose or fell in its title (%d up, %d "
          "down)" % (ups, downs))


def png_state(out, name):
    """(start, end) of the range a PNG was drawn over, from DIR/.state:
    its signature starts with the window bounds (graph/site_state.c)."""
    with open(os.path.join(out, ".state")) as f:
        for line in f:
            n, _, sig = line.rstrip("\n").partition("\t")
            if n == name:
                a, b = sig.split()[:2]
                return int(a), int(b)
    return None


def check_fresh(tmp):
    """A new installation, with a five-minute step and data ending in
    the middle of an hour: every window says how few intervals it has;
    the tables stop at the hour below the newest data, and the day and
    week graphs run on to the newest final interval's end."""
    step = 300
    cap = os.path.join(tmp, "fresh.pcap")
    fresh = os.path.join(tmp, "fresh")
    os.makedirs(fresh)
    A.gencap(cap, 3000, 3 * 3600 + 1800, T0, 7)
    datadir, _, reporters = A.replay_datadir(fresh, {"f1": cap}, step)
    end = A.last_final(datadir) + step
    check(end % 3600 != 0, "the fresh datadir's newest final interval "
          "ends mid-hour (%s)" % iso(end))
    out = os.path.join(fresh, "site")
    before = time.time()
    timed_site(datadir, out)
    check_spans(out, reporters, step, end, "a fresh installation")
    check_generated(out, end, before, time.time())
    bad = []
    for w in ("day", "week"):
        s, e = span(w, end)
        for g in ("top1-5", "sensors"):
            got = png_state(out, "%s-%s.png" % (w, g))
            want = (end - (e - s), end)
            if got != want:
                bad.append("%s-%s.png: %r, expected %r" % (w, g, got, want))
    for b in bad:
        print("    " + b)
    check(not bad, "the day and week graphs are drawn up to the newest "
          "final interval's end, over the window's length")


# --- pages and PNGs ----------------------------------------------------

VOID = {"meta", "link", "img", "br", "hr", "input", "source", "wbr"}


class Page(html.parser.HTMLParser):
    """Images, links and ids of a page, and whether its tags nest."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.imgs, self.links, self.ids, self.stack, self.errors = \
            [], [], [], [], []
        self.doctype = False

    def handle_decl(self, decl):
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a)
        if tag in ("a", "link") and "href" in a:
            self.links.append(a["href"])
        if "id" in a:
            self.ids.append(a["id"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %s" %
                               (tag, self.stack[-1:] or "nothing"))
        else:
            self.stack.pop()


def parse_page(path):
    p = Page()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    p.feed(text)
    p.close()
    if p.stack:
        p.errors.append("unclosed " + ",".join(p.stack))
    if not p.doctype:
        p.errors.append("no <!DOCTYPE html>")
    if len(set(p.ids)) != len(p.ids):
        p.errors.append("duplicate ids")
    if 'name="viewport"' not in text:
        p.errors.append("no viewport meta")
    return p


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def pages(out):
    yield os.path.join(out, "index.html")
    for name in sorted(os.listdir(os.path.join(out, "key"))):
        if name.endswith(".html"):
            yield os.path.join(out, "key", name)


def check_pages(out):
    bad, nimg = [], 0
    for page in pages(out):
        p = parse_page(page)
        bad += ["%s: %s" % (page, e) for e in p.errors]
        for img in p.imgs:
            nimg += 1
            path = os.path.normpath(os.path.join(os.path.dirname(page),
                                                 img.get("src", "")))
            size = png_size(path) if os.path.isfile(path) else None
            if size is None or 0 in size:
                bad.append("%s: %s is not a PNG" % (page, img.get("src")))
            elif (str(size[0]), str(size[1])) != (img.get("width"),
                                                  img.get("height")):
                bad.append("%s: %s is %dx%d, page says %sx%s" %
                           (page, img["src"], size[0], size[1],
                            img.get("width"), img.get("height")))
            if not img.get("alt"):
                bad.append("%s: %s has no alt text" % (page, img["src"]))
    for b in bad[:10]:
        print("    " + b)
    npages = len(list(pages(out)))
    check(not bad and nimg >= 20, "%d pages, %d images: every image is a "
          "PNG of the size the page gives, with alt text; tags nest" %
          (npages, nimg))
    return npages


# --- a browser over the DevTools protocol ------------------------------


class WebSocket:
    """Just enough RFC 6455 for the DevTools protocol: text frames, masked
    from the client, possibly long or fragmented from the server."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url, timeout=60):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n" %
            (u.path, u.hostname, u.port, key)).encode())
        self.buf = bytearray()
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        end = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[:end + 4]
        accept = base64.b64encode(hashlib.sha1(
            (key + self.GUID).encode()).digest()).decode()
        if " 101 " not in head.split("\r\n")[0] or accept not in head:
            raise ConnectionError("websocket handshake: " + head)

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("DevTools closed the connection")
        self.buf += chunk

    def _read(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _frame(self, op, data):
        n = len(data)
        head = bytes([0x80 | op])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(
            b ^ mask[i % 4] for i, b in enumerate(data)))

    def send(self, text):
        self._frame(1, text.encode())

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            op = b0 & 0x0F
            if op == 8:
                raise ConnectionError("DevTools closed the websocket")
            if op == 9:
                self._frame(10, data)
                continue
            if op in (0, 1, 2):
                msg += data
                if b0 & 0x80:
                    return msg.decode()

    def close(self):
        self.sock.close()


def chromium_path():
    for name in (os.environ.get("TEITEN_CHROMIUM", ""), "chromium",
                 "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Browser:
    """A headless Chromium with one page, and the protocol events seen."""

    def __init__(self, tmp):
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp)
        self.log = open(os.path.join(tmp, "chromium.log"), "w")
        self.proc = subprocess.Popen(
            [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--user-data-dir=" + self.profile,
             "--remote-debugging-port=0", "about:blank"],
            stdout=self.log, stderr=self.log)
        port = self._port()
        deadline = time.time() + 30
        page = None
        while page is None and time.time() < deadline:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" %
                                        port, timeout=10) as r:
                page = next((t for t in json.load(r)
                             if t["type"] == "page"), None)
            if page is None:
                time.sleep(0.1)
        if page is None:
            raise AssertionError("chromium opened no page")
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.id = 0
        self.events = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")

    def _port(self):
        """Chromium writes the port it chose into the profile."""
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("chromium exited %d; see its log" %
                                     self.proc.returncode)
            try:
                with open(path) as f:
                    return int(f.readline())
            except (OSError, ValueError):
                time.sleep(0.1)
        raise AssertionError("chromium opened no DevTools port")

    def call(self, method, **params):
        self.id += 1
        self.ws.send(json.dumps({"id": self.id, "method": method,
                                 "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.id:
                if "error" in msg:
                    raise AssertionError("%s: %s" % (method, msg["error"]))
                return msg["result"]
            self.events.append(msg)

    def wait(self, event, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == event:
                return msg
        raise AssertionError("no %s within %ds" % (event, timeout))

    def open(self, url, width, height, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride", width=width,
                  height=height, deviceScaleFactor=1, mobile=mobile)
        self.events = []
        self.call("Page.navigate", url=url)
        self.wait("Page.loadEventFired")

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr,
                      returnByValue=True)
        if "exceptionDetails" in r:
            raise AssertionError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"]["value"]

    def screenshot(self, path, full=True):
        m = self.call("Page.getLayoutMetrics")
        size = m.get("cssContentSize") or m["contentSize"]
        vp = m.get("cssLayoutViewport") or m["layoutViewport"]
        clip = {"x": 0, "y": 0, "width": vp["clientWidth"],
                "height": size["height"] if full else vp["clientHeight"],
                "scale": 1}
        r = self.call("Page.captureScreenshot", format="png", clip=clip,
                      captureBeyondViewport=full)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        print("     screenshot: %s" % path)
        return path

    def errors(self):
        """Console errors, exceptions and failed loads since open()."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p["type"] == "error":
                out.append("console: %s" % p["args"])
            elif m == "Runtime.exceptionThrown":
                out.append("exception: %s" % p["exceptionDetails"])
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append("log: %s %s" % (p["entry"]["text"],
                                           p["entry"].get("url", "")))
            elif m == "Network.loadingFailed":
                out.append("load failed: %s" % p.get("errorText"))
            elif (m == "Network.responseReceived" and
                  p["response"]["status"] >= 400):
                out.append("HTTP %d %s" % (p["response"]["status"],
                                           p["response"]["url"]))
        return out

    def close(self):
        self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass


def serve(out):
    handler = lambda *a, **kw: Quiet(*a, directory=out, **kw)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


IMAGES = ("[...document.images].map(i => ({src: i.getAttribute('src'), "
          "ok: i.complete && i.naturalWidth > 0}))")
LINKS = ("[...document.querySelectorAll('a[href], link[href]')]"
         ".map(a => a.href)")
IDS = "[...document.querySelectorAll('[id]')].map(e => e.id)"
OVERFLOW = ("document.documentElement.scrollWidth - "
            "document.documentElement.clientWidth")
# Images drawn narrower than their pixels, or wider than a frame that
# cannot scroll.
SHRUNK = ("[...document.images].filter(i => i.clientWidth < i.naturalWidth"
          " || (i.parentElement.scrollWidth > i.parentElement.clientWidth"
          " && !['auto', 'scroll'].includes(getComputedStyle("
          "i.parentElement).overflowX))).map(i => i.getAttribute('src'))")
BACKGROUND = ("getComputedStyle(document.body).backgroundColor.match("
              "/\\d+/g).slice(0, 3).map(Number)")


def check_dark(b, base):
    """With a dark colour scheme asked for, the page is dark (by its
    computed body background in Chromium); light otherwise."""
    with open(os.path.join(b.out, "style.css")) as f:
        css = f.read()
    check("@media (prefers-color-scheme:dark)" in css,
          "style.css has a dark colour scheme")
    seen = {}
    for scheme in ("dark", "light"):
        b.call("Emulation.setEmulatedMedia", features=[
            {"name": "prefers-color-scheme", "value": scheme}])
        b.open(base + "index.html", 1280, 900)
        seen[scheme] = b.js(BACKGROUND)
        if scheme == "dark":
            b.screenshot(os.path.join(b.tmp, "index-dark.png"), full=False)
            check_loaded(b, "index.html in the dark scheme")
    check(max(seen["dark"]) < 64 and min(seen["light"]) > 192,
          "body background dark in the dark scheme %r, light otherwise %r"
          % (seen["dark"], seen["light"]))


def check_loaded(b, what):
    imgs = b.js(IMAGES)
    broken = [i["src"] for i in imgs if not i["ok"]]
    check(imgs and not broken, "%s: %d images, all decoded in Chromium%s" %
          (what, len(imgs), (": broken " + ", ".join(broken[:5]))
           if broken else ""))
    errs = b.errors()
    for e in errs[:5]:
        print("    " + e)
    check(not errs, "%s: no console error, no failed load" % what)


def check_links(b, base, what):
    """Every link answers 200 from the server; a fragment names an id."""
    ids = set(b.js(IDS))
    links = sorted(set(b.js(LINKS)))
    bad = []
    for link in links:
        u = urllib.parse.urlparse(link)
        if u.scheme == "data":
            continue  # inline, e.g. the empty icon
        if not link.startswith(base):
            bad.append("not local: " + link)
            continue
        status = http_status(link.split("#")[0])
        if status != 200:
            bad.append("%s: HTTP %d" % (link, status))
        if u.fragment and u.path == urllib.parse.urlparse(b.js(
                "location.href")).path and u.fragment not in ids:
            bad.append("%s: no such id" % link)
    for x in bad[:5]:
        print("    " + x)
    check(links and not bad, "%s: %d links, each answers 200" %
          (what, len(links)))


def browse(tmp, out):
    srv = serve(out)
    base = "http://127.0.0.1:%d/" % srv.server_address[1]
    b = Browser(tmp)
    b.out, b.tmp = out, tmp
    try:
        b.open(base + "index.html", 1280, 900)
        b.screenshot(os.path.join(tmp, "index-desktop.png"))
        b.screenshot(os.path.join(tmp, "index-desktop-top.png"), full=False)
        check_loaded(b, "index.html")
        check_links(b, base, "index.html")
        key = b.js("document.querySelector('td a[href^=\"key/\"]')"
                   ".getAttribute('href')")
        b.open(base + key, 1280, 900)
        b.screenshot(os.path.join(tmp, "key-desktop.png"))
        check_loaded(b, key)
        check_links(b, base, key)
        for page in ("index.html", key):
            b.open(base + page, 390, 844, mobile=True)
            b.screenshot(os.path.join(tmp, "phone-" +
                                      os.path.basename(page) + ".png"),
                         full=False)
            over = b.js(OVERFLOW)
            check(over <= 0, "%s on a 390 px phone: the page does not "
                  "scroll sideways (%d px too wide)" % (page, over))
            small = b.js(SHRUNK)
            check(not small, "%s on a 390 px phone: every graph at its "
                  "natural size in a frame that scrolls%s" %
                  (page, (": not " + ", ".join(small[:3])) if small else ""))
            check_loaded(b, page + " on a phone")
        check_dark(b, base)
    finally:
        b.close()
        srv.shutdown()


# --- incremental runs --------------------------------------------------


def png_mtimes(out):
    m = {}
    for d, _, names in os.walk(out):
        for n in names:
            if n.endswith(".png"):
                p = os.path.join(d, n)
                m[os.path.relpath(p, out)] = os.stat(p).st_mtime_ns
    return m


def timed_site(datadir, out, *extra):
    t = time.monotonic()
    p = graph("site", "-d", datadir, "-o", out, *extra)
    dt = time.monotonic() - t
    check(p.returncode == 0, "teiten-graph site %s exits 0 in %.2f s%s" %
          (" ".join(extra), dt, "" if p.returncode == 0 else
           ": " + p.stderr.strip()))
    return dt


def cache_mtimes(out):
    d = os.path.join(out, ".cache")
    return {n: os.stat(os.path.join(d, n)).st_mtime_ns
            for n in os.listdir(d) if n.endswith(".win")}


def check_incremental(datadir, out, t1, end):
    before = png_mtimes(out)
    wins = cache_mtimes(out)
    time.sleep(0.05)  # so that a rewrite would show in the mtime
    t2 = timed_site(datadir, out)
    after = png_mtimes(out)
    spans = set()
    for w in WINDOWS:
        a, b = span(w, end)
        spans |= {"%d-%d.win" % (a, b), "%d-%d.win" % (2 * a - b, a)}
    check(len(spans) == 10 and spans <= set(wins) and
          cache_mtimes(out) == wins,
          "the second run ranks from the %d cached windows (5 windows, "
          "the 5 before them and the report periods'), rewriting none" %
          len(wins))
    changed = [n for n in after if before.get(n) != after[n]]
    print("     site generation: first run %.2f s, second run %.2f s "
          "(%d PNGs)" % (t1, t2, len(after)))
    check(set(after) == set(before) and not changed,
          "second run without new data renders none of the %d PNGs again%s"
          % (len(after), (": " + ", ".join(changed[:5])) if changed else ""))
    check(t2 < t1 / 3, "second run takes well under the first (%.2f s vs "
          "%.2f s)" % (t2, t1))
    # An hour earlier: the day window moves, the month window does not.
    timed_site(datadir, out, "--end", str(end - 3600))
    again = png_mtimes(out)
    check(again.get("day-top1-5.png") != after.get("day-top1-5.png") and
          again.get("month-top1-5.png") == after.get("month-top1-5.png"),
          "an earlier --end renders the day graphs again, not the month's")


def check_rebuild(datadir, out, avgs, reporters):
    """A damaged cache file is recomputed, not trusted; `teiten-aggregator
    rebuild` (same last_final) makes the next run draw and rank again."""
    end = max(reporters) + STEP
    s, e = span("month", end)
    name = os.path.join(out, ".cache", "%d-%d.win" % (s, e))
    size = os.path.getsize(name)
    os.truncate(name, size - 8)
    timed_site(datadir, out)
    with open(os.path.join(out, "top-month.json")) as f:
        compare_ranking(json.load(f)["rows"], in_unit(expected_window(
            avgs, reporters, s, e), "month"), TOP,
            "top-month.json after its cached window was cut short")
    check(os.path.getsize(name) == size, "the damaged cache file is "
          "written again whole")
    before = png_mtimes(out)
    p = subprocess.run([A.aggregator_path(), "rebuild", "-d", datadir, "-n",
                        str(STEP)], capture_output=True, text=True)
    check(p.returncode == 0, "teiten-aggregator rebuild exits 0 %s" %
          p.stderr.strip()[-200:])
    with open(os.path.join(datadir, "generation")) as f:
        gen = f.read().strip()
    time.sleep(0.05)
    timed_site(datadir, out)
    after = png_mtimes(out)
    same = [n for n in after if before.get(n) == after[n]]
    check(gen == "1" and not same, "after a rebuild (generation %s) every "
          "PNG is drawn again (%d kept)" % (gen, len(same)))
    with open(os.path.join(out, "top-month.json")) as f:
        compare_ranking(json.load(f)["rows"], in_unit(expected_window(
            avgs, reporters, s, e), "month"), TOP,
            "top-month.json after the rebuild")


def main(tmp):
    graph_env(tmp)
    datadir, avgs, reporters = build_datadir(tmp)
    if FAILURES:
        return
    out = os.path.join(tmp, "site")
    before = time.time()
    t1 = timed_site(datadir, out)
    if FAILURES:
        return
    end = max(reporters) + STEP
    check_generated(out, end, before, time.time())
    check_spans(out, reporters, STEP, end, "index.html")
    check_legend(out)
    check_rankings(datadir, out, avgs, reporters)
    check_colours(out)
    check_cli(datadir, tmp)
    check_pages(out)
    browse(tmp, out)
    check_incremental(datadir, out, t1, max(reporters) + STEP)
    check_rebuild(datadir, out, avgs, reporters)
    check_fresh(tmp)


if __name__ == "__main__":
    if chromium_path() is None:
        print("FAIL: chromium is not installed; the site test needs a real "
              "browser (contrib/setup-debian.sh --test installs it)")
        sys.exit(1)
    T.run_in_tmp("teiten-site-", main)
