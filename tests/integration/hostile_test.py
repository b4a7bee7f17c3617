"""doc/CONTRACTS.md contract 9 on the aggregator's port: garbage, forged,
altered, replayed, truncated, oversized and idle connections are dropped
and counted, and the daemon keeps serving a good sensor.

Attacks come from Python sockets speaking the protocol of
man/teiten-protocol.7, written from scratch in agglib.py: frame =
'TT' | version 1 | type | u32 length | u64 seq | payload | HMAC-SHA-256.

  (a) HELLO from an unknown sensor id;
  (b) HELLO from a known id, MAC made with the wrong key;
  (c) a valid session (sensor "insider", whose key the test holds), then a
      RECORD with one bit of its payload flipped after sealing;
  (d) a RECORD accepted (ACK: stored) on one session, then replayed on the
      same connection (same sequence number again) and on a second session;
  (e) a truncated frame then half-close, before and after a handshake;
      a truncated HELLO left hanging (the aggregator's --auth-timeout,
      10 s by default) and a truncated RECORD left hanging after a stored
      one (FRAME_TIMEOUT, 30 s in server.c), in the session of sensor
      "hanger" (a sensor has one session: a new one of "insider" would
      close it);
  (f) random bytes; (g) headers claiming a 4 GB payload, before and after
      a handshake; (h) 1,000 connections that say nothing: while they are
      open a good sensor replays its capture and exits 0, and all of them
      are closed after the hello timeout.

Each connection must be closed by the aggregator (recv gives b'' or
ECONNRESET) within a bound, without it having sent anything but the
protocol's answers, and the aggregator must still run.  At the end, its
SIGTERM report counts exactly these attacks, and the archive holds exactly
the good sensor's records (counts as its --print output) plus the
records the insider's and the hanger's sessions stored, once each."""

import collections
import os
import random
import re
import resource
import signal
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
from agglib import (ACK, HELLO, RECORD, ack_of, connect,  # noqa: E402
                    expect_dropped, frame, handshake, read_frame)
from teiten_testlib import FAILURES, check, require  # noqa: E402

T0 = 1700000000
STEP = 60
A0 = T0 // STEP * STEP  # an interval start: records of the attacks use it
HELLO_TIMEOUT = 10  # --auth-timeout's default
FRAME_TIMEOUT = 30  # server.c
IDLE = 1000


# --- The attacks -----------------------------------------------------------

def attacks(agg, psk, rng, expect):
    """Quick attacks, one after another; expect counts them."""
    # (a) an unknown sensor.
    s = connect(agg)
    s.sendall(frame(HELLO, 0, b"\x07mallory" + os.urandom(16),
                    os.urandom(32)))
    expect_dropped(agg, s, "(a) HELLO from an unknown sensor id")
    expect["unknown"] += 1

    # (b) a known id, the MAC made with another key.
    s = connect(agg)
    s.sendall(frame(HELLO, 0, b"\x04good" + os.urandom(16), os.urandom(32)))
    expect_dropped(agg, s, "(b) HELLO of a known id with a forged MAC")
    expect["mac"] += 1

    # (c) one bit flipped in a sealed RECORD.
    s, key = handshake(agg, "insider", psk["insider"])
    rec = A.encode_record("insider", A0 - 3600, STEP, {("tcp", 23): 5})
    f = bytearray(frame(RECORD, 1, rec, key))
    f[16 + len(rec) - 1] ^= 0x01
    s.sendall(bytes(f))
    expect_dropped(agg, s, "(c) RECORD with a payload bit flipped")
    expect["mac"] += 1

    # (d) a RECORD accepted, then replayed: same connection, other session.
    s, key = handshake(agg, "insider", psk["insider"])
    rec = A.encode_record("insider", A0 - 7200, STEP,
                          {("tcp", 445): 3, ("udp", 53): 1})
    good = frame(RECORD, 1, rec, key)
    s.sendall(good)
    s.settimeout(10)
    ftype, seq, payload = read_frame(s, key)
    check((ftype, seq) == (ACK, 1) and ack_of(payload) == (0, A0 - 7200),
          "(d) the insider's RECORD is acknowledged as stored (type %d seq "
          "%d %s)" % (ftype, seq, ack_of(payload)))
    s.sendall(good)
    expect_dropped(agg, s, "(d) the RECORD replayed on its connection")
    expect["mac"] += 1
    s2, _ = handshake(agg, "insider", psk["insider"])
    s2.sendall(good)
    expect_dropped(agg, s2, "(d) the RECORD replayed on a second session")
    expect["mac"] += 1

    # (e) truncated frames, then half-close.
    s = connect(agg)
    s.sendall(frame(HELLO, 0, b"\x04good" + os.urandom(16),
                    psk["good"])[:30])
    s.shutdown(socket.SHUT_WR)
    expect_dropped(agg, s, "(e) truncated HELLO then close")
    s, key = handshake(agg, "insider", psk["insider"])
    s.sendall(frame(RECORD, 1, rec, key)[:40])
    s.shutdown(socket.SHUT_WR)
    expect_dropped(agg, s, "(e) truncated RECORD in a session then close")

    # (f) random bytes (not starting like a frame).
    junk = bytearray(rng.getrandbits(8) for _ in range(200))
    junk[0] = ord("X")
    s = connect(agg)
    s.sendall(bytes(junk))
    expect_dropped(agg, s, "(f) 200 random bytes")
    expect["frame"] += 1

    # (g) 4 GB claimed, before and after the handshake.
    s = connect(agg)
    s.sendall(b"TT\x01\x01\xff\xff\xff\xff" + bytes(8) + b"x" * 64)
    expect_dropped(agg, s, "(g) HELLO header claiming a 4 GB payload")
    expect["frame"] += 1
    s, key = handshake(agg, "insider", psk["insider"])
    s.sendall(b"TT\x01\x03\xff\xff\xff\xff" + struct.pack(">Q", 1) +
              b"x" * 64)
    expect_dropped(agg, s, "(g) RECORD header claiming a 4 GB payload "
                   "in a session")
    expect["frame"] += 1
    return 1 + 1 + 1 + 2 + 2 + 1 + 2  # connections made


