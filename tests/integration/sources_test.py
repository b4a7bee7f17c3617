"""teiten-sensor -r FILE --print --sources: the estimated distinct sources
and targets of every (interval, key) against exact counts that this test
computes from tshark's dissection (outer IP header, no reassembly, the keys
of doc/CONTRACTS.md contract 1, as oracle_test.py maps them): exact up to
100 distinct addresses, within 2% above.  For the shared captures, a
teiten-gencap capture, and captures written here with known sets (IPv4 and
IPv6, 10,000 sources on one key, sources that recur across keys and
intervals).  The fleet's key from teiten-aggregator keygen
--fleet-sketch, in the config file or on the command line, and -t's
check of it.

Then memory, on captures streamed to the sensor's standard input: 10,000
distinct sources on each of 2,000 keys in one interval, and 1,000,000 on
one key.  The sensor's peak RSS must stay under the bound that
teiten-sensor(8) states (SOURCES AND TARGETS), with the default budget and
with a small one that makes it fold; the estimates stay within 2% at the
default budget."""

import collections
import glob
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402

INTERVAL = 60
EXACT_UP_TO = 100
REL_ERROR = 0.02
T0 = 1700000040  # a minute boundary

TIME = "/usr/bin/time"  # GNU time: -f %M is the peak RSS in KiB
MIB = 1 << 20
# teiten-sensor(8): one interval's sketches take at most B, the larger of
# --sketch-memory and 33 MiB, and all sketches at most 3 B, beside the
# fixed counters and the program.
SKETCH_FLOOR = 33 * MIB
FIXED = 16 * MIB


def bound(budget):
    return 3 * max(budget, SKETCH_FLOOR) + FIXED


def within(estimate, true):
    if true <= EXACT_UP_TO:
        return estimate == true
    return abs(estimate - true) <= REL_ERROR * true


def parse_sources(text):
    """{(start, proto, key): (packets, sources, targets)} from --print
    --sources, checking contract 3's order and six columns."""
    out, prev = {}, None
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) != 6:
            raise AssertionError("not six columns: %r" % line)
        start, proto, key = int(cols[0]), cols[1], int(cols[2])
        order = (start, T.PROTO_ORDER[proto], key)
        if prev is not None and order <= prev:
            raise AssertionError("line out of order: %r" % line)
        prev = order
        out[(start, proto, key)] = tuple(int(c) for c in cols[3:])
    return out


def expected_sources(path, interval):
    """{(start, proto, key): (packets, sources, targets)} from tshark."""
    frames = T.tshark_frames(path)
    secs = T.pcap_seconds(path)
    sets = collections.defaultdict(lambda: [0, set(), set()])
    for i, fr in enumerate(frames):
        if fr["proto"] is None:
            continue
        sec = secs[i] if secs is not None else int(fr["epoch"].split(".")[0])
        s = sets[(sec // interval * interval, fr["proto"], fr["key"])]
        s[0] += 1
        s[1].add(fr["src"])
        s[2].add(fr["dst"])
    return {k: (v[0], len(v[1]), len(v[2])) for k, v in sets.items()}


def compare(name, path, failures, interval=INTERVAL, args=()):
    expected = expected_sources(path, interval)
    run = T.run_sensor(["-r", path, "-n", str(interval), "--print",
                        "--sources"] + list(args))
    actual = parse_sources(run.stdout)
    bad = []
    for k in sorted(set(expected) | set(actual)):
        e, a = expected.get(k), actual.get(k)
        if e is None or a is None or e[0] != a[0] or \
                not within(a[1], e[1]) or not within(a[2], e[2]):
            bad.append("  %s: tshark (packets, sources, targets) %s, "
                       "sensor %s" % (k, e, a))
    if bad:
        failures.append("%s:\n%s" % (name, "\n".join(bad[:20])))
    exact = sum(1 for e in expected.values()
                for n in e[1:] if n <= EXACT_UP_TO)
    print("%s: %d (interval, key) compared, %d exact sets, largest %d" %
          (name, len(expected), exact,
           max([max(e[1:]) for e in expected.values()] or [0])))
    return expected


# Captures written here: raw IPv4/IPv6 (LINKTYPE_RAW), microseconds.
def pcap_header():
    return struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101)


def ip4(src, dst, proto, l4):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64,
                       proto, 0, src, dst) + l4


def ip6(src, dst, nh, l4):
    return struct.pack(">IHBB16s16s", 6 << 28, len(l4), nh, 64, src,
                       dst) + l4


def tcp_syn(port):
    return struct.pack(">HHIIBBHHH", 40000, port, 1, 0, 5 << 4, 0x02,
                       1024, 0, 0)


def udp(port):
    return struct.pack(">HHHH", 40000, port, 8, 0)


def icmp_echo(ty):
    return struct.pack(">BBHI", ty, 0, 0, 0)


