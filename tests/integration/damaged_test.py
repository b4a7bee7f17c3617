"""Readers survive damaged files (issue 8).  Two sensors replay generated
captures (26 hourly intervals) to a real aggregator; then the files that
teiten-graph reads are damaged one way at a time, each put back after:

(a) summary buckets, hourly (read by the day window) and daily (month
    window): truncated, emptied, magic flipped, interval count 0 (which
    divided every sum into inf and NaN) or 2^64 - 1, entry count 2^32 - 1,
    a sum NaN, inf, negative or 1e300, the sensor sum NaN, a key index out
    of range, keys out of order, the start not the file name's, bytes
    after the end.  `top --json` and `site` must exit 1 with one line on
    stderr naming the bucket, print nothing on stdout, and the site must
    leave every JSON file it has parseable;
(b) window caches (.cache/*.win) filled with garbage, truncated, or with a
    NaN mean: `site` warns naming each one, computes the windows again and
    exits 0, and its rankings equal the ones this test computes from the
    sensors' --print outputs; the next run warns no more;
(c) .state filled with garbage: a warning naming it, every graph drawn
    again; a truncated PNG with a current .state entry is drawn again;
(d) a key RRD truncated, emptied, garbage, or with its step 0, a data
    source count of 2^63, a row count 0 or a row pointer past its RRA
    (before: SIGFPE, SIGBUS, SIGSEGV or heap corruption inside librrd),
    and sensors.rrd truncated: `png` and `site` exit 1 (not a signal) with
    one line naming the file;
(e) counts near 2^64: two sensors each report 2^63 packets for tcp/5000
    in one interval, sent over the protocol by this test (frames built
    from scratch in agglib.py); `rrdtool fetch` reads the
    average 2^63, not the 0 that a wrapped 64-bit sum gave.

Every JSON output is parsed with json.loads rejecting NaN and Infinity.
The RRD header offsets are those of librrd's rrd_format.h on a 64-bit
host; elsewhere (d)'s header cases are skipped with a note.
"""

import collections
import json
import math
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check  # noqa: E402

STEP = 3600
DAY = 86400
T0 = 1699920000 + 2 * 3600
WINDOWS = {"day": (DAY, 3600), "week": (7 * DAY, 3600),
           "month": (30 * DAY, DAY), "quarter": (91 * DAY, DAY),
           "year": (365 * DAY, DAY)}
PROTO_BASE = {"tcp": 0, "udp": 65536, "icmp": 131072, "icmp6": 131328}
HEAD = struct.Struct("=4sIqqQdII")  # aggregator/bucket.h, native order
ENTRY = struct.Struct("=IId")
WC_HEAD = struct.Struct("=4sIqqqqQdd")  # graph/wincache.c
GRAPH_ENV = dict(os.environ)


def no_constant(name):
    raise ValueError("%s is not JSON" % name)


def strict_json(text):
    """The parsed document, or None if it is not strict JSON."""
    try:
        return json.loads(text, parse_constant=no_constant)
    except ValueError:
        return None


def graph(*args):
    p = subprocess.run([os.environ["TEITEN_GRAPH"]] + list(args),
                       capture_output=True, text=True, timeout=600,
                       env=GRAPH_ENV)
    return p


def one_line(p):
    lines = p.stderr.strip().splitlines()
    return lines[0] if len(lines) == 1 else repr(p.stderr.strip()[-300:])


def site_json_ok(out):
    """Every .json file under out parses strictly."""
    bad = []
    for name in sorted(os.listdir(out)) if os.path.isdir(out) else []:
        if name.endswith(".json"):
            with open(os.path.join(out, name)) as f:
                if strict_json(f.read()) is None:
                    bad.append(name)
    return bad


# --- data ----------------------------------------------------------------


def build_datadir(tmp):
    caps = {}
    for sid, seed in (("s1", 1), ("s2", 2)):
        caps[sid] = os.path.join(tmp, sid + ".pcap")
        A.gencap(caps[sid], 3000, DAY + 7200, T0, seed)
    return A.replay_datadir(tmp, caps, STEP)


def span(name, end):
    length, align = WINDOWS[name]
    e = end - end % align
    return e - length, e