def idle_flood(agg, keys, cap, spool, expect):
    """(h) IDLE silent connections; the good sensor is served meanwhile."""
    socks, opened = [], {}
    t0 = time.monotonic()
    for _ in range(IDLE):
        s = socket.create_connection(("127.0.0.1", agg.port), timeout=10)
        s.setblocking(False)
        opened[s] = time.monotonic()
        socks.append(s)
    print("%d idle connections opened in %.1fs" %
          (IDLE, time.monotonic() - t0))
    t = time.monotonic()
    p = A.run_sensor_to(agg, "good", keys["good"], cap, spool, check=False)
    took = time.monotonic() - t
    check(p.returncode == 0, "(h) the good sensor replays and exits 0 "
          "in %.1fs while %d idle connections are open%s" %
          (took, IDLE, "" if p.returncode == 0 else ": " + p.stderr[-600:]))
    still = 0
    for s in socks:
        try:
            still += s.recv(1) is None
        except BlockingIOError:
            still += 1
        except OSError:
            pass
    check(still == IDLE, "(h) all %d idle connections were still open when "
          "the sensor was done (%d)" % (IDLE, still))
    closed, data = A.wait_closed(socks, HELLO_TIMEOUT + 10)
    closed_after = [closed[s] - opened[s] for s in closed]
    left = len(socks) - len(closed)
    for s in socks:
        s.close()
    check(left == 0 and data == 0, "(h) all %d idle connections closed by "
          "the aggregator (%d left open, %d bytes sent to them)" %
          (IDLE, left, data))
    if closed_after:
        lo, hi = min(closed_after), max(closed_after)
        check(HELLO_TIMEOUT - 1 <= lo and hi <= HELLO_TIMEOUT + 5,
              "(h) closed %.1f to %.1fs after connecting (hello timeout "
              "%ds)" % (lo, hi, HELLO_TIMEOUT))
    check(agg.proc.poll() is None, "(h) the aggregator still runs")
    expect["timeout"] += IDLE
    return IDLE


def check_archive(datadir, good_print, insider_recs):
    entries, damaged = A.read_archive(datadir)
    check(damaged == 0, "the archive has no damaged entries")
    held = collections.Counter()
    recs = {}
    for fstart, raw in entries:
        rec = A.decode_record(raw)
        held[(rec["sensor"], rec["start"])] += 1
        recs[(rec["sensor"], rec["start"])] = rec
    starts = [k[0] for k in good_print]
    want = {("good", s): {} for s in range(min(starts), max(starts) + STEP,
                                           STEP)}
    for (s, p, k), n in good_print.items():
        want[("good", s)][(p, k)] = n
    for raw in insider_recs:
        ins = A.decode_record(raw)
        want[(ins["sensor"], ins["start"])] = ins["counts"]
    dups = sorted(k for k, n in held.items() if n > 1)
    extra = sorted(k for k in held if k not in want)
    missing = sorted(k for k in want if k not in held)
    for name, bad in (("duplicated", dups), ("unexpected", extra),
                      ("missing", missing)):
        if bad:
            print("    %s: %s" % (name, bad[:8]))
    check(not dups and not extra and not missing,
          "the archive holds exactly the good sensor's %d records and the "
          "insider's and the hanger's, once each" % (len(want) - 2))
    wrong = [k for k in want if k in recs and recs[k]["counts"] != want[k]]
    check(not wrong, "every archived record has the expected counts (%d "
          "differ)" % len(wrong))


