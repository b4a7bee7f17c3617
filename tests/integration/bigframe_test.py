"""Records over 2 MiB (man/teiten-protocol.7, Frames and Handshake): the
aggregator takes frames of at most 2 MiB until a session is authenticated
and of at most 32 MiB after; a PROOF frame authenticates a session before
a large first record.

  (a) Raw sockets (agglib's protocol, written from scratch): a header
      announcing a 3 MiB RECORD is cut off at once before the HELLO, and
      after the CHALLENGE before any verified frame; a PROOF with a
      payload, and a PROOF after a record, are cut off; after a PROOF
      (which gets no answer) a 3 MiB RECORD is read whole and answered
      (rejected: its payload is no record), and one over 32 MiB is cut
      off; a 4 MiB RECORD left unfinished is cut off after 62 s, not 30
      (the frame deadline allows 1 s per 128 KiB).
  (b) A real teiten-sensor replays a capture written here: 2,000 TCP ports
      in one interval, each hit by 50 (every tenth port) or 300 to 400
      distinct sources (6,000 targets in all) - a version-2 record of
      about 4.9 MB at precision 14.  A real aggregator with
      --sketch-key-file stores it: the sensor exits 0 without folding, the
      archive entry is the record (over 2 MiB, version 2, precision 14,
      every port), and every key's RRD `sources` and `targets` are the
      exact counts computed here (exact up to 100, within 2% above), its
      `avg` the packets.  The sketch key is fixed: with a random one,
      two of some key's 50 addresses would share a sparse index (and
      count as one) in roughly one run of 150 (400 sets of 50, 1,225
      pairs each, 2^26 indexes)."""

import os
import random
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from agglib import (ACK, RECORD, connect, expect_dropped,  # noqa: E402
                    frame, handshake, read_frame)
from teiten_testlib import FAILURES, check, require  # noqa: E402

PROOF = 5
PREAUTH = 2 << 20
MAX = 32 << 20
STEP = 60
T0 = 1700000040  # a minute boundary
NPORTS = 2000
FIRST_PORT = 1000


def hdr(ftype, length, seq):
    return b"TT" + bytes([1, ftype]) + struct.pack(">IQ", length, seq)


def raw_sockets(agg, psk):
    s = connect(agg)
    s.sendall(hdr(RECORD, 3 << 20, 0))
    expect_dropped(agg, s, "(a) 3 MiB RECORD header before the HELLO",
                   bound=3)

    s, _ = handshake(agg, "s1", psk)
    s.sendall(hdr(RECORD, 3 << 20, 1))
    expect_dropped(agg, s, "(a) 3 MiB RECORD header after the CHALLENGE, "
                   "before a verified frame", bound=3)

    s, key = handshake(agg, "s1", psk)
    s.sendall(frame(PROOF, 1, b"x", key))
    expect_dropped(agg, s, "(a) PROOF with a payload", bound=3)

    s, key = handshake(agg, "s1", psk)
    s.sendall(frame(RECORD, 1, b"not a record", key))
    ftype, _, payload = read_frame(s, key)
    check(ftype == ACK and payload[0] == A.REJECTED,
          "(a) a small invalid record is answered: rejected")
    s.sendall(frame(PROOF, 2, b"", key))
    expect_dropped(agg, s, "(a) PROOF after a record", bound=3)

    s, key = handshake(agg, "s1", psk)
    s.sendall(frame(PROOF, 1, b"", key))
    big = bytes(3 << 20)
    s.sendall(frame(RECORD, 2, big, key))
    ftype, seq, payload = read_frame(s, key)
    # Sequence 0 is the CHALLENGE, so the PROOF was not answered.
    check(ftype == ACK and seq == 1 and payload[0] == A.REJECTED,
          "(a) after a PROOF, a 3 MiB RECORD is read whole and answered "
          "(type %d, seq %d, status %d): the PROOF got no answer" %
          (ftype, seq, payload[0]))
    s.sendall(hdr(RECORD, MAX + 1, 3))
    expect_dropped(agg, s, "(a) 32 MiB + 1 RECORD header after a PROOF",
                   bound=3)

    # 30 s, and 1 s per 128 KiB: 62 s for 4 MiB, not 30.
    s, key = handshake(agg, "s1", psk)
    s.sendall(frame(PROOF, 1, b"", key))
    s.sendall(hdr(RECORD, 4 << 20, 2) + bytes(1 << 20))
    expect_dropped(agg, s, "(a) a 4 MiB RECORD left at 1 MiB: given "
                   "30 + 32 s", bound=80, lo=58)