def expected_top(avgs, reporters, start, end):
    """[(label, mean)] best first, equal means in key index order."""
    starts = [s for s in reporters if start <= s < end]
    sums = collections.defaultdict(float)
    for (s, p, k), v in avgs.items():
        if start <= s < end:
            sums["%s/%d" % (p, k)] += v
    means = {k: v / len(starts) for k, v in sums.items() if v > 0}

    def idx(label):
        p, k = label.split("/")
        return PROTO_BASE[p] + int(k)
    return [(k, means[k]) for k in sorted(means,
                                          key=lambda k: (-means[k], idx(k)))]


def same_ranking(got, want, n):
    want = want[:n]
    return got is not None and len(got) == len(want) and all(
        g["key"] == k and math.isclose(g["avg"], m, rel_tol=1e-9)
        for g, (k, m) in zip(got, want))


class Damage:
    """Replace a file's bytes for the duration of a with-block."""

    def __init__(self, path, change):
        self.path, self.change = path, change

    def __enter__(self):
        with open(self.path, "rb") as f:
            self.orig = f.read()
        with open(self.path, "wb") as f:
            f.write(self.change(bytearray(self.orig)))
        return self

    def __exit__(self, *exc):
        with open(self.path, "wb") as f:
            f.write(self.orig)


# --- (a) summary buckets ---------------------------------------------------


def head_set(field, value):
    names = ["magic", "version", "start", "last", "nintervals", "sensors",
             "step", "n"]

    def change(b):
        h = list(HEAD.unpack_from(b, 0))
        h[names.index(field)] = value(h) if callable(value) else value
        HEAD.pack_into(b, 0, *h)
        return b
    return change


def entry_set(i, idx=None, value=None):
    def change(b):
        off = HEAD.size + i * ENTRY.size
        k, pad, v = ENTRY.unpack_from(b, off)
        ENTRY.pack_into(b, off, k if idx is None else idx(k), pad,
                        v if value is None else value)
        return b
    return change


def swap_first_keys(b):
    a = ENTRY.unpack_from(b, HEAD.size)
    c = ENTRY.unpack_from(b, HEAD.size + ENTRY.size)
    ENTRY.pack_into(b, HEAD.size, c[0], c[1], a[2])
    ENTRY.pack_into(b, HEAD.size + ENTRY.size, a[0], a[1], c[2])
    return b


def flip(off, mask=0xff):
    def change(b):
        b[off] ^= mask
        return b
    return change