def record(sec, pkt):
    return struct.pack("<IIII", sec, 0, len(pkt), len(pkt)) + pkt


def a4(n):
    return struct.pack(">I", n)


def a6(n):
    return bytes.fromhex("20010db8000000000000") + struct.pack(">HI", 0x5c,
                                                               n)


def known_capture(path):
    """Known sets, checked against tshark like any capture: sizes around
    the exact limit, IPv6, addresses that recur across keys and
    intervals, and 10,000 sources on one key."""
    recs = []
    # tcp/445: 150 sources over 40 targets, each source three times.
    for r in range(3):
        for i in range(150):
            recs.append(record(T0 + r, ip4(a4(0x0a000000 + i),
                                           a4(0xcb007100 + i % 40), 6,
                                           tcp_syn(445))))
    # udp/53: exactly 100 sources, 30 of them also on tcp/445.
    for i in range(100):
        recs.append(record(T0 + 5, ip4(a4(0x0a000000 + 120 + i),
                                       a4(0xcb007101), 17, udp(53))))
    # icmp/8 from one source to 101 targets.
    for i in range(101):
        recs.append(record(T0 + 6, ip4(a4(0x0a0000ff), a4(0xcb007100 + i),
                                       1, icmp_echo(8))))
    # IPv6: tcp/22 from 120 sources, udp/123 from 99, icmp6/128 from 250.
    for i in range(120):
        recs.append(record(T0 + 7, ip6(a6(i), a6(0x10000), 6,
                                       tcp_syn(22))))
    for i in range(99):
        recs.append(record(T0 + 8, ip6(a6(i * 7), a6(0x10000 + i % 3), 17,
                                       udp(123))))
    for i in range(250):
        recs.append(record(T0 + 9, ip6(a6(i), a6(0x20000 + i), 58,
                                       icmp_echo(128))))
    # tcp/23: 10,000 sources, each twice.
    for r in range(2):
        for i in range(10000):
            recs.append(record(T0 + 10 + r,
                               ip4(a4(0x0b000000 + i * 13),
                                   a4(0xcb007100 + i % 256), 6,
                                   tcp_syn(23))))
    # The next interval: the same 150 sources on tcp/445 again, and 101
    # IPv4 and IPv6 sources together on udp/161.
    for i in range(150):
        recs.append(record(T0 + 70, ip4(a4(0x0a000000 + i),
                                        a4(0xcb007100), 6, tcp_syn(445))))
    for i in range(101):
        if i % 2:
            recs.append(record(T0 + 71, ip4(a4(0x0c000000 + i),
                                            a4(0xcb007100), 17, udp(161))))
        else:
            recs.append(record(T0 + 71, ip6(a6(i), a6(0x10000), 17,
                                            udp(161))))
    with open(path, "wb") as f:
        f.write(pcap_header() + b"".join(recs))
    return {(T0, "tcp", 445): (450, 150, 40), (T0, "udp", 53): (100, 100, 1),
            (T0, "icmp", 8): (101, 1, 101), (T0, "tcp", 22): (120, 120, 1),
            (T0, "udp", 123): (99, 99, 3), (T0, "icmp6", 128): (250, 250, 250),
            (T0, "tcp", 23): (20000, 10000, 256),
            (T0 + 60, "tcp", 445): (150, 150, 1),
            (T0 + 60, "udp", 161): (101, 101, 2)}


# The memory captures: every packet is 28 bytes of IPv4 and UDP from
# 10.0.0.0 + i to one of 16 targets, built as columns of bytes.
PKT = 28
REC = 16 + PKT