def write_capture(path, rng):
    """The capture and {port: (packets, sources, targets)}, exact."""
    want = {}
    pkts = []
    for j in range(NPORTS):
        port = FIRST_PORT + j
        nsrc = 50 if j % 10 == 0 else 300 + rng.randrange(101)
        srcs = rng.sample(range(1 << 20), nsrc)
        dsts = set()
        for i, src in enumerate(srcs):
            dst = 0xc0000000 + rng.randrange(6000)
            dsts.add(dst)
            # Some sources twice: packets and sources differ.
            for _ in range(1 + (i % 3 == 0)):
                pkts.append((T0 + rng.randrange(STEP), 0x0b000000 + src,
                             dst, port))
        want[port] = (sum(1 + (i % 3 == 0) for i in range(nsrc)), nsrc,
                      len(dsts))
    pkts.sort()
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
        for sec, src, dst, port in pkts:
            tcp = struct.pack(">HHIIBBHHH", 40000, port, 1, 0, 5 << 4, 0x02,
                              1024, 0, 0)
            ip = struct.pack(">BBHHHBBHII", 0x45, 0, 40, 0, 0, 64, 6, 0,
                             src, dst) + tcp
            f.write(struct.pack("<IIII", sec, 0, len(ip), len(ip)) + ip)
    return want


def near(got, want):
    if got is None:
        return False
    if want <= 100:
        return got == want
    return abs(got - want) <= 0.02 * want


def big_record(tmp, keysfile, keys, rng):
    skey = os.path.join(tmp, "sketch.key")
    with open(skey, "w") as f:
        f.write(bytes(range(32)).hex() + "\n")
    os.chmod(skey, 0o600)
    cap = os.path.join(tmp, "big.pcap")
    want = write_capture(cap, rng)
    datadir = os.path.join(tmp, "data-big")
    agg = A.Aggregator(tmp, keysfile, datadir,
                       extra=["--sketch-key-file", skey, "--grace", "2"])
    agg.start()
    spool = os.path.join(tmp, "spool-big")
    try:
        t = time.monotonic()
        p = subprocess.run([T.sensor_path(), "-r", cap, "-a", agg.addr,
                            "-s", "big", "-K", keys["big"], "--spool", spool,
                            "-n", str(STEP), "--sketch-key-file", skey],
                           capture_output=True, text=True, timeout=300)
        check(p.returncode == 0, "(b) the sensor sends its record and exits "
              "0 in %.1fs (%d)%s" % (time.monotonic() - t, p.returncode,
                                     "" if p.returncode == 0
                                     else ": " + p.stderr[-1000:]))
        check("folded" not in p.stderr and "without sketches" not in
              p.stderr, "(b) the sensor did not fold the record")
        agg.settle(T0, timeout=120)
    finally:
        rc = agg.stop()
    check(rc == 0, "(b) the aggregator exits 0 (%s)" % rc)
    entries, damaged = A.read_archive(datadir)
    recs = [A.decode_record(raw) for _, raw in entries]
    sizes = [len(raw) for _, raw in entries]
    check(damaged == 0 and len(recs) == 1 and recs[0]["version"] == 2 and
          recs[0]["sketch_p"] == 14 and recs[0]["start"] == T0,
          "(b) the archive holds the one version-2 record, precision 14")
    check(sizes and sizes[0] > PREAUTH,
          "(b) its entry is %s bytes, over the 2 MiB pre-authentication "
          "limit" % sizes)
    if not recs:
        return
    r = recs[0]
    got = {k: v for (proto, k), v in r["sketches"].items() if proto == "tcp"}
    check(sorted(got) == sorted(want), "(b) the record has the %d ports "
          "(%d)" % (len(want), len(got)))
    bad = []
    for port, (pk, ns, nt) in sorted(want.items()):
        path = os.path.join(datadir, "rrd", "tcp", "%d.rrd" % port)
        ds = A.rrd_fetch_ds(path, T0, T0 + STEP, STEP)
        row = {n: ds[n].get(T0 + STEP) for n in ds}
        if not (A.close(row.get("avg"), pk) and
                near(row.get("sources"), ns) and
                near(row.get("targets"), nt)):
            bad.append("tcp/%d: %s, expected avg %d sources %d targets %d" %
                       (port, row, pk, ns, nt))
    for b in bad[:10]:
        print("    " + b)
    check(not bad, "(b) all %d RRDs: avg the packets, sources and targets "
          "the exact distinct counts (exact up to 100, 2%% above)" %
          len(want))


def main():
    rng = random.Random(10)
    with tempfile.TemporaryDirectory() as tmp:
        keysfile, keys = A.make_keys(tmp, ["s1", "big"])
        datadir = os.path.join(tmp, "data")
        agg = A.Aggregator(tmp, keysfile, datadir).start()
        try:
            raw_sockets(agg, A.read_psk(keys["s1"]))
        finally:
            rc = agg.stop()
        check(rc == 0, "(a) the aggregator exits 0 (%s)" % rc)
        big_record(tmp, keysfile, keys, rng)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    require("rrdtool")
    sys.exit(main())