BUCKET_DAMAGE = [
    ("truncated to half", lambda b: b[:len(b) // 2]),
    ("truncated in the header", lambda b: b[:20]),
    ("emptied", lambda b: b""),
    ("magic flipped", flip(0)),
    ("version flipped", flip(4)),
    ("interval count 0", head_set("nintervals", 0)),
    ("interval count 2^64-1", head_set("nintervals", 2 ** 64 - 1)),
    ("entry count 2^32-1", head_set("n", 2 ** 32 - 1)),
    ("entry count one short", head_set("n", lambda h: h[7] - 1)),
    ("sensor sum NaN", head_set("sensors", float("nan"))),
    ("sensor sum -inf", head_set("sensors", float("-inf"))),
    ("a sum NaN", entry_set(0, value=float("nan"))),
    ("a sum inf", entry_set(1, value=float("inf"))),
    ("a sum 1e300", entry_set(0, value=1e300)),
    ("a sum's sign bit flipped", flip(HEAD.size + ENTRY.size - 1, 0x80)),
    ("a key index 2^32-1", entry_set(0, idx=lambda k: 2 ** 32 - 1)),
    ("keys out of order", swap_first_keys),
    ("start an hour off", head_set("start", lambda h: h[2] + 3600)),
    ("bytes after the end", lambda b: b + bytes(ENTRY.size)),
]


# The site reads buckets through the same code as top: it is run for these
# only, to keep the test short under a sanitizer on a loaded machine.
SITE_TOO = ("truncated to half", "interval count 0", "a sum NaN", "a sum inf",
            "sensor sum NaN")


def check_bucket(datadir, tmp, kind, path, window):
    for what, change in BUCKET_DAMAGE:
        out = os.path.join(tmp, "site-bucket")
        shutil.rmtree(out, ignore_errors=True)
        with Damage(path, change):
            p = graph("top", "-d", datadir, "--window", window, "--json",
                      "-n", "50")
            if what in SITE_TOO:
                q = graph("site", "-d", datadir, "-o", out)
        check(p.returncode == 1 and p.stdout == "" and
              path in one_line(p),
              "%s bucket, %s: top --window %s exits %d, stdout %r, stderr "
              "%s" % (kind, what, window, p.returncode, p.stdout[:60],
                      one_line(p)))
        if what not in SITE_TOO:
            continue
        bad = site_json_ok(out)
        check(q.returncode == 1 and path in one_line(q) and not bad,
              "%s bucket, %s: site exits %d, stderr %s%s" %
              (kind, what, q.returncode, one_line(q),
               ", bad JSON in %s" % bad if bad else ""))


def check_buckets(datadir, tmp, end):
    s, e = span("day", end)
    hour = os.path.join(datadir, "summary", "hour", "%d.sum" % (e - STEP))
    s, e = span("month", end)
    days = sorted(int(n[:-4]) for n in os.listdir(
        os.path.join(datadir, "summary", "day")) if n.endswith(".sum"))
    day = os.path.join(datadir, "summary", "day", "%d.sum" %
                       max(d for d in days if s <= d < e))
    for kind, path, window in (("hourly", hour, "day"),
                               ("daily", day, "month")):
        with open(path, "rb") as f:
            n = HEAD.unpack_from(f.read(HEAD.size))[7]
        if check(os.path.exists(path) and n >= 2,
                 "%s bucket %s exists, with %d keys" % (kind, path, n)):
            check_bucket(datadir, tmp, kind, path, window)


# --- (b), (c) caches and state -------------------------------------------


def check_site_rankings(out, avgs, reporters, end, what):
    bad = []
    for w in WINDOWS:
        with open(os.path.join(out, "top-%s.json" % w)) as f:
            doc = strict_json(f.read())
        s, e = span(w, end)
        # The site gives averages per sensor per minute (day) or hour.
        unit = 60 if w == "day" else 3600
        want = [(k, m * unit / STEP)
                for k, m in expected_top(avgs, reporters, s, e)]
        if doc is None or not same_ranking(doc.get("rows"), want, 20):
            bad.append(w)
    check(not bad, "%s: every window's top-*.json is strict JSON equal to "
          "the ranking computed from the sensors' --print outputs%s" %
          (what, " (not: %s)" % bad if bad else ""))


def nan_mean(b):
    n = WC_HEAD.unpack_from(b, 0)[1]
    if n > 0:
        struct.pack_into("=d", b, WC_HEAD.size + 4 * n, float("nan"))
    return b


CACHE_DAMAGE = [
    ("garbage", lambda b: bytearray(random.Random(len(b)).getrandbits(8)
                                    for _ in range(len(b)))),
    ("truncated", lambda b: b[:len(b) - 3]),
    ("a NaN mean", nan_mean),
    ("key count 2^32-1", lambda b: b[:4] + struct.pack("=I", 2 ** 32 - 1) +
     b[8:]),
    ("total 1e-300", lambda b: b[:WC_HEAD.size - 8] +
     struct.pack("=d", 1e-300) + b[WC_HEAD.size:]),
]


def check_caches(datadir, out, avgs, reporters, end):
    cdir = os.path.join(out, ".cache")
    for what, change in CACHE_DAMAGE:
        damaged = []
        for n in sorted(n for n in os.listdir(cdir) if n.endswith(".win")):
            path = os.path.join(cdir, n)
            with open(path, "rb") as f:
                b = f.read()
            bad = bytes(change(bytearray(b)))
            if bad != b:  # a NaN mean needs a window with keys
                damaged.append(path)
                with open(path, "wb") as f:
                    f.write(bad)
        p = graph("site", "-d", datadir, "-o", out)
        warned = [d for d in damaged if "window cache %s:" % d in p.stderr]
        check(p.returncode == 0 and damaged and warned == damaged and
              len(p.stderr.strip().splitlines()) == len(damaged),
              "cache files %s: site exits %d, one warning naming each of "
              "the %d damaged files (%d named: %r)" %
              (what, p.returncode, len(damaged), len(warned),
               p.stderr.strip().splitlines()[:1]))
        check_site_rankings(out, avgs, reporters, end,
                            "cache files %s" % what)
        q = graph("site", "-d", datadir, "-o", out)
        check(q.returncode == 0 and q.stderr == "",
              "cache files %s: the next run uses the caches made again, "
              "silently (%r)" % (what, q.stderr[:200]))


def check_state(datadir, out):
    state = os.path.join(out, ".state")
    png = os.path.join(out, "day-top1-5.png")
    with open(png, "rb") as f:
        good = f.read()
    with open(png, "wb") as f:
        f.write(good[:40])
    p = graph("site", "-d", datadir, "-o", out)
    with open(png, "rb") as f:
        again = f.read()
    check(p.returncode == 0 and again[:8] == good[:8] and
          len(again) > 40, "a truncated PNG whose .state entry is current "
          "is drawn again (exit %d, %d bytes)" % (p.returncode, len(again)))
    with open(state, "wb") as f:
        f.write(os.urandom(300))
    os.unlink(png)
    p = graph("site", "-d", datadir, "-o", out)
    check(p.returncode == 0 and state in one_line(p) and
          os.path.getsize(png) > 40,
          ".state filled with garbage: site exits %d, warns %s, draws the "
          "graphs again" % (p.returncode, one_line(p)))
    with open(state) as f:
        first = f.readline()
    check(first == "teiten-site-state 1\n", ".state is written again")


# --- (d) RRDs ----------------------------------------------------------------


def rrd_info(path):
    out = subprocess.run(["rrdtool", "info", path], check=True,
                         capture_output=True, text=True).stdout
    info = {}
    for line in out.splitlines():
        k, _, v = line.partition(" = ")
        info[k] = v.strip('"')
    return info


def u64_at(off, value):
    def change(b):
        struct.pack_into("=Q", b, off, value)
        return b
    return change


def rrd_damage(path):
    cases = [("truncated to 100 bytes", lambda b: b[:100]),
             ("emptied", lambda b: b""),
             ("all garbage", lambda b: bytearray(
                 random.Random(7).getrandbits(8) for _ in range(len(b))))]
    if struct.calcsize("L") != 8:
        print("NOTE: not a 64-bit host; RRD header cases skipped")
        return cases
    info = rrd_info(path)
    hsize = int(info["header_size"])
    nrra = sum(1 for k in info if k.endswith("].cf"))
    # rrd_format.h on LP64: stat_head 128 bytes (ds_cnt at 24, pdp_step
    # at 40), ds_def 120 each, rra_def 120 each (row_cnt at 24); the
    # header ends with one 8-byte row pointer per RRA.
    cases += [("truncated after the header", lambda b: b[:hsize + 8]),
              ("step 0", u64_at(40, 0)),
              ("data source count 2^63", u64_at(24, 2 ** 63)),
              ("RRA count 2^31", u64_at(32, 2 ** 31)),
              ("first RRA with 0 rows", u64_at(128 + 120 + 24, 0)),
              ("first RRA with 2^40 rows", u64_at(128 + 120 + 24, 2 ** 40)),
              ("row pointer past its RRA",
               u64_at(hsize - 8 * nrra, 2 ** 40))]
    return cases


def check_rrds(datadir, tmp, key):
    proto, k = key.split("/")
    path = os.path.join(datadir, "rrd", proto, k + ".rrd")
    png = os.path.join(tmp, "x.png")
    for what, change in rrd_damage(path):
        with Damage(path, change):
            p = graph("png", "-d", datadir, "--window", "day", "--key", key,
                      "-o", png)
        check(p.returncode == 1 and path in one_line(p),
              "%s RRD %s: png exits %d, stderr %s" % (key, what,
                                                      p.returncode,
                                                      one_line(p)))
    sensors = os.path.join(datadir, "rrd", "sensors.rrd")
    for target, what, change in (
            (path, "step 0", u64_at(40, 0)),
            (sensors, "truncated to 100 bytes", lambda b: b[:100])):
        with Damage(target, change):
            p = graph("png", "-d", datadir, "--window", "week", "--key",
                      key, "-o", png)
            out = os.path.join(tmp, "site-rrd")
            shutil.rmtree(out, ignore_errors=True)
            q = graph("site", "-d", datadir, "-o", out)
        left = [f for _, _, fs in os.walk(out) for f in fs
                if f.endswith(".tmp")]
        check(p.returncode == 1 and target in one_line(p),
              "%s %s: png exits %d, stderr %s" % (target, what, p.returncode,
                                                  one_line(p)))
        check(q.returncode == 1 and target in one_line(q) and not left,
              "%s %s: site exits %d, stderr %s, %d .tmp left" %
              (target, what, q.returncode, one_line(q), len(left)))


# --- (e) counts near 2^64 --------------------------------------------------


def check_big_counts(tmp):
    ids = ["big1", "big2"]
    keysfile, keys = A.make_keys(tmp, ids)
    psk = {sid: A.read_psk(keys[sid]) for sid in ids}
    datadir = os.path.join(tmp, "big")
    start = 1700000000 // 60 * 60
    half = 2 ** 63
    agg = A.Aggregator(tmp, keysfile, datadir, grace=5).start()
    try:
        for sid in ids:
            s, key = A.handshake(agg, sid, psk[sid])
            rec = A.encode_record(sid, start, 60, {("tcp", 5000): half,
                                                   ("tcp", 22): 3})
            s.sendall(A.frame(A.RECORD, 1, rec, key))
            s.settimeout(30)
            ftype, seq, payload = A.read_frame(s, key)
            check((ftype, seq) == (A.ACK, 1) and
                  A.ack_of(payload) == (0, start),
                  "%s: the record with 2^63 packets for tcp/5000 is "
                  "stored (type %d, ack %s)" % (sid, ftype,
                                                A.ack_of(payload)))
            s.close()
        agg.wait_final(start)
    finally:
        agg.stop(signal.SIGTERM)
    rows = A.rrd_fetch(os.path.join(datadir, "rrd", "tcp", "5000.rrd"),
                       start - 60, start + 60)
    got = rows.get(start + 60)
    # rrdtool fetch prints 11 significant digits.
    check(got is not None and math.isclose(got, float(half), rel_tol=1e-9),
          "two sensors' 2^63 packets for tcp/5000 read back as the average "
          "%r (expected %r, not 0)" % (got, float(half)))
    rows = A.rrd_fetch(os.path.join(datadir, "rrd", "tcp", "22.rrd"),
                       start - 60, start + 60)
    check(A.close(rows.get(start + 60), 3.0),
          "tcp/22 in the same records reads 3 (%r)" % rows.get(start + 60))


def main():
    for tool in ("rrdtool",):
        if shutil.which(tool) is None:
            print("FAIL: %s is not installed" % tool)
            return 1
    tmp = tempfile.mkdtemp(prefix="teiten-damaged-")
    GRAPH_ENV.update(T.graph_env(tmp))
    try:
        datadir, avgs, reporters = build_datadir(tmp)
        end = max(reporters) + STEP
        out = os.path.join(tmp, "site")
        p = graph("site", "-d", datadir, "-o", out)
        check(p.returncode == 0 and p.stderr == "",
              "undamaged: site exits %d %s" % (p.returncode, p.stderr[-200:]))
        check_site_rankings(out, avgs, reporters, end, "undamaged")
        p = graph("top", "-d", datadir, "--window", "day", "--json")
        top = strict_json(p.stdout)
        s, e = span("day", end)
        check(p.returncode == 0 and same_ranking(
            top, expected_top(avgs, reporters, s, e), 10),
            "undamaged: top --window day --json is the expected ranking")
        check_buckets(datadir, tmp, end)
        check_caches(datadir, out, avgs, reporters, end)
        check_state(datadir, out)
        check_rrds(datadir, tmp, top[0]["key"] if top else "tcp/23")
        check_big_counts(tmp)
    finally:
        if os.environ.get("TEITEN_KEEP_TMP"):
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
