"""Helpers for tests that run a real aggregator: keys, free ports, starting
and stopping teiten-aggregator and rrdcached, waiting for finality,
reading RRDs back with the rrdtool command line (never with librrd), and
the archive, the record format and the protocol of man/teiten-protocol.7
(Client: one sensor's session) written from scratch, without teiten code."""

import collections
import errno
import glob
import hashlib
import hmac
import math
import os
import selectors
import signal
import socket
import struct
import subprocess
import time

import teiten_testlib as T


def aggregator_path():
    return os.environ["TEITEN_AGGREGATOR"]


def gencap_path():
    return os.environ["TEITEN_GENCAP"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_keys(tmp, ids):
    """One key file per sensor and the aggregator's keys file, mode 600."""
    keys = {}
    lines = []
    for sid in ids:
        key = os.urandom(32).hex()
        path = os.path.join(tmp, sid + ".key")
        with open(path, "w") as f:
            f.write(key + "\n")
        os.chmod(path, 0o600)
        keys[sid] = path
        lines.append("%s %s\n" % (sid, key))
    kf = os.path.join(tmp, "sensors.keys")
    with open(kf, "w") as f:
        f.write("# test sensors\n" + "".join(lines))
    os.chmod(kf, 0o600)
    return kf, keys


def gencap(path, packets, duration, start, seed, extra=()):
    subprocess.run([gencap_path(), "-o", path, "-c", str(packets), "-d",
                    str(duration), "-t", str(start), "-S", str(seed)] +
                   list(extra), check=True)


def wait_listen(port, proc, timeout=10):
    """Until something accepts on 127.0.0.1:port; proc must not exit."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("process exited with %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listens on port %d" % port)


def no_asan_quarantine(*more):
    """Sets ASAN_OPTIONS, for the processes started from now on, without
    AddressSanitizer's quarantine: freed memory waits there (up to 256
    MiB) before reuse and would be measured as the aggregator's own.
    more: other options to add.  Returns the old value, None if unset."""
    old = os.environ.get("ASAN_OPTIONS")
    opts = ["quarantine_size_mb=0", "thread_local_quarantine_size_kb=0"]
    os.environ["ASAN_OPTIONS"] = ":".join(([old] if old else []) + opts +
                                          list(more))
    return old


def last_final(datadir):
    try:
        with open(os.path.join(datadir, "last_final")) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def wait_path_final(datadir, start, timeout=60):
    """Until DATADIR/last_final reaches start; False after timeout
    seconds without progress."""
    deadline, seen = time.time() + timeout, None
    while time.time() < deadline:
        lf = last_final(datadir)
        if lf is not None and lf >= start:
            return True
        if lf != seen:
            deadline, seen = time.time() + timeout, lf
        time.sleep(0.2)
    return False


class Aggregator:
    """A teiten-aggregator process in the foreground, logging to a file."""

    def __init__(self, tmp, keys, datadir, grace=2, extra=(), port=None):
        self.port = port or free_port()
        self.addr = "127.0.0.1:%d" % self.port
        self.datadir = datadir
        self.log = os.path.join(tmp, "aggregator-%d.log" % self.port)
        self.cmd = [aggregator_path(), "-f", "-l", self.addr, "-d", datadir,
                    "-K", keys, "--grace", str(grace)] + list(extra)
        self.proc = None

    def start(self):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen(self.cmd, stdout=logf, stderr=logf)
        logf.close()
        try:
            wait_listen(self.port, self.proc)
        except AssertionError as e:
            raise AssertionError("aggregator: %s: %s" % (e, self.text()))
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None or self.proc.poll() is not None:
            return None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def text(self):
        with open(self.log) as f:
            return f.read()

    def last_final(self):
        return last_final(self.datadir)

    def wait_final(self, start, timeout=60):
        """Until the RRDs hold interval start (DATADIR/last_final), failing
        after timeout seconds without progress: writing many intervals
        under a sanitizer on a loaded machine takes long, but it moves."""
        if not wait_path_final(self.datadir, start, timeout):
            raise AssertionError("interval %d not final after %ds without "
                                 "progress (last %s)" %
                                 (start, timeout, self.last_final()))

    def caught_up(self):
        """No late record waits: DATADIR/catchup is gone (it is written
        before a late record is acknowledged) and the last catch-up line
        of the log says done."""
        if os.path.exists(os.path.join(self.datadir, "catchup")):
            return False
        lines = [ln for ln in self.text().splitlines() if "catch-up" in ln]
        return not lines or "catch-up done" in lines[-1]

    def settle(self, start, timeout=60):
        """Until interval start is final and any late records are applied.
        A replay that lags behind the others on a busy machine sends
        records for intervals already final: they reach the RRDs through
        a catch-up, which this waits for (timeout: seconds without a new
        catch-up line in the log)."""
        self.wait_final(start, timeout)
        seen, since = None, time.time()
        while not self.caught_up():
            lines = [ln for ln in self.text().splitlines()
                     if "catch-up" in ln]
            if lines != seen:
                seen, since = lines, time.time()
            elif time.time() - since > timeout:
                raise AssertionError("late records not applied after %ds "
                                     "without progress" % timeout)
            time.sleep(0.2)


def run_sensor_to(agg, sid, keyfile, pcap, spool, interval=60, check=True):
    p = subprocess.run([T.sensor_path(), "-r", pcap, "-a", agg.addr, "-s",
                        sid, "-K", keyfile, "--spool", spool, "-n",
                        str(interval)], capture_output=True, text=True,
                       timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("sensor %s exited %d: %s" % (sid, p.returncode,
                                                          p.stderr))
    return p


def replay_all(agg, caps, keys, tmp, interval=60):
    """Every sensor replays its capture at once, as a fleet does, so that
    an interval is final when all have reported it rather than when the
    grace period runs out.  Returns {sensor: (exit status, stderr)}."""
    procs = [(sid, subprocess.Popen(
        [T.sensor_path(), "-r", caps[sid], "-a", agg.addr, "-s", sid,
         "-K", keys[sid], "--spool", os.path.join(tmp, "spool-" + sid),
         "-n", str(interval)], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)) for sid in caps]
    done = {}
    for sid, p in procs:
        err = p.communicate(timeout=120)[1]
        done[sid] = (p.returncode, err)
    return done


def replay_datadir(tmp, caps, interval=60, grace=5, log_tail=0):
    """DATADIR tmp/data as a real aggregator writes it from every capture
    of caps ({sensor: pcap}, replayed at once), and the values expected
    there from the sensors' --print output alone: (datadir, averages,
    reporters).  log_tail: characters of the aggregator's log to print
    at the end."""
    keysfile, keys = make_keys(tmp, list(caps))
    prints = [sensor_print(caps[s], interval) for s in caps]
    avgs, reporters = expected_averages(prints, interval)
    datadir = os.path.join(tmp, "data")
    agg = Aggregator(tmp, keysfile, datadir, grace=grace,
                     extra=["-n", str(interval)]).start()
    try:
        for sid, (rc, err) in sorted(
                replay_all(agg, caps, keys, tmp, interval).items()):
            T.check(rc == 0, "sensor %s replays (%s)" %
                    (sid, "exit 0" if rc == 0 else err[-300:]))
        # Late records, if a replay lagged, are applied before the checks.
        agg.settle(max(reporters))
    finally:
        agg.stop()
        if log_tail:
            print(agg.text()[-log_tail:])
    return datadir, avgs, reporters


def sensor_print(pcap, interval=60):
    return T.parse_print(T.run_sensor(["-r", pcap, "-n", str(interval),
                                       "--print"]).stdout)


def expected_averages(prints, interval=60):
    """doc/CONTRACTS.md contract 4 from --print outputs:
    {(start, proto, key): avg} and the number of reporting sensors per
    interval.  A sensor reports every interval from its first to its last,
    empty ones included."""
    reporters = collections.Counter()
    sums = collections.Counter()
    for counts in prints:
        starts = [k[0] for k in counts]
        for s in range(min(starts), max(starts) + interval, interval):
            reporters[s] += 1
        for k, n in counts.items():
            sums[k] += n
    avgs = {k: n / reporters[k[0]] for k, n in sums.items()}
    return avgs, reporters


def rrd_fetch(path, start, end, step=60, daemon=None):
    """{row time: value or None} from `rrdtool fetch`."""
    cmd = ["rrdtool", "fetch", path, "AVERAGE", "-r", str(step), "-s",
           str(start), "-e", str(end)]
    if daemon:
        cmd[2:2] = ["--daemon", daemon]
    out = subprocess.run(cmd, check=True, capture_output=True,
                         text=True).stdout
    rows = {}
    for line in out.splitlines():
        if ":" not in line:
            continue
        t, vals = line.split(":", 1)
        v = vals.split()[0]
        rows[int(t)] = None if "nan" in v.lower() else float(v)
    return rows


def rrd_fetch_ds(path, start, end, step=60):
    """{DS name: {row time: value or None}} from `rrdtool fetch`."""
    out = subprocess.run(["rrdtool", "fetch", path, "AVERAGE", "-r",
                          str(step), "-s", str(start), "-e", str(end)],
                         check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()
    names = lines[0].split()
    got = {n: {} for n in names}
    for line in lines[1:]:
        if ":" not in line:
            continue
        t, vals = line.split(":", 1)
        for n, v in zip(names, vals.split()):
            got[n][int(t)] = None if "nan" in v.lower() else float(v)
    return got


def fault_totals(datadir, sid, start, end, step=60):
    """A sensor's DATADIR/faults/<id>.rrd summed over [start, end]: each
    DS name with its total, unknown rows counting 0."""
    got = rrd_fetch_ds(os.path.join(datadir, "faults", sid + ".rrd"),
                       start, end, step)
    return {n: sum(v for v in rows.values() if v is not None)
            for n, rows in got.items()}


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs",
                    path], check=True)


def umount(path):
    if subprocess.run(["umount", path]).returncode != 0:
        subprocess.run(["umount", "-l", path])


def fill(path):
    """A file taking all the space left on path's file system."""
    name = os.path.join(path, "filler")
    with open(name, "wb", buffering=0) as f:
        for chunk in (1 << 20, 4096, 512, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
    return name


def vm_hwm(pid):
    """A process's peak resident memory in bytes (VmHWM), 0 if unknown."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def close(a, b):
    return a is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


TOTALS = ["tcp", "udp", "icmp", "icmp6", "fragment", "other", "nonip",
          "malformed", "unmonitored", "syn", "synack", "rst", "tcpother",
          "late", "drops", "spooldrops"]


def record_head(b):
    """(sensor, start, length, {total: value}) of an encoded record, read
    per man/teiten-protocol.7 (the entries are not needed here); versions
    1 and 2 are the same up to the totals."""
    if b[0] not in (1, 2):
        raise ValueError("record version %d" % b[0])
    idlen = b[1]
    sensor = b[2:2 + idlen].decode()
    off = 2 + idlen
    z, off = varint_get(b, off)
    start = unzigzag(z)
    length, off = varint_get(b, off)
    _naddrs, off = varint_get(b, off)
    totals = {}
    for name in TOTALS:
        totals[name], off = varint_get(b, off)
    return sensor, start, length, totals


def archive_records(datadir):
    """Every archived record as (sensor, start, length, totals)."""
    out = []
    for path in sorted(glob.glob(os.path.join(datadir, "archive", "*.arc"))):
        with open(path, "rb") as f:
            data = f.read()
        off = 0
        while off + 8 <= len(data):
            (length,) = struct.unpack_from(">I", data, off)
            out.append(record_head(data[off + 8:off + 8 + length]))
            off += 8 + length
    return out


# --- The archive and the record format, read without teiten code --------

PROTOS = ("tcp", "udp", "icmp", "icmp6")
NTOTALS = 16


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli), as the archive frames its entries."""
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint_put(v):
    """LEB128: 7 bits a byte, low group first, high bit = more follow."""
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def varint_get(data, off):
    v = shift = 0
    while True:
        b = data[off]
        off += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, off


def zigzag(v):
    return v * 2 if v >= 0 else -v * 2 - 1


def unzigzag(v):
    return v >> 1 if not v & 1 else -(v >> 1) - 1


HLL_SP = 26  # index bits of a sparse sketch word


def sketch_get(data, off, p):
    """One sketch of precision p at data[off:] (common/hll.c's encoding,
    man/teiten-protocol.7), checked as hll_decode() checks it:
    (("sparse", [words]) or ("dense", [2^p registers]), offset past it)."""
    t, off = varint_get(data, off)
    if t == 0:
        m = 1 << p
        n = 6 * m // 8
        if off + n > len(data):
            raise ValueError("sketch registers cut short")
        bits = int.from_bytes(data[off:off + n], "little")
        regs = [bits >> (6 * i) & 63 for i in range(m)]
        if max(regs) > 65 - p:
            raise ValueError("sketch register out of range")
        return ("dense", regs), off + n
    if t - 1 > (1 << p) // 8:
        raise ValueError("sparse sketch too large for its precision")
    words = []
    for _ in range(t - 1):
        v, off = varint_get(data, off)
        w = words[-1] + v + 1 if words else v
        if w >= 1 << 32 or not 1 <= w & 63 <= 64 - HLL_SP + 1:
            raise ValueError("bad sparse sketch word")
        if words and w >> 6 <= words[-1] >> 6:
            raise ValueError("sparse sketch words out of order")
        words.append(w)
    return ("sparse", words), off


def _ertl_sigma(x):
    if x == 1:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        zp = z
        z += x * y
        y += y
        if z == zp:
            return z


def _ertl_tau(x):
    if x in (0, 1):
        return 0.0
    y, z = 1.0, 1 - x
    while True:
        x = math.sqrt(x)
        zp = z
        y *= 0.5
        z -= (1 - x) * (1 - x) * y
        if z == zp:
            return z / 3


def sketch_estimate(sketch, p):
    """Distinct items of a sketch from sketch_get(), as hll_estimate()
    computes it: linear counting over the 2^26 sparse indices, or Ertl's
    estimator over the dense registers."""
    kind, v = sketch
    if kind == "sparse":
        sm = float(1 << HLL_SP)
        return sm * math.log(sm / (sm - len(v)))
    m, q = 1 << p, 64 - p
    c = [0] * 66
    for r in v:
        c[r] += 1
    z = m * _ertl_tau(1 - c[q + 1] / m)
    for k in range(q, 0, -1):
        z = 0.5 * (z + c[k])
    z += m * _ertl_sigma(c[0] / m)
    return m * (m / (2 * math.log(2))) / z


def decode_record(raw):
    """An encoded record (common/record.c), version 1 or 2, as a dict:
    version, sensor, start, len, naddrs, totals (16), counts {(proto, key):
    packets}; version 2 adds sketch_p, keyid (bytes), all_src, all_dst and
    sketches {(proto, key): (src, dst)}, each sketch as sketch_get() gives
    it (sketch_p 0 and no sketches in version 1)."""
    if raw[0] not in (1, 2):
        raise ValueError("record version %d" % raw[0])
    idlen = raw[1]
    rec = {"version": raw[0], "sensor": raw[2:2 + idlen].decode(),
           "sketch_p": 0, "keyid": None, "all_src": None, "all_dst": None,
           "sketches": {}}
    off = 2 + idlen
    v, off = varint_get(raw, off)
    rec["start"] = unzigzag(v)
    rec["len"], off = varint_get(raw, off)
    rec["naddrs"], off = varint_get(raw, off)
    totals = []
    for _ in range(NTOTALS):
        v, off = varint_get(raw, off)
        totals.append(v)
    rec["totals"] = totals
    p = 0
    if rec["version"] == 2:
        p = rec["sketch_p"] = raw[off]
        if not 4 <= p <= 18:
            raise ValueError("bad sketch precision")
        rec["keyid"] = bytes(raw[off + 1:off + 9])
        off += 9
        rec["all_src"], off = sketch_get(raw, off, p)
        rec["all_dst"], off = sketch_get(raw, off, p)
    counts = {}
    for proto in PROTOS:
        n, off = varint_get(raw, off)
        key = -1
        for _ in range(n):
            gap, off = varint_get(raw, off)
            packets, off = varint_get(raw, off)
            key += 1 + gap
            counts[(proto, key)] = packets
            if p:
                src, off = sketch_get(raw, off, p)
                dst, off = sketch_get(raw, off, p)
                rec["sketches"][(proto, key)] = (src, dst)
    if off != len(raw):
        raise ValueError("trailing bytes in a record")
    rec["counts"] = counts
    return rec


def encode_record(sensor, start, length, counts, naddrs=0):
    """An encoded record from {(proto, key): packets}; the keyed totals are
    their sums, the other twelve totals 0."""
    sid = sensor.encode()
    per = {p: sorted((k, n) for (pp, k), n in counts.items() if pp == p)
           for p in PROTOS}
    totals = [sum(n for _, n in per[p]) for p in PROTOS] + [0] * 12
    out = bytes([1, len(sid)]) + sid + varint_put(zigzag(start))
    out += varint_put(length) + varint_put(naddrs)
    out += b"".join(varint_put(t) for t in totals)
    for p in PROTOS:
        out += varint_put(len(per[p]))
        prev = -1
        for key, n in per[p]:
            out += varint_put(key - prev - 1) + varint_put(n)
            prev = key
    return out


def read_archive(datadir, check_crc=True):
    """The intact entries of DATADIR/archive/*.arc (u32 BE length | u32 BE
    CRC-32C | record), as a list of (file start, raw record), and the
    number of files whose tail is damaged (what follows a damaged entry
    is ignored, as the aggregator itself does)."""
    entries, damaged = [], 0
    adir = os.path.join(datadir, "archive")
    try:
        names = os.listdir(adir)
    except FileNotFoundError:
        return entries, damaged
    for name in names:
        if not name.endswith(".arc"):
            continue
        fstart = int(name[:-4])
        try:
            with open(os.path.join(adir, name), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        off = 0
        while off < len(data):
            if off + 8 > len(data):
                damaged += 1
                break
            length, crc = struct.unpack_from(">II", data, off)
            raw = data[off + 8:off + 8 + length]
            if length == 0 or len(raw) != length or \
                    (check_crc and crc32c(raw) != crc):
                damaged += 1
                break
            entries.append((fstart, raw))
            off += 8 + length
    return entries, damaged


# --- The protocol of man/teiten-protocol.7, written from scratch ----------
# (hmac/hashlib): frame = 'TT' | version 1 | type | u32 length | u64 seq |
# payload | HMAC-SHA-256.

HELLO, CHALLENGE, RECORD, ACK = 1, 2, 3, 4
STORED, DUPLICATE, REJECTED, REFUSED = 0, 1, 2, 3  # ACK status


def read_psk(path):
    """A sensor's key file as the 32-byte key."""
    with open(path) as f:
        return bytes.fromhex(f.read().strip())


def frame(ftype, seq, payload, key):
    head = b"TT" + bytes([1, ftype]) + struct.pack(">IQ", len(payload), seq)
    return head + payload + hmac.new(key, head + payload,
                                     hashlib.sha256).digest()


def session_key(psk, client, server):
    return hmac.new(psk, b"teiten-session-v1" + client + server,
                    hashlib.sha256).digest()


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise AssertionError("connection closed after %d of %d bytes" %
                                 (len(buf), n))
        buf += chunk
    return buf


def read_frame(sock, key):
    """(type, seq, payload) of the next frame, its MAC checked."""
    head = recv_exact(sock, 16)
    if head[:3] != b"TT\x01":
        raise AssertionError("not a frame: %r" % head)
    length, seq = struct.unpack(">IQ", head[4:])
    body = recv_exact(sock, length + 32)
    payload, mac = body[:length], body[length:]
    want = hmac.new(key, head + payload, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, want):
        raise AssertionError("frame of type %d with a bad MAC" % head[3])
    return head[3], seq, payload


def connect(agg):
    s = socket.create_connection(("127.0.0.1", agg.port), timeout=10)
    return s


def handshake(agg, sid, psk):
    """A connection past the handshake, and its session key."""
    s = connect(agg)
    client = os.urandom(16)
    s.sendall(frame(HELLO, 0, bytes([len(sid)]) + sid.encode() + client,
                    psk))
    # The challenge's MAC is made with the session key, which needs the
    # server nonce it carries: read it raw, then check it.
    head = recv_exact(s, 16)
    length, seq = struct.unpack(">IQ", head[4:])
    body = recv_exact(s, length + 32)
    if head[3] != CHALLENGE or seq != 0 or length != 16:
        raise AssertionError("expected a challenge, got type %d seq %d "
                             "len %d" % (head[3], seq, length))
    key = session_key(psk, client, body[:16])
    want = hmac.new(key, head + body[:16], hashlib.sha256).digest()
    if not hmac.compare_digest(body[16:], want):
        raise AssertionError("challenge with a bad MAC")
    return s, key


def closed_by_peer(s, bound):
    """(closed, bytes received first, seconds waited): recv until b'' or
    ECONNRESET, at most bound seconds."""
    t0 = time.monotonic()
    got = b""
    while True:
        left = bound - (time.monotonic() - t0)
        if left <= 0:
            return False, got, time.monotonic() - t0
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return False, got, time.monotonic() - t0
        except ConnectionResetError:
            return True, got, time.monotonic() - t0
        if not chunk:
            return True, got, time.monotonic() - t0
        got += chunk


def expect_dropped(agg, s, what, bound=5.0, lo=0.0):
    closed, got, waited = closed_by_peer(s, bound)
    T.check(closed and not got and waited >= lo,
            "%s: closed by the aggregator after %.1fs%s%s" %
            (what, waited, "" if closed else " (NOT within %gs)" % bound,
             ", having sent %d bytes" % len(got) if got else ""))
    s.close()
    T.check(agg.proc.poll() is None, "%s: the aggregator still runs" % what)


def ack_of(payload):
    status = payload[0]
    v, off = varint_get(payload, 1)
    return status, unzigzag(v)


def wait_closed(socks, bound):
    """{socket: time closed by the peer}, waiting at most bound seconds."""
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    closed, data = {}, 0
    deadline = time.monotonic() + bound
    while sel.get_map() and time.monotonic() < deadline:
        for k, _ in sel.select(timeout=1):
            s = k.fileobj
            try:
                chunk = s.recv(4096)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                chunk = b""
            if chunk:
                data += len(chunk)
                continue
            closed[s] = time.monotonic()
            sel.unregister(s)
    sel.close()
    return closed, data


class Client:
    """One authenticated session of sensor sid, a record at a time."""

    def __init__(self, agg, sid, psk):
        self.sid = sid
        self.sock, self.key = handshake(agg, sid, psk)
        self.seq = 1

    def send(self, start, length, counts):
        """counts: {(proto, key): packets}; see send_raw."""
        return self.send_raw(encode_record(self.sid, start, length, counts))

    def send_raw(self, rec):
        """Sends an encoded record and reads its ACK: (status, start,
        reason), reason (its last byte) only when refused, else 0."""
        self.sock.sendall(frame(RECORD, self.seq, rec, self.key))
        self.seq += 1
        ftype, _, payload = read_frame(self.sock, self.key)
        if ftype != ACK:
            raise AssertionError("expected an ACK, got type %d" % ftype)
        status, got = ack_of(payload)
        return status, got, payload[-1] if status == REFUSED else 0

    def close(self):
        self.sock.close()