def report_counts(log):
    m = re.search(r"connections: (\d+) accepted, (\d+) unknown sensor, "
                  r"(\d+) bad MAC or replay, (\d+) bad frame, (\d+) timed "
                  r"out, (\d+) over the limit", log)
    r = re.search(r"records: (\d+) stored \((\d+) late\), (\d+) duplicate, "
                  r"(\d+) rejected", log)
    return (tuple(int(x) for x in m.groups()) if m else None,
            tuple(int(x) for x in r.groups()) if r else None)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want_fds = IDLE * 2 + 256
    if soft < want_fds:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(want_fds, hard), hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if not check(soft >= want_fds, "open-file limit %d (need %d)" %
                 (soft, want_fds)):
        return 1
    rng = random.Random(9)
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # the sensor writes its spool as nobody
        cap = os.path.join(tmp, "good.pcap")
        A.gencap(cap, 8000, 30 * STEP, T0, 21, ["-p", "40"])
        good_print = A.sensor_print(cap)
        keysfile, keys = A.make_keys(tmp, ["good", "insider", "hanger"])
        psk = {sid: A.read_psk(path) for sid, path in keys.items()}
        datadir = os.path.join(tmp, "data")
        agg = A.Aggregator(tmp, keysfile, datadir).start()
        expect = collections.Counter()
        t0 = time.monotonic()
        try:
            # Left hanging first: they run out while the rest goes on.
            # The session authenticates with a whole record first: only
            # then is it allowed more than the auth timeout.
            hang_rec, key = handshake(agg, "hanger", psk["hanger"])
            hang_first = A.encode_record("hanger", A0 - 1800, STEP,
                                         {("tcp", 80): 1})
            hang_rec.sendall(frame(RECORD, 1, hang_first, key))
            hang_rec.settimeout(10)
            ftype, seq, payload = read_frame(hang_rec, key)
            check((ftype, seq) == (ACK, 1) and
                  ack_of(payload) == (0, A0 - 1800),
                  "(e) the hanger's first RECORD is stored")
            rec = A.encode_record("hanger", A0 - 1740, STEP,
                                  {("tcp", 80): 1})
            hang_rec.sendall(frame(RECORD, 2, rec, key)[:20])
            t_rec = time.monotonic()
            hang_hello = connect(agg)
            hang_hello.sendall(frame(HELLO, 0, b"\x04good" + bytes(16),
                                     psk["good"])[:10])
            t_hello = time.monotonic()
            conns = 2
            conns += attacks(agg, psk, rng, expect)
            insider_rec = A.encode_record(
                "insider", A0 - 7200, STEP, {("tcp", 445): 3, ("udp", 53): 1})
            expect_dropped(agg, hang_hello, "(e) truncated HELLO left "
                           "hanging",
                           bound=HELLO_TIMEOUT + 5 -
                           (time.monotonic() - t_hello),
                           lo=HELLO_TIMEOUT - 1 -
                           (time.monotonic() - t_hello))
            expect["timeout"] += 1
            conns += idle_flood(agg, keys, cap, os.path.join(tmp, "spool"),
                                expect)
            expect_dropped(agg, hang_rec, "(e) truncated RECORD left "
                           "hanging in a session (%.0fs since sent)" %
                           (time.monotonic() - t_rec),
                           bound=FRAME_TIMEOUT + 5 -
                           (time.monotonic() - t_rec),
                           lo=FRAME_TIMEOUT - 1 -
                           (time.monotonic() - t_rec))
            expect["timeout"] += 1
            print("attacks done in %.1fs" % (time.monotonic() - t0))
            check(agg.stop() == 0, "the aggregator stops on SIGTERM, exit 0")
        finally:
            agg.stop(signal.SIGKILL)
        log = agg.text()
        conn, recs = report_counts(log)
        # + the start-up probe of Aggregator.start and the good sensor.
        want = (conns + 2, expect["unknown"], expect["mac"], expect["frame"],
                expect["timeout"], 0)
        check(conn == want, "final report: connections (accepted, unknown "
              "sensor, bad MAC or replay, bad frame, timed out, over the "
              "limit) = %s, expected %s" % (conn, want))
        starts = [s for s, _, _ in good_print]
        nrec = (max(starts) - min(starts)) // STEP + 1
        check(recs is not None and recs[0] == nrec + 2 and recs[2:] == (0, 0),
              "final report: records (stored, late, duplicate, rejected) = "
              "%s: the good sensor's %d and the insider's two, no "
              "duplicate, none rejected" % (recs, nrec))
        check_archive(datadir, good_print, [insider_rec, hang_first])
        if FAILURES:
            print("---- aggregator log (tail) ----")
            print("\n".join(log.splitlines()[-40:]))
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    require("rrdtool")
    sys.exit(main())
