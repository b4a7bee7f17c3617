"""Distinct sources and targets merged across sensors (issue 10,
doc/CONTRACTS.md contract 5): test sensors send version-2 records over
real TCP to a real aggregator, with sketches this test builds itself from
known address sets (IPv4 and 16-byte IPv6 items, hashed with BLAKE2b-64,
encoded sparse or dense as common/hll.c lays them out).  The RRDs, read
back with `rrdtool fetch`, must hold for every interval and key the exact
union the test computes (exact up to 100, within 2% above), and
sensors.rrd the union over all keys and how many sensors sent sketches.
`teiten-graph top --by sources --json` over the hour must give each
key's union over the whole window, ranked by it.  The same after a
backlog written many intervals together and after `teiten-aggregator
rebuild`, and through rrdcached.  Then: a version-1
and a version-2 sensor feeding one aggregator; a tree of the older
one-DS layout upgraded in place, its rows kept; a record whose sketch
key id differs is rejected; without sketch_key_file sources read
unknown."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
from teiten_testlib import FAILURES, check, graph_env, require  # noqa: E402

STEP = 60
T0 = 1700000040  # a multiple of 60
P = 14
SP = 26  # the sparse index bits of common/hll.h


# --- Sketches, written from common/hll.c's description ----------------

def item_hash(addr):
    """Any good 64-bit hash of the raw address bytes will do here: the
    aggregator only merges and counts."""
    return int.from_bytes(hashlib.blake2b(addr, digest_size=8).digest(),
                          "big")


def rank(x, none):
    """One more than the leading zeros of the 64-bit x, none if 0."""
    return 64 - x.bit_length() + 1 if x else none


def sparse_max(p):
    return (1 << p) // 8


def encode_sketch(addrs, p=P, dense=None):
    """hll_encode()'s bytes for the set addrs: sparse (varint count + 1,
    the first word, then gaps less one; word = 26-bit index << 6 | rank of
    the other 38 bits) while its words fit, else dense (0, then 2^p
    registers of 6 bits, little-endian)."""
    mask = (1 << 64) - 1
    hashes = [item_hash(a) for a in addrs]
    words = {}
    for h in hashes:
        idx = h >> (64 - SP)
        r = rank((h << SP) & mask, 64 - SP + 1)
        words[idx] = max(words.get(idx, 0), r)
    if dense is None:
        dense = len(words) > sparse_max(p)
    if not dense:
        ws = sorted(idx << 6 | r for idx, r in words.items())
        out = A.varint_put(len(ws) + 1)
        prev = None
        for w in ws:
            out += A.varint_put(w if prev is None else w - prev - 1)
            prev = w
        return out
    reg = [0] * (1 << p)
    for h in hashes:
        i = h >> (64 - p)
        reg[i] = max(reg[i], rank((h << p) & mask, 65 - p))
    packed = 0
    for i, r in enumerate(reg):
        packed |= r << (6 * i)
    return b"\x00" + packed.to_bytes(3 * (1 << p) // 4, "little")


def v4(i):
    return bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])


def v6(i):
    return bytes.fromhex("20010db8") + bytes(8) + i.to_bytes(4, "big")


def encode_v2(sensor, start, entries, keyid, dense=(), naddrs=0):
    """A version-2 record: entries {(proto, key): (packets, sources,
    targets)} with sets of address bytes; dense: the (proto, key) whose
    sketches are written dense."""
    sid = sensor.encode()
    per = {p: sorted((k, v) for (pp, k), v in entries.items() if pp == p)
           for p in A.PROTOS}
    totals = [sum(v[0] for _, v in per[p]) for p in A.PROTOS] + [0] * 12
    all_src = set().union(*[v[1] for v in entries.values()])
    all_dst = set().union(*[v[2] for v in entries.values()])
    out = bytes([2, len(sid)]) + sid + A.varint_put(A.zigzag(start))
    out += A.varint_put(STEP) + A.varint_put(naddrs)
    out += b"".join(A.varint_put(t) for t in totals)
    out += bytes([P]) + keyid
    out += encode_sketch(all_src) + encode_sketch(all_dst)
    for p in A.PROTOS:
        out += A.varint_put(len(per[p]))
        prev = -1
        for key, (n, src, dst) in per[p]:
            d = (p, key) in dense or None
            out += A.varint_put(key - prev - 1) + A.varint_put(n)
            out += encode_sketch(src, dense=d) + encode_sketch(dst, dense=d)
            prev = key
    return out


def sketch_key(tmp):
    """A fleet sketch key file and the id records carry."""
    key = os.urandom(32)
    path = os.path.join(tmp, "sketch.key")
    with open(path, "w") as f:
        f.write(key.hex() + "\n")
    os.chmod(path, 0o600)
    kid = hashlib.blake2b(b"teiten sketch id" + key, digest_size=16)
    return path, kid.digest()[:8]


# --- The fleet: three sensors with overlapping sets --------------------

NIV = 5
STARTS = [T0 + i * STEP for i in range(NIV)]


def fleet_entries(sid, i):
    """Sensor sid's entries of interval i: {(proto, key): (packets,
    sources, targets)}."""
    n = {"s1": 0, "s2": 1, "s3": 2}[sid]
    e = {}
    # Small overlapping sets: exact counts.
    e[("tcp", 22)] = (7 + n, {v4(x) for x in range(20 * n, 40 + 20 * n + i)},
                      {v4(1000 + x) for x in range(3 + n)})
    # IPv6 sources, all of s1's inside s2's.
    if sid != "s3":
        e[("udp", 53)] = (3, {v6(x) for x in range(10 * (1 + n) + i)},
                          {v6(5000 + x) for x in range(2)})
    # Large sets, past the sparse limit: dense, within 2%.
    e[("tcp", 445)] = (100 + n,
                       {v4(100000 + x) for x in
                        range(3000 * n, 3000 * n + 5000 + 100 * i)},
                       {v4(200000 + x) for x in range(1500 + 500 * n)})
    # One sensor's own key, some intervals only (0 sources otherwise).
    if sid == "s3" and i % 2 == 0:
        e[("icmp", 8)] = (1, {v6(90000 + i)}, {v4(300000)})
    # Mixed v4 and v6 sources, a few hundred: sparse, still near exact.
    e[("tcp", 23)] = (50, {v4(400000 + x) for x in range(150 * n, 150 * n
                                                          + 200)} |
                      {v6(400000 + x) for x in range(50)},
                      {v4(500000 + x) for x in range(120)})
    return e


DENSE = {"s2": {("tcp", 23)}}  # a dense sketch of a sparse-sized set


def expected(entries_by_sensor):
    """{(start, proto, key): (avg, sources, targets)} and {start: (sources
    over all keys)} from {(sensor, start): entries}; every sensor here
    reports every interval."""
    sums, src, dst, alls, nrep = {}, {}, {}, {}, {}
    for (sid, s), ents in entries_by_sensor.items():
        nrep[s] = nrep.get(s, 0) + 1
        for (p, k), (n, a, b) in ents.items():
            sums[(s, p, k)] = sums.get((s, p, k), 0) + n
            src.setdefault((s, p, k), set()).update(a)
            dst.setdefault((s, p, k), set()).update(b)
            alls.setdefault(s, set()).update(a)
    return ({k: (sums[k] / nrep[k[0]], len(src[k]), len(dst[k]))
             for k in sums}, {s: len(v) for s, v in alls.items()}, nrep)


def near(got, want):
    """Exact up to 100, within 2% above."""
    if got is None:
        return False
    if want <= 100:
        return got == want
    return abs(got - want) <= 0.02 * want


def check_tree(datadir, exp, alls, nrep, keys, what, daemon=None):
    bad = []
    for p, k in keys:
        path = os.path.join(datadir, "rrd", p, "%d.rrd" % k)
        got = fetch_ds(path, STARTS[0], STARTS[-1] + STEP, daemon)
        if list(got) != ["avg", "sources", "targets"]:
            bad.append("%s/%d: DS %s" % (p, k, list(got)))
            continue
        for s in STARTS:
            avg, ns, nt = exp.get((s, p, k), (0.0, 0, 0))
            row = {n: got[n].get(s + STEP) for n in got}
            if not (A.close(row["avg"], avg) and near(row["sources"], ns)
                    and near(row["targets"], nt)):
                bad.append("%s/%d at %d: %s, expected avg %r sources %d "
                           "targets %d" % (p, k, s, row, avg, ns, nt))
    got = fetch_ds(os.path.join(datadir, "rrd", "sensors.rrd"), STARTS[0],
                   STARTS[-1] + STEP, daemon)
    for s in STARTS:
        row = {n: got.get(n, {}).get(s + STEP) for n in
               ("reporting", "sources", "sketched")}
        if not (row["reporting"] == nrep[s] and near(row["sources"], alls[s])
                and row["sketched"] == nrep[s]):
            bad.append("sensors.rrd at %d: %s, expected %d reporting, %d "
                       "sources" % (s, row, nrep[s], alls[s]))
    for b in bad[:10]:
        print("    " + b)
    check(not bad, "%s: %d keys over %d intervals: sources and targets are "
          "the unions' sizes, sensors.rrd the union over all keys" %
          (what, len(keys), len(STARTS)))


def stop(agg, what):
    """Stops agg, which must exit 0 (a sanitizer's report would not)."""
    rc = agg.stop()
    if rc != 0:
        print(agg.text()[-3000:])
    check(rc == 0, "%s: the aggregator exits 0 (%s)" % (what, rc))


def fetch_ds(path, start, end, daemon=None):
    if daemon:
        subprocess.run(["rrdtool", "flushcached", "--daemon", daemon, path],
                       check=True, capture_output=True)
    return A.rrd_fetch_ds(path, start, end, STEP)


def send_fleet(agg, keys, keyid, sids=("s1", "s2", "s3")):
    """Interval by interval, every sensor's record: each is final once
    all have sent it.  Returns {(sensor, start): entries}."""
    clients = {s: A.Client(agg, s, A.read_psk(keys[s])) for s in sids}
    sent, acks = {}, []
    for i, s in enumerate(STARTS):
        for sid in sids:
            ents = fleet_entries(sid, i)
            sent[(sid, s)] = ents
            rec = encode_v2(sid, s, ents, keyid, DENSE.get(sid, ()))
            acks.append(clients[sid].send_raw(rec)[0])
    for c in clients.values():
        c.close()
    check(acks == [A.STORED] * len(acks), "every version-2 record is stored "
          "(%s)" % sorted(set(acks)))
    return sent


FLEET_KEYS = [("tcp", 22), ("tcp", 23), ("tcp", 445), ("udp", 53),
              ("icmp", 8)]


def fleet(tmp, keysfile, keys, skey, keyid, daemon=None):
    name = "rrdcached" if daemon else "librrd"
    datadir = os.path.join(tmp, "fleet-" + name)
    extra = ["--sketch-key-file", skey, "--grace", "5"]
    extra += ["--rrdcached", daemon] if daemon else []
    agg = A.Aggregator(tmp, keysfile, datadir, extra=extra).start()
    try:
        sent = send_fleet(agg, keys, keyid)
        agg.settle(STARTS[-1])
    finally:
        stop(agg, name)
    exp, alls, nrep = expected(sent)
    check_tree(datadir, exp, alls, nrep, FLEET_KEYS, name, daemon)
    check_top(datadir, sent, name)
    if not daemon:
        check_site(tmp, datadir, sent)
    return datadir, sent, exp, alls, nrep


def check_top(datadir, sent, what):
    """`teiten-graph top --by sources --json` over the hour that holds the
    intervals: each key's sources and targets are the unions over the
    whole window (never a sum of the intervals'), ranked by sources."""
    src, dst = {}, {}
    for ents in sent.values():
        for (p, k), (_, a, b) in ents.items():
            src.setdefault("%s/%d" % (p, k), set()).update(a)
            dst.setdefault("%s/%d" % (p, k), set()).update(b)
    hour = STARTS[0] - STARTS[0] % 3600
    p = subprocess.run([os.environ["TEITEN_GRAPH"], "top", "-d", datadir,
                        "--start", str(hour), "--end", str(hour + 3600),
                        "--by", "sources", "--json"], capture_output=True,
                       text=True)
    if p.returncode != 0:
        check(False, "%s: top --by sources exits 0: %s" % (what, p.stderr))
        return
    rows = json.loads(p.stdout)  # one object per key, by rank
    got = {r["key"]: (r["sources"], r["targets"]) for r in rows}
    bad = ["%s: %s, expected %d %d" % (k, got.get(k), len(src[k]),
                                       len(dst[k]))
           for k in src if k not in got or not near(got[k][0], len(src[k]))
           or not near(got[k][1], len(dst[k]))]
    order = [r["key"] for r in rows]
    want = sorted(src, key=lambda k: -len(src[k]))
    for b in bad:
        print("    " + b)
    check(not bad and order == want, "%s: top --by sources --json over the "
          "hour: the unions over the window, ranked by them (%s)" %
          (what, order))


def unions(sent):
    src, dst = {}, {}
    for ents in sent.values():
        for (p, k), (_, a, b) in ents.items():
            src.setdefault("%s/%d" % (p, k), set()).update(a)
            dst.setdefault("%s/%d" % (p, k), set()).update(b)
    return src, dst


def check_site(tmp, datadir, sent):
    """The site's day table export carries each key's unions over the
    window, and each key page a graph of its sources and targets."""
    src, dst = unions(sent)
    out = os.path.join(tmp, "site")
    end = STARTS[0] - STARTS[0] % 3600 + 3600
    # librrd's drawing leaks by design: graph_env suppresses those only.
    p = subprocess.run([os.environ["TEITEN_GRAPH"], "site", "-d", datadir,
                        "-o", out, "--end", str(end)], capture_output=True,
                       text=True, env=graph_env(tmp))
    if p.returncode != 0:
        check(False, "site exits 0: %s" % p.stderr)
        return
    with open(os.path.join(out, "top-day.json")) as f:
        rows = json.load(f)["rows"]
    got = {r["key"]: (r["sources"], r["targets"]) for r in rows}
    bad = ["%s: %s, expected %d %d" % (k, got.get(k), len(src[k]),
                                       len(dst[k]))
           for k in src if k not in got or not near(got[k][0], len(src[k]))
           or not near(got[k][1], len(dst[k]))]
    with open(os.path.join(out, "top-day.csv")) as f:
        head = f.readline().strip().split(",")
    pngs = [os.path.join(out, "key", "%s-day-sources.png" %
                         k.replace("/", "-")) for k in src]
    missing = [x for x in pngs
               if not os.path.exists(x) or
               open(x, "rb").read(8) != b"\x89PNG\r\n\x1a\n"]
    for b in bad + missing:
        print("    " + b)
    check(not bad and head[5:7] == ["sources", "targets"] and not missing,
          "site: top-day.json's sources and targets are the unions over the "
          "day window, top-day.csv has the columns, every key page its "
          "sources graph")


def backlog_and_rebuild(tmp, keysfile, skey, live, sent, exp, alls, nrep):
    """The archive alone, written as a backlog (updates held and written
    many intervals together), then by `rebuild`."""
    datadir = os.path.join(tmp, "backlog")
    os.mkdir(datadir)
    shutil.copytree(os.path.join(live, "archive"),
                    os.path.join(datadir, "archive"))
    shutil.copy(os.path.join(live, "step"), datadir)
    agg = A.Aggregator(tmp, keysfile, datadir,
                       extra=["--sketch-key-file", skey, "-v"]).start()
    try:
        agg.wait_final(STARTS[-1])
    finally:
        stop(agg, "backlog")
    check(" written together" in agg.text(),
          "backlog: intervals written together (the log says so)")
    check_tree(datadir, exp, alls, nrep, FLEET_KEYS, "backlog")
    check_top(datadir, sent, "backlog")
    p = subprocess.run([A.aggregator_path(), "rebuild", "-d", datadir,
                        "--sketch-key-file", skey], capture_output=True,
                       text=True)
    check(p.returncode == 0, "rebuild exits 0 %s" % p.stderr.strip()[-300:])
    check_tree(datadir, exp, alls, nrep, FLEET_KEYS, "rebuild")
    check_top(datadir, sent, "rebuild")


def mixed(tmp, keysfile, keys, skey, keyid):
    """s4 sends version 1, s5 version 2: packets averaged over both,
    sources from s5 alone, a key of s4's alone unknown."""
    datadir = os.path.join(tmp, "mixed")
    agg = A.Aggregator(tmp, keysfile, datadir,
                       extra=["--sketch-key-file", skey]).start()
    c4 = A.Client(agg, "s4", A.read_psk(keys["s4"]))
    c5 = A.Client(agg, "s5", A.read_psk(keys["s5"]))
    acks = []
    try:
        for i, s in enumerate(STARTS[:3]):
            acks.append(c4.send(s, STEP, {("tcp", 22): 10 + i,
                                          ("tcp", 3389): 4})[0])
            ents = {("tcp", 22): (2, {v4(x) for x in range(5 + i)},
                                  {v4(7)}),
                    ("udp", 161): (1, {v6(1), v6(2)}, {v4(8)})}
            acks.append(c5.send_raw(encode_v2("s5", s, ents, keyid))[0])
        c4.close()
        c5.close()
        agg.settle(STARTS[2])
    finally:
        stop(agg, "mixed")
    check(acks == [A.STORED] * 6, "version 1 and 2 records both stored")
    bad = []
    for i, s in enumerate(STARTS[:3]):
        want = {("tcp", 22): ((12 + i) / 2, 5 + i, 1),
                ("tcp", 3389): (2, None, None),
                ("udp", 161): (0.5, 2, 1)}
        for (p, k), (avg, ns, nt) in want.items():
            got = A.rrd_fetch_ds(os.path.join(datadir, "rrd", p,
                                              "%d.rrd" % k), s, s + STEP)
            row = {n: got[n].get(s + STEP) for n in got}
            if not (A.close(row["avg"], avg) and row["sources"] == ns and
                    row["targets"] == nt):
                bad.append("%s/%d at %d: %s, expected %r %r %r" %
                           (p, k, s, row, avg, ns, nt))
        got = A.rrd_fetch_ds(os.path.join(datadir, "rrd", "sensors.rrd"), s,
                             s + STEP)
        row = {n: got[n].get(s + STEP) for n in got}
        if row != {"reporting": 2, "sources": 7 + i, "sketched": 1}:
            bad.append("sensors.rrd at %d: %s" % (s, row))
    for b in bad:
        print("    " + b)
    check(not bad, "v1 and v2 sensors: counts averaged over both, sources "
          "from the v2 one only (unknown for a key only v1 sent), "
          "sketched 1")


def old_layout(datadir, start, rows):
    """A tree as the one-DS layout of contract 5 made it: rows
    {(proto, key): [values of intervals from start]}, and sensors.rrd."""
    def create(path, ds):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.run(["rrdtool", "create", path, "--step", str(STEP),
                        "--start", str(start), "DS:%s:GAUGE:%d:0:U" %
                        (ds, 2 * STEP), "RRA:AVERAGE:0.5:1:2880",
                        "RRA:AVERAGE:0.5:60:2400",
                        "RRA:AVERAGE:0.5:1440:1827"], check=True)
    for (p, k), vals in rows.items():
        path = os.path.join(datadir, "rrd", p, "%d.rrd" % k)
        create(path, "avg")
        subprocess.run(["rrdtool", "update", path] +
                       ["%d:%r" % (start + (j + 1) * STEP, v)
                        for j, v in enumerate(vals)], check=True)
    path = os.path.join(datadir, "rrd", "sensors.rrd")
    create(path, "reporting")
    n = max(len(v) for v in rows.values())
    subprocess.run(["rrdtool", "update", path] +
                   ["%d:1" % (start + (j + 1) * STEP) for j in range(n)],
                   check=True)


def upgrade(tmp, keysfile, keys, skey, keyid, daemon=None):
    """Old files get "sources" and "targets" (sensors.rrd "sources" and
    "sketched") the first time they are written, their rows kept."""
    name = "upgrade" + ("-rrdcached" if daemon else "")
    datadir = os.path.join(tmp, name)
    old0 = T0 - 4 * STEP
    old = {("tcp", 22): [1.5, 2.0, 0.0, 4.25], ("udp", 53): [3.0, 0, 1, 0]}
    old_layout(datadir, old0, old)
    extra = ["--sketch-key-file", skey] + (["--rrdcached", daemon]
                                           if daemon else [])
    agg = A.Aggregator(tmp, keysfile, datadir, extra=extra).start()
    try:
        c = A.Client(agg, "s1", A.read_psk(keys["s1"]))
        for i, s in enumerate(STARTS[:2]):
            ents = {("tcp", 22): (4, {v4(x) for x in range(3 + i)},
                                  {v4(9)})}
            c.send_raw(encode_v2("s1", s, ents, keyid))
        c.close()
        agg.settle(STARTS[1])
    finally:
        stop(agg, name)
    bad = []
    for (p, k), vals in old.items():
        path = os.path.join(datadir, "rrd", p, "%d.rrd" % k)
        got = fetch_ds(path, old0, STARTS[1] + STEP, daemon)
        if list(got) != ["avg", "sources", "targets"]:
            bad.append("%s/%d: DS %s" % (p, k, list(got)))
            continue
        for j, v in enumerate(vals):
            t = old0 + (j + 1) * STEP
            row = {n: got[n].get(t) for n in got}
            if row != {"avg": v, "sources": None, "targets": None}:
                bad.append("%s/%d old row %d: %s, had %r" % (p, k, t, row,
                                                             v))
        for i, s in enumerate(STARTS[:2]):
            row = {n: got[n].get(s + STEP) for n in got}
            want = ({"avg": 4.0, "sources": 3 + i, "targets": 1}
                    if k == 22 else {"avg": 0, "sources": 0, "targets": 0})
            if row != want:
                bad.append("%s/%d at %d: %s, expected %s" % (p, k, s, row,
                                                             want))
    got = fetch_ds(os.path.join(datadir, "rrd", "sensors.rrd"), old0,
                   STARTS[1] + STEP, daemon)
    if list(got) != ["reporting", "sources", "sketched"]:
        bad.append("sensors.rrd: DS %s" % list(got))
    else:
        for j in range(4):
            t = old0 + (j + 1) * STEP
            if got["reporting"].get(t) != 1 or got["sources"].get(t):
                bad.append("sensors.rrd old row %d: %s" %
                           (t, {n: got[n].get(t) for n in got}))
        for i, s in enumerate(STARTS[:2]):
            row = {n: got[n].get(s + STEP) for n in got}
            if row != {"reporting": 1, "sources": 3 + i, "sketched": 1}:
                bad.append("sensors.rrd at %d: %s" % (s, row))
    for b in bad[:10]:
        print("    " + b)
    check(not bad, "%s: one-DS files upgraded in place, old rows intact, "
          "new rows with sources and targets" % name)
    check("DS sources, targets added" in agg.text(),
          "%s: the log names the DS added" % name)


def rejected(tmp, keysfile, keys, skey, keyid):
    """Another key id: ACK status 2, logged with the reason, counted as a
    rejected fault; the same record is stored by an aggregator without a
    sketch key, whose sources read unknown."""
    other = bytes(b ^ 0xFF for b in keyid)
    ents = {("tcp", 80): (3, {v4(1), v4(2)}, {v4(3)})}
    datadir = os.path.join(tmp, "rejected")
    agg = A.Aggregator(tmp, keysfile, datadir,
                       extra=["--sketch-key-file", skey]).start()
    t0 = int(time.time())
    try:
        c = A.Client(agg, "s1", A.read_psk(keys["s1"]))
        st = c.send_raw(encode_v2("s1", STARTS[0], ents, other))[0]
        c.close()
    finally:
        stop(agg, "rejected")
    check(st == A.REJECTED, "a record of another sketch key id gets ACK "
          "status 2 (got %d)" % st)
    check("sketch key differs from the aggregator's" in agg.text(),
          "the log gives the reason")
    faults = A.fault_totals(datadir, "s1", t0 - 2 * STEP,
                            int(time.time()) + 2 * STEP)
    check(faults.get("rejected") == 1, "counted as a rejected fault (%s)" %
          faults)

    datadir = os.path.join(tmp, "nokey")
    agg = A.Aggregator(tmp, keysfile, datadir).start()
    try:
        c = A.Client(agg, "s1", A.read_psk(keys["s1"]))
        st = c.send_raw(encode_v2("s1", STARTS[0], ents, other))[0]
        c.close()
        agg.settle(STARTS[0], timeout=30)
    finally:
        stop(agg, "no key")
    got = A.rrd_fetch_ds(os.path.join(datadir, "rrd", "tcp", "80.rrd"),
                         STARTS[0], STARTS[0] + STEP)
    row = {n: got[n].get(STARTS[0] + STEP) for n in got}
    check(st == A.STORED and row == {"avg": 3, "sources": None,
                                     "targets": None},
          "without sketch_key_file: stored, counts kept, sources unknown "
          "(%s)" % row)
    check(agg.text().count("no sketch_key_file") == 1,
          "without sketch_key_file: said once at start")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        keysfile, keys = A.make_keys(tmp, ["s1", "s2", "s3", "s4", "s5"])
        skey, keyid = sketch_key(tmp)
        live, sent, exp, alls, nrep = fleet(tmp, keysfile, keys, skey,
                                            keyid)
        check(any(v[1] > 100 for v in exp.values()) and
              any(v[1] <= 100 for v in exp.values()),
              "the fleet has sets both up to 100 and larger")
        backlog_and_rebuild(tmp, keysfile, skey, live, sent, exp, alls,
                            nrep)
        mixed(tmp, keysfile, keys, skey, keyid)
        upgrade(tmp, keysfile, keys, skey, keyid)
        rejected(tmp, keysfile, keys, skey, keyid)

        sock = os.path.join(tmp, "rrdcached.sock")
        rrdc = subprocess.Popen(
            ["rrdcached", "-g", "-l", "unix:" + sock, "-p",
             os.path.join(tmp, "rrdcached.pid"), "-j", tmp, "-w", "3600",
             "-f", "7200"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _ in range(100):
                if os.path.exists(sock) or rrdc.poll() is not None:
                    break
                time.sleep(0.05)
            check(os.path.exists(sock), "rrdcached started")
            fleet(tmp, keysfile, keys, skey, keyid, "unix:" + sock)
            upgrade(tmp, keysfile, keys, skey, keyid, "unix:" + sock)
        finally:
            rrdc.terminate()
            rrdc.wait()
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    require("rrdtool")
    sys.exit(main())
