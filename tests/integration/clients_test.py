"""Issue 8, "every client's cost is bounded", and key removal, on a real
aggregator over real TCP.  The protocol comes from agglib.py, which
writes it from man/teiten-protocol.7 with hmac/hashlib.

  (1) A client that never reads: sensor "bad" authenticates (its socket's
      receive buffer made small) and sends the same record again and again
      without reading a single ACK.  The aggregator's VmRSS, sampled all
      along, stays within RSS_LIMIT of its level before; the aggregator
      says it stopped reading the client; a real teiten-sensor replaying
      its capture meanwhile has every record acknowledged as stored; and
      the bad client never gets to send all it wanted to.
  (2) 16,384 replayed HELLOs: one genuine HELLO of sensor "victim" (MAC
      made with its key) sent again on 16,384 connections, each answered
      with a CHALLENGE, so that the aggregator's table is full.  A real
      teiten-sensor then replays its capture: all its records are stored
      before any replay could have timed out (auth_timeout, from this
      test's teiten.conf), because the oldest replay made room.  Every
      other replay is closed by the aggregator auth_timeout after it
      connected, and the report at exit counts them.
 (2b) The same with the aggregator's open file limit at 128 (prlimit), so
      that descriptors run out before the table fills: the table is sized
      to leave the archive its descriptors, the oldest replays make room,
      and the genuine sensor's records are all stored at once.
  (3) Key removal and SIGHUP: sessions of sensors "keep", "gone" and
      "changed" each store a record; the keys file is rewritten without
      "gone" and with a new key for "changed", and SIGHUP sent.  Both
      sessions are ended (a log line each, the socket closed), a record
      sent after that on them is not stored, a new session with the old
      key is refused, and "keep" goes on storing.
  (4) The connection limit: with max_connections = 3 the aggregator says
      so at start and in its metrics; with three sensors authenticated a
      fourth connection is closed before its challenge, counted over the
      limit (metric, log line, report); with two authenticated and one
      not, a new sensor's connection closes the unauthenticated one
      (evicted) and stores its record; the others go on storing.
  (5) A sensor's new session replaces its old one: once the second
      session of sensor "moved" has its first record stored, the first is
      closed by the aggregator (a log line, counted in the report), and
      the new one goes on storing."""

import collections
import os
import re
import resource
import select
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
from agglib import (ACK, CHALLENGE, HELLO, RECORD,  # noqa: E402
                    STORED)
from teiten_testlib import (FAILURES, check, require,  # noqa: E402
                            wait_for)

T0 = 1700000000 // 60 * 60  # an interval start
STEP = 60
RSS_LIMIT = 4 << 20  # "at most a few MiB" (issue 8)
FLOOD_BYTES = 48 << 20  # records the bad client tries to send
REPLAYS = 16384  # max_connections in this test's teiten.conf
AUTH_TIMEOUT = 90  # this test's teiten.conf: room to open the replays
IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h
WAIT = 120  # generous deadline for events that must come