def column(nsrc, byte):
    """The byte-th byte (0 = lowest) of source index i, for i < nsrc."""
    run = 1 << (8 * byte)
    period = b"".join(bytes([v]) * run for v in range(256))
    return (period * (nsrc // len(period) + 1))[:nsrc]


def source_block(nsrc):
    """nsrc records from 10.0.0.0 + i (i < 2^24) to udp/0, one interval."""
    blk = bytearray(record(T0, ip4(a4(0x0a000000), a4(0xcb007100), 17,
                                   udp(0))) * nsrc)
    for b in range(3):
        blk[16 + 15 - b::REC] = column(nsrc, b)
    blk[16 + 19::REC] = bytes(i % 16 for i in range(16)) * (nsrc // 16) + \
        bytes(i % 16 for i in range(nsrc % 16))
    return blk


def stream(f, nkeys, nsrc):
    """nkeys keys (udp ports 1..nkeys), nsrc sources each."""
    blk = source_block(nsrc)
    f.write(pcap_header())
    for k in range(1, nkeys + 1):
        blk[16 + 22::REC] = bytes([k >> 8]) * nsrc
        blk[16 + 23::REC] = bytes([k & 0xff]) * nsrc
        f.write(blk)


def memory_run(name, nkeys, nsrc, budget, failures, check_estimates):
    """Stream the capture to the sensor, its peak RSS measured by GNU
    time(1).  Not by wait4(2) here: a child's maximum RSS counts this
    process's own, which the child had between fork and exec."""
    args = ["-r", "-", "-n", str(INTERVAL), "--print", "--sources"]
    if budget is not None:
        args += ["--sketch-memory", str(budget)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as rss_file:
        p = subprocess.Popen([TIME, "-o", rss_file.name, "-f", "%M",
                              T.sensor_path()] + args,
                             stdin=subprocess.PIPE, stdout=out, stderr=err)
        try:
            stream(p.stdin, nkeys, nsrc)
        finally:
            p.stdin.close()
        p.wait()
        out.seek(0)
        err.seek(0)
        text, log = out.read().decode(), err.read().decode()
        rss_text = rss_file.read().split()
    # %M is in KiB.
    rss = int(rss_text[-1]) * 1024 if rss_text else 0
    limit = bound(budget if budget is not None else 128 * MIB)
    folded = [ln for ln in log.splitlines() if "precision lowered" in ln]
    print("%s: peak RSS %.1f MiB, bound %.0f MiB%s" %
          (name, rss / MIB, limit / MIB,
           "; " + folded[0].split(": ", 1)[-1] if folded else ""))
    if p.returncode != 0:
        failures.append("%s: sensor exited %d: %s" % (name, p.returncode,
                                                      log[-500:]))
        return
    if rss == 0:
        failures.append("%s: time(1) gave no peak RSS" % name)
    if rss >= limit:
        failures.append("%s: peak RSS %d bytes, over the bound %d" %
                        (name, rss, limit))
    got = parse_sources(text)
    if len(got) != nkeys:
        failures.append("%s: %d keys printed, %d sent" % (name, len(got),
                                                           nkeys))
    worst = 0.0
    for k, (n, s, d) in got.items():
        if n != nsrc or d != min(16, nsrc):
            failures.append("%s: %s: packets %d targets %d" % (name, k, n,
                                                                d))
            break
        worst = max(worst, abs(s - nsrc) / nsrc)
    print("%s: worst source estimate %.2f%% off" % (name, 100 * worst))
    if check_estimates and worst > REL_ERROR:
        failures.append("%s: a source estimate %.2f%% off" %
                        (name, 100 * worst))
    if budget is not None and not folded:
        failures.append("%s: the budget was passed but nothing logged" %
                        name)


def check_config(tmp, known, failures):
    """teiten-aggregator keygen --fleet-sketch makes the key, mode 600,
    that sketch_key_file in [sensor] and --sketch-key-file take; -t reads it; the
    key changes the hashes, never the printed counts of small sets."""
    key = os.path.join(tmp, "fleet.key")
    p = subprocess.run([os.environ["TEITEN_AGGREGATOR"], "keygen",
                        "--fleet-sketch", "-o", key], capture_output=True,
                       text=True)
    if p.returncode != 0 or p.stdout != "" or \
            os.stat(key).st_mode & 0o777 != 0o600:
        failures.append("keygen --fleet-sketch: exit %d, stdout %r" %
                        (p.returncode, p.stdout))
        return
    conf = os.path.join(tmp, "teiten.conf")
    with open(conf, "w") as f:
        f.write("[sensor]\nsketch_key_file = %s\nsketch_memory = %d\n" %
                (key, 64 * MIB))
    base = T.run_sensor(["-r", known, "--print", "--sources"]).stdout
    with_key = T.run_sensor(["-c", conf, "-r", known, "--print",
                             "--sources"]).stdout
    small = [ln for ln in base.splitlines()
             if max(int(c) for c in ln.split("\t")[4:]) <= EXACT_UP_TO]
    if not small or not all(ln in with_key.splitlines() for ln in small):
        failures.append("the fleet's key changed the exact counts")
    t = T.run_sensor(["-t", "-c", conf, "-r", known, "--print"],
                     check=False)
    if t.returncode != 0:
        failures.append("-t with sketch_key_file: %s" % t.stderr)
    os.chmod(key, 0o644)
    t = T.run_sensor(["-t", "-c", conf, "-r", known, "--print"],
                     check=False)
    if t.returncode == 0 or "chmod 600" not in t.stderr:
        failures.append("-t accepts a sketch key others can read: %r" %
                        t.stderr)
    for args, words in ((["--sources"], "--print"),
                        (["--print", "--sketch-memory", "1000"],
                         "1048576")):
        t = T.run_sensor(["-r", known] + args, check=False)
        if t.returncode == 0 or words not in t.stderr:
            failures.append("%s: %r" % (" ".join(args), t.stderr))


def check_records(tmp, known, key, filekey, failures):
    """With the fleet's key the records a sensor sends are version 2,
    named by the key's id: each entry's sketches estimate what --print
    --sources printed, and the interval's all_src and all_dst are the
    union of its keys' sets as tshark gives them.  Without the key they
    are version 1, and the same aggregator takes both."""
    keysfile, keys = A.make_keys(tmp, ["v2", "v1"])
    datadir = os.path.join(tmp, "data")
    agg = A.Aggregator(tmp, keysfile, datadir,
                       extra=["--sketch-key-file", key]).start()
    try:
        for sid, extra in (("v2", ["--sketch-key-file", key]), ("v1", [])):
            p = subprocess.run([T.sensor_path(), "-r", known, "-a",
                                agg.addr, "-s", sid, "-K", keys[sid],
                                "--spool", os.path.join(tmp, "spool-" + sid)]
                               + extra, capture_output=True, text=True,
                               timeout=120)
            if p.returncode != 0:
                failures.append("sensor %s exited %d: %s" %
                                (sid, p.returncode, p.stderr[-500:]))
    finally:
        agg.stop()
    recs = [A.decode_record(raw) for _, raw in A.read_archive(datadir)[0]]
    printed = parse_sources(T.run_sensor(["-r", known, "--print",
                                          "--sources", "--sketch-key-file",
                                          key]).stdout)
    union = collections.defaultdict(lambda: (set(), set()))
    secs = T.pcap_seconds(known)
    for i, fr in enumerate(T.tshark_frames(known)):
        if fr["proto"] is not None:
            u = union[secs[i] // INTERVAL * INTERVAL]
            u[0].add(fr["src"])
            u[1].add(fr["dst"])
    kid = hashlib.blake2b(b"teiten sketch id" + filekey,
                          digest_size=16).digest()[:8]
    seen = collections.Counter()
    for r in recs:
        seen[(r["sensor"], r["version"])] += 1
        if r["version"] != 2:
            continue
        if r["keyid"] != kid or r["sketch_p"] != 14:
            failures.append("record %d: key id %s, precision %d" %
                            (r["start"], r["keyid"].hex(), r["sketch_p"]))
        for (proto, k), (src, dst) in r["sketches"].items():
            est = (round(A.sketch_estimate(src, 14)),
                   round(A.sketch_estimate(dst, 14)))
            want = printed[(r["start"], proto, k)][1:]
            if est != want:
                failures.append("record %d %s/%d: sketches estimate %s, "
                                "--print --sources %s" %
                                (r["start"], proto, k, est, want))
        for name, sk, true in (("all_src", r["all_src"],
                                len(union[r["start"]][0])),
                               ("all_dst", r["all_dst"],
                                len(union[r["start"]][1]))):
            est = round(A.sketch_estimate(sk, 14))
            if not within(est, true):
                failures.append("record %d: %s estimates %d, tshark's "
                                "union %d" % (r["start"], name, est, true))
    want = {("v2", 2): len(union), ("v1", 1): len(union)}
    print("records stored: %s; unions of the intervals %s" %
          (dict(seen), {k: (len(v[0]), len(v[1]))
                        for k, v in sorted(union.items())}))
    if dict(seen) != want:
        failures.append("records stored %s, expected %s" % (dict(seen),
                                                             want))


def main():
    T.require("tshark", TIME)
    failures = []
    d = T.pcaps_dir()
    if d is None:
        print("SKIP (shared captures): the folder is absent")
    else:
        for path in sorted(glob.glob(os.path.join(d, "*.pcap")) +
                           glob.glob(os.path.join(d, "*.pcapng"))):
            compare(os.path.basename(path), path, failures)
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # the sensor writes its spool as teiten
        known = os.path.join(tmp, "known.pcap")
        truth = known_capture(known)
        got = compare("known sets", known, failures)
        if got != truth:
            failures.append("tshark's sets %s are not those written %s" %
                            (got, truth))
        gen = os.path.join(tmp, "gencap.pcap")
        subprocess.run([os.environ["TEITEN_GENCAP"], "-c", "30000", "-d",
                        "1800", "-o", gen], check=True)
        compare("teiten-gencap", gen, failures, interval=300)
        # The fleet's key gives other hashes, the same counts.
        key = os.path.join(tmp, "sketch.key")
        filekey = bytes(range(32))
        with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(filekey.hex() + "\n")
        compare("known sets, --sketch-key-file", known, failures,
                args=["--sketch-key-file", key])
        check_config(tmp, known, failures)
        check_records(tmp, known, key, filekey, failures)
    memory_run("2,000 keys x 10,000 sources", 2000, 10000, None, failures,
               True)
    memory_run("1,000,000 sources on one key", 1, 1000000, None, failures,
               True)
    memory_run("2,000 keys x 10,000 sources, --sketch-memory 4 MiB", 2000,
               10000, 4 * MIB, failures, False)
    for f in failures:
        print("FAIL: " + f)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