def write_conf(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def hello_payload(sid, client):
    return bytes([len(sid)]) + sid.encode() + client


def session(agg, sid, psk, rcvbuf=None):
    """An authenticated-to-be connection (HELLO sent, CHALLENGE checked)
    and its session key; rcvbuf is set before connecting."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", agg.port))
    client = os.urandom(16)
    s.sendall(A.frame(HELLO, 0, hello_payload(sid, client), psk))
    head = A.recv_exact(s, 16)
    body = A.recv_exact(s, 16 + 32)
    if head[3] != CHALLENGE:
        raise AssertionError("expected a challenge, got type %d" % head[3])
    return s, A.session_key(psk, client, body[:16])


def vm_rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for %d" % pid)


class RssWatch(threading.Thread):
    """The aggregator's VmRSS, sampled every 20 ms; peak kept."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, vm_rss(self.pid))
            except (OSError, AssertionError):
                return
            self.stop.wait(0.02)


class Flood(threading.Thread):
    """Sends FLOOD_BYTES of RECORD frames (one record, each frame with the
    next sequence number) as fast as the socket takes them, reading
    nothing."""

    def __init__(self, sock, key, rec, seq=1):
        super().__init__(daemon=True)
        self.sock, self.key, self.rec, self.seq = sock, key, rec, seq
        self.sent, self.done, self.error = 0, False, None
        self.stop = threading.Event()
        self.sock.setblocking(False)

    def run(self):
        seq, pending, total = self.seq, b"", 0
        while not self.stop.is_set():
            if not pending:
                if total >= FLOOD_BYTES:
                    self.done = True
                    return
                pending = memoryview(b"".join(
                    A.frame(RECORD, s, self.rec, self.key)
                    for s in range(seq, seq + 1024)))
                seq += 1024
                total += len(pending)
            _, w, _ = select.select([], [self.sock], [], 0.1)
            if not w:
                continue
            try:
                n = self.sock.send(pending)
            except BlockingIOError:
                continue
            except OSError as e:
                self.error = e
                return
            pending = pending[n:]
            self.sent += n


def sensor_stored(stderr):
    m = re.search(r"(\d+) records? stored", stderr)
    return int(m.group(1)) if m else None


def intervals_of(pcap):
    starts = [k[0] for k in A.sensor_print(pcap)]
    return (max(starts) - min(starts)) // STEP + 1


def report(agg):
    m = re.search(r"connections: (\d+) accepted, (\d+) unknown sensor, "
                  r"(\d+) bad MAC or replay, (\d+) bad frame, (\d+) timed "
                  r"out, (\d+) over the limit, (\d+) evicted "
                  r"unauthenticated, (\d+) ended on a key change, (\d+) "
                  r"paused for unread acks, (\d+) replaced by a newer "
                  r"session", agg.text())
    keys = ("accepted", "unknown", "mac", "frame", "timeout", "refused",
            "evicted", "revoked", "paused", "replaced")
    return dict(zip(keys, map(int, m.groups()))) if m else None


# --- (1) a client that never reads ----------------------------------------

def never_reads(tmp):
    keysfile, keys = A.make_keys(tmp, ["warm", "good", "bad"])
    caps = {}
    for i, sid in enumerate(("warm", "good")):
        caps[sid] = os.path.join(tmp, sid + ".pcap")
        A.gencap(caps[sid], 3000, 5 * STEP, T0 + 86400 * i, 31 + i,
                 ["-p", "30"])
    # A long grace keeps the RRD writer idle while RSS is watched: no
    # interval of the good sensor is final before the test is done; the
    # aggregator alone runs without ASan's quarantine.
    asan = A.no_asan_quarantine()
    agg = A.Aggregator(tmp, keysfile, os.path.join(tmp, "data1"),
                       grace=3600).start()
    if asan is None:
        del os.environ["ASAN_OPTIONS"]
    else:
        os.environ["ASAN_OPTIONS"] = asan
    try:
        p = A.run_sensor_to(agg, "warm", keys["warm"], caps["warm"],
                            os.path.join(tmp, "spool-warm"))
        check(sensor_stored(p.stderr) == intervals_of(caps["warm"]),
              "(1) warm-up: the first sensor's records are stored")
        now = int(time.time()) // STEP * STEP
        rec = A.encode_record("bad", now - STEP, STEP, {("tcp", 23): 1})
        bad, key = session(agg, "bad", A.read_psk(keys["bad"]), rcvbuf=4096)
        # Its first record, stored, is later than the warm-up's: those
        # intervals are final now, and written before RSS is watched, so
        # that the watch sees what the flood costs, not the RRD writer.
        bad.sendall(A.frame(RECORD, 1, rec, key))
        ftype, _, payload = A.read_frame(bad, key)
        check(ftype == A.ACK and A.ack_of(payload)[0] == A.STORED,
              "(1) the client's first record is stored")
        agg.wait_final(max(k[0] for k in A.sensor_print(caps["warm"])))
        base = vm_rss(agg.proc.pid)
        watch = RssWatch(agg.proc.pid)
        watch.start()
        flood = Flood(bad, key, rec, seq=2)
        flood.start()
        t0 = time.monotonic()
        paused = re.compile(r"sensor bad: \d+ bytes of acknowledgements "
                            r"unread; not reading until they drain")
        saw = wait_for(lambda: paused.search(agg.text()) or flood.done or
                       flood.error or watch.peak - base > RSS_LIMIT, WAIT,
                       "the aggregator to stop reading the client")
        check(isinstance(saw, re.Match),
              "(1) the aggregator stops reading the client after %.1fs "
              "(%d bytes sent; peak RSS +%.1f MiB)" %
              (time.monotonic() - t0, flood.sent,
               (watch.peak - base) / 2**20))
        p = A.run_sensor_to(agg, "good", keys["good"], caps["good"],
                            os.path.join(tmp, "spool-good"), check=False)
        want = intervals_of(caps["good"])
        check(p.returncode == 0 and sensor_stored(p.stderr) == want,
              "(1) meanwhile the good sensor's %d records are all stored "
              "(exit %d, %s stored)" %
              (want, p.returncode, sensor_stored(p.stderr)))
        check(not flood.done and flood.error is None and
              flood.sent < FLOOD_BYTES,
              "(1) the client that never reads could send only %.1f of "
              "its %d MiB" % (flood.sent / 2**20, FLOOD_BYTES >> 20))
        flood.stop.set()
        flood.join()
        watch.stop.set()
        watch.join()
        check(watch.peak - base <= RSS_LIMIT,
              "(1) aggregator VmRSS: %.1f MiB before, peak %.1f MiB "
              "(+%.2f MiB, at most %d MiB)" %
              (base / 2**20, watch.peak / 2**20,
               (watch.peak - base) / 2**20, RSS_LIMIT >> 20))
        bad.close()
        check(agg.stop() == 0, "(1) the aggregator stops on SIGTERM, exit 0")
    finally:
        agg.stop(signal.SIGKILL)
    r = report(agg)
    check(r is not None and r["paused"] >= 1,
          "(1) the report counts the paused client: %s" % r)


# --- (2) 16,384 replayed HELLOs -------------------------------------------

def open_replays(agg, hello, n, batch=256):
    """n connections, each sent hello and answered (a CHALLENGE read);
    {socket: time connected}.  In batches, so that the listen backlog
    never overflows into SYN retries."""
    socks = {}
    sel = selectors.DefaultSelector()
    while len(socks) < n:
        waiting = {}
        for _ in range(min(batch, n - len(socks))):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            # From 128 source addresses, 128 connections each: Linux
            # searches for a free source port in a time that grows with
            # the connections from one address to one address and port.
            i = len(socks) + len(waiting)
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind(("127.0.1.%d" % (1 + i % 128), 0))
            t = time.monotonic()
            try:
                s.connect(("127.0.0.1", agg.port))
            except BlockingIOError:
                pass
            waiting[s] = [t, b"", False]
            sel.register(s, selectors.EVENT_WRITE)
        deadline = time.monotonic() + WAIT
        while waiting and time.monotonic() < deadline:
            for k, ev in sel.select(timeout=1):
                s = k.fileobj
                st = waiting[s]
                if ev & selectors.EVENT_WRITE and not st[2]:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise AssertionError("replay connect: %s" %
                                             os.strerror(err))
                    s.send(hello)  # 84 bytes: a fresh socket takes them
                    st[2] = True
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                chunk = s.recv(4096)
                if not chunk:
                    raise AssertionError("a replayed HELLO was closed "
                                         "before its challenge")
                st[1] += chunk
                if len(st[1]) >= 16 + 16 + 32:
                    if st[1][3] != CHALLENGE:
                        raise AssertionError("replay answered with type %d"
                                             % st[1][3])
                    sel.unregister(s)
                    socks[s] = st[0]
                    del waiting[s]
        if waiting:
            raise AssertionError("%d replays not challenged in %ds" %
                                 (len(waiting), WAIT))
    sel.close()
    return socks


def open_count(socks):
    """How many of socks the aggregator has not closed."""
    n = 0
    for s in socks:
        try:
            n += s.recv(1) is None
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


def replay_setup(tmp, confname):
    """What (2) and (2b) share: keys of "victim" and "genuine", a
    teiten.conf with AUTH_TIMEOUT, the genuine sensor's capture and its
    interval count, and victim's HELLO as the sensor sends it (replaying
    it needs no key)."""
    keysfile, keys = A.make_keys(tmp, ["victim", "genuine"])
    conf = write_conf(tmp, confname, "[aggregator]\nauth_timeout = %d\n"
                      "max_connections = %d\n" % (AUTH_TIMEOUT, REPLAYS))
    cap = os.path.join(tmp, "genuine.pcap")
    A.gencap(cap, 3000, 5 * STEP, T0, 41, ["-p", "30"])
    hello = A.frame(HELLO, 0, hello_payload("victim", os.urandom(16)),
                    A.read_psk(keys["victim"]))
    return keysfile, keys, conf, cap, intervals_of(cap), hello


def replayed_hellos(tmp):
    keysfile, keys, conf, cap, want, hello = replay_setup(tmp,
                                                          "replay.conf")
    agg = A.Aggregator(tmp, keysfile, os.path.join(tmp, "data2"),
                       extra=["-c", conf]).start()
    socks = {}
    try:
        t = time.monotonic()
        socks = open_replays(agg, hello, REPLAYS)
        first = min(socks.values())
        print("%d replays challenged in %.1fs" % (REPLAYS,
                                                  time.monotonic() - t))
        check(open_count(socks) == REPLAYS,
              "(2) all %d replayed HELLOs hold a slot" % REPLAYS)
        p = A.run_sensor_to(agg, "genuine", keys["genuine"], cap,
                            os.path.join(tmp, "spool-genuine"), check=False)
        took = time.monotonic() - first
        check(p.returncode == 0 and sensor_stored(p.stderr) == want,
              "(2) the genuine sensor's %d records are stored while the "
              "table is full (exit %d, %s stored)%s" %
              (want, p.returncode, sensor_stored(p.stderr),
               "" if p.returncode == 0 else ": " + p.stderr[-400:]))
        check(took < AUTH_TIMEOUT,
              "(2) ... %.1fs after the first replay, before any could time "
              "out (%ds)" % (took, AUTH_TIMEOUT))
        still = open_count(socks)
        check(REPLAYS - still >= 1 and took < AUTH_TIMEOUT,
              "(2) the oldest replays made room: %d closed" %
              (REPLAYS - still))
        closed, data = A.wait_closed(
            socks, AUTH_TIMEOUT + WAIT - (time.monotonic() - first))
        check(len(closed) == REPLAYS and data == 0,
              "(2) every replay is closed by the aggregator, sent nothing "
              "more (%d of %d closed, %d bytes)" %
              (len(closed), REPLAYS, data))
        after = sorted(closed[s] - socks[s] for s in closed)
        timed = after[REPLAYS - still:]
        if timed:
            check(timed[0] >= AUTH_TIMEOUT - 1,
                  "(2) the replays not evicted were closed %.1f to %.1fs "
                  "after connecting (auth_timeout %ds)" %
                  (timed[0], timed[-1], AUTH_TIMEOUT))
        check(agg.stop() == 0, "(2) the aggregator stops on SIGTERM, exit 0")
    finally:
        agg.stop(signal.SIGKILL)
        for s in socks:
            s.close()
    r = report(agg)
    check(r is not None and r["evicted"] == REPLAYS - still and
          r["timeout"] == still and r["refused"] == 0,
          "(2) the report: %d evicted, %d timed out, none refused: %s" %
          (REPLAYS - still, still, r))
    log = agg.text()
    check("not authenticated in time" in log and
          "not authenticated, and the connection table is full" in log,
          "(2) the log says why replays were closed")


def fd_limit(tmp):
    """(2b) As (2), with fewer descriptors than the table has slots: the
    aggregator, out of descriptors, closes the oldest unauthenticated
    connection rather than stop accepting."""
    nofile = 128
    keysfile, keys, conf, cap, want, hello = replay_setup(tmp, "fd.conf")
    agg = A.Aggregator(tmp, keysfile, os.path.join(tmp, "data2b"),
                       extra=["-c", conf])
    agg.cmd = ["prlimit", "--nofile=%d:%d" % (nofile, nofile)] + agg.cmd
    agg.start()
    socks = {}
    try:
        # Small batches: a batch is challenged before the next evicts.
        socks = open_replays(agg, hello, 2 * nofile, batch=16)
        first = min(socks.values())
        still = open_count(socks)
        check(still < 2 * nofile,
              "(2b) with %d descriptors, the oldest of %d replays were "
              "closed to make room (%d left open)" %
              (nofile, 2 * nofile, still))
        p = A.run_sensor_to(agg, "genuine", keys["genuine"], cap,
                            os.path.join(tmp, "spool-genuine-b"),
                            check=False)
        took = time.monotonic() - first
        check(p.returncode == 0 and sensor_stored(p.stderr) == want and
              took < AUTH_TIMEOUT,
              "(2b) the genuine sensor's %d records are stored %.1fs after "
              "the first replay (exit %d, %s stored)" %
              (want, took, p.returncode, sensor_stored(p.stderr)))
        # At most 128 descriptors: half of them for connections.
        check("max_connections %d is more than the open file limit of %d "
              "allows: at most %d connections" % (REPLAYS, nofile,
                                                  nofile // 2) in agg.text(),
              "(2b) max_connections %d is capped to %d, with a warning" %
              (REPLAYS, nofile // 2))
        check(agg.stop() == 0,
              "(2b) the aggregator stops on SIGTERM, exit 0")
    finally:
        agg.stop(signal.SIGKILL)
        for s in socks:
            s.close()
    r = report(agg)
    check(r is not None and r["evicted"] >= 2 * nofile - still,
          "(2b) the report counts the evicted replays: %s" % r)


# --- (3) key removal and SIGHUP -------------------------------------------

def store(s, key, seq, rec, start):
    """Send rec as frame seq and expect ACK stored for start."""
    s.sendall(A.frame(RECORD, seq, rec, key))
    ftype, rseq, payload = A.read_frame(s, key)
    return (ftype, rseq, A.ack_of(payload)) == (ACK, seq, (STORED, start))


def key_removal(tmp):
    ids = ["keep", "gone", "changed"]
    keysfile, keys = A.make_keys(tmp, ids)
    psk = {sid: A.read_psk(keys[sid]) for sid in ids}
    datadir = os.path.join(tmp, "data3")
    agg = A.Aggregator(tmp, keysfile, datadir, grace=3600).start()
    try:
        sess = {sid: session(agg, sid, psk[sid]) for sid in ids}
        for sid in ids:
            rec = A.encode_record(sid, T0, STEP, {("tcp", 22): 1})
            check(store(*sess[sid], 1, rec, T0),
                  "(3) %s: a record stored before SIGHUP" % sid)
        with open(keysfile, "w") as f:
            f.write("keep %s\nchanged %s\n" % (psk["keep"].hex(),
                                               os.urandom(32).hex()))
        agg.proc.send_signal(signal.SIGHUP)
        lines = wait_for(lambda: re.search(
            r"sensor gone: key removed; disconnected", agg.text()) and
            re.search(r"sensor changed: key changed; disconnected",
                      agg.text()), WAIT, "the sessions' end to be logged")
        check(bool(lines), "(3) SIGHUP: a log line for each session ended")
        for sid in ("gone", "changed"):
            s, key = sess[sid]
            rec = A.encode_record(sid, T0 + STEP, STEP, {("tcp", 22): 1})
            try:
                s.sendall(A.frame(RECORD, 2, rec, key))
            except OSError:
                pass
            # Without the log lines, failing takes no long wait.
            A.expect_dropped(agg, s, "(3) %s: its session is closed" % sid,
                             bound=WAIT if lines else 2)
            try:
                s2, k2 = session(agg, sid, psk[sid])
                ok = store(s2, k2, 1, rec, T0 + STEP)
                s2.close()
            except (OSError, AssertionError):
                ok = False
            check(not ok, "(3) %s: a new session with the old key cannot "
                  "store" % sid)
        rec = A.encode_record("keep", T0 + STEP, STEP, {("tcp", 22): 1})
        check(store(*sess["keep"], 2, rec, T0 + STEP),
              "(3) keep: its session goes on storing")
        sess["keep"][0].close()
        check(agg.stop() == 0, "(3) the aggregator stops on SIGTERM, exit 0")
    finally:
        agg.stop(signal.SIGKILL)
    held = collections.Counter()
    entries, _ = A.read_archive(datadir)
    for _, raw in entries:
        rec = A.decode_record(raw)
        held[(rec["sensor"], rec["start"])] += 1
    want = {("keep", T0): 1, ("keep", T0 + STEP): 1, ("gone", T0): 1,
            ("changed", T0): 1}
    check(dict(held) == want, "(3) the archive holds only what was stored "
          "before SIGHUP, and keep's: %s" % dict(held))
    r = report(agg)
    check(r is not None and r["revoked"] == 2,
          "(3) the report counts 2 sessions ended on a key change: %s" % r)


# --- (4) max_connections ---------------------------------------------------

def scrape(port):
    """{name or name{labels}: value} from the aggregator's /metrics."""
    url = "http://127.0.0.1:%d/metrics" % port
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    return {m.group(1): float(m.group(2)) for m in
            re.finditer(r"^(\S+) (\S+)$", text, re.M)}


def refused(agg, sid, psk):
    """Connects and sends sid's HELLO: True when the aggregator closes the
    connection without a challenge (a challenge comes at once otherwise)."""
    s = socket.create_connection(("127.0.0.1", agg.port), timeout=WAIT)
    try:
        s.sendall(A.frame(HELLO, 0, hello_payload(sid, os.urandom(16)),
                          psk))
        return s.recv(64) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        s.close()


def conn_limit(tmp):
    limit = 3
    ids = ["one", "two", "three", "four"]
    keysfile, keys = A.make_keys(tmp, ids)
    psk = {sid: A.read_psk(keys[sid]) for sid in ids}
    conf = write_conf(tmp, "limit.conf", "[aggregator]\nmax_connections = "
                      "%d\nauth_timeout = %d\n" % (limit, AUTH_TIMEOUT))
    mport = A.free_port()
    agg = A.Aggregator(tmp, keysfile, os.path.join(tmp, "data4"), grace=3600,
                       extra=["-c", conf, "--metrics",
                              "127.0.0.1:%d" % mport]).start()
    over = 'teiten_connections_total{outcome="over_limit"}'
    evicted = 'teiten_connections_total{outcome="evicted"}'
    try:
        check(re.search(r"open file limit .*: at most %d connections" % limit,
                        agg.text()) is not None,
              "(4) the log says: at most %d connections" % limit)
        m = scrape(mport)
        check(m.get("teiten_connections_max") == limit and
              m.get("teiten_connections") == 0,
              "(4) metrics: %d allowed, none open: %s" %
              (limit, {k: m.get(k) for k in ("teiten_connections_max",
                                             "teiten_connections")}))
        sess = {sid: session(agg, sid, psk[sid]) for sid in ids[:3]}
        for sid in ids[:3]:
            rec = A.encode_record(sid, T0, STEP, {("tcp", 22): 1})
            check(store(*sess[sid], 1, rec, T0),
                  "(4) %s: authenticated, a record stored" % sid)
        check(scrape(mport).get("teiten_connections") == limit,
              "(4) metrics: %d connections open" % limit)
        check(refused(agg, "four", psk["four"]),
              "(4) a 4th connection, all 3 authenticated: closed before "
              "its challenge")
        m = scrape(mport)
        check(m.get(over) == 1 and m.get(evicted) == 0 and
              m.get("teiten_connections") == limit,
              "(4) metrics: 1 over the limit, none evicted, %d open: "
              "%s %s %s" % (limit, m.get(over), m.get(evicted),
                            m.get("teiten_connections")))
        check("%d connections: refusing more" % limit in agg.text(),
              "(4) the log says it refused one")
        # A slot freed and taken by a connection that does not
        # authenticate: the next sensor's connection takes it over.
        sess.pop("three")[0].close()
        check(wait_for(lambda: scrape(mport).get("teiten_connections") ==
                       limit - 1, WAIT, "a slot to free"),
              "(4) three's connection closed: %d open" % (limit - 1))
        idle, _ = session(agg, "three", psk["three"])
        check(scrape(mport).get("teiten_connections") == limit,
              "(4) an unauthenticated connection fills the table")
        s4 = session(agg, "four", psk["four"])
        rec = A.encode_record("four", T0, STEP, {("tcp", 22): 1})
        check(store(*s4, 1, rec, T0),
              "(4) four: with the table full, its record is stored")
        idle.settimeout(WAIT)
        try:
            gone = idle.recv(64) == b""
        except ConnectionResetError:
            gone = True
        check(gone, "(4) the unauthenticated connection was closed for it")
        idle.close()
        m = scrape(mport)
        check(m.get(evicted) == 1 and m.get(over) == 1 and
              m.get("teiten_connections") == limit,
              "(4) metrics: 1 evicted, still 1 over the limit, %d open" %
              limit)
        for sid in ("one", "two"):
            rec = A.encode_record(sid, T0 + STEP, STEP, {("tcp", 22): 1})
            check(store(*sess[sid], 2, rec, T0 + STEP),
                  "(4) %s: goes on storing" % sid)
        for s, _ in list(sess.values()) + [s4]:
            s.close()
        check(agg.stop() == 0, "(4) the aggregator stops on SIGTERM, exit 0")
    finally:
        agg.stop(signal.SIGKILL)
    r = report(agg)
    check(r is not None and r["refused"] == 1 and r["evicted"] == 1,
          "(4) the report: 1 over the limit, 1 evicted: %s" % r)


# --- (5) a new session replaces the old one ---------------------------------

def replaced(tmp):
    keysfile, keys = A.make_keys(tmp, ["moved"])
    psk = A.read_psk(keys["moved"])
    agg = A.Aggregator(tmp, keysfile, os.path.join(tmp, "data5"),
                       grace=3600).start()

    def rec(start):
        return A.encode_record("moved", start, STEP, {("tcp", 22): 1})
    try:
        s1, k1 = session(agg, "moved", psk)
        check(store(s1, k1, 1, rec(T0), T0), "(5) the first session stores")
        s2, k2 = session(agg, "moved", psk)
        check(store(s2, k2, 1, rec(T0 + STEP), T0 + STEP),
              "(5) a second session of the same sensor stores")
        A.expect_dropped(agg, s1, "(5) the first session, replaced,",
                         bound=WAIT)
        check(store(s2, k2, 2, rec(T0 + 2 * STEP), T0 + 2 * STEP),
              "(5) the new session goes on storing")
        s2.close()
        check(agg.stop() == 0, "(5) the aggregator stops on SIGTERM, exit 0")
    finally:
        agg.stop(signal.SIGKILL)
    check(re.search(r"sensor moved: replaced by a new session from "
                    r"127\.0\.0\.1:\d+; disconnected", agg.text()),
          "(5) the replaced session is logged")
    r = report(agg)
    check(r is not None and r["replaced"] == 1,
          "(5) the report counts 1 session replaced: %s" % r)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = REPLAYS + 512
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if not check(soft >= need, "open-file limit %d (need %d; the "
                 "aggregator raises its own to the same hard limit)" %
                 (soft, need)):
        return 1
    parts = sys.argv[1:] or ["never_reads", "replayed_hellos", "fd_limit",
                             "key_removal", "conn_limit", "replaced"]
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # the sensor writes its spool as nobody
        for name in parts:
            t = time.monotonic()
            try:
                globals()[name](tmp)
            except (AssertionError, OSError, subprocess.SubprocessError) as e:
                check(False, "%s: %s: %s" % (name, type(e).__name__, e))
            print("%s: %.1fs" % (name, time.monotonic() - t), flush=True)
        for log in sorted(os.listdir(tmp)):
            if FAILURES and log.startswith("aggregator-"):
                with open(os.path.join(tmp, log)) as f:
                    print("---- %s (tail) ----" % log)
                    print("".join(f.readlines()[-20:]))
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    require("rrdtool")
    sys.exit(main())
