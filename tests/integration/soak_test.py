"""Soak (issue 8): 1,000 simulated sensors (tests/bench/loadgen, one record
per sensor per 10 s interval) feed a real aggregator for SOAK_SECONDS
(default 90) while misbehaving clients strike, each at a random moment:

  - a sensor whose clock says 2035, one that sends start 0 and -10;
  - a sensor three intervals fast (its records are good and count);
  - a client that sends records without ever reading its acknowledgements;
  - 2,000 connections replaying one captured HELLO;
  - garbage bytes, a frame with a bad MAC, an undecodable record;
  - a sensor whose key is removed (SIGHUP) while it is connected.

Afterwards, for every interval of the run, the RRDs of 40 keys and
sensors.rrd must equal what this test computes from what was sent and
acknowledged as stored: loadgen logs each template's counts and each
acknowledgement, the Python clients keep their own.  The aggregator's peak
RSS and loadgen's acknowledgement latency are printed."""

import collections
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import hostile_test as H  # noqa: E402

STEP = 10
SENSORS = 1000
PROTOS = ["tcp", "udp", "icmp", "icmp6"]
check = H.check
Y2035 = 2051222400


class Faults:
    """The misbehaving clients, and the good records they had stored."""

    def __init__(self, agg, psk, kf, template):
        self.agg, self.psk, self.kf = agg, psk, kf
        self.template = template  # {(proto, key): packets}
        self.stored = []  # (start, counts) acknowledged as stored
        self.errors = []
        self.held = []  # sockets kept open to be checked at the end

    def session(self, sid):
        return Client(self.agg, sid, self.psk[sid])

    def bad_clock(self):
        c = self.session("badclock")
        for start, reason in ((Y2035, 1), (0, 2), (-10, 2)):
            got = c.send(start, {("tcp", 1): 999999})
            if got != (3, start, reason):
                self.errors.append("bad clock %d: %s" % (start, got))
        c.close()

    def fast(self):
        c = self.session("fast")
        now = int(time.time()) // STEP * STEP
        for k in range(3, 6):
            start = now + k * STEP
            got = c.send(start, self.template)
            if got[0] == 0:
                self.stored.append((start, self.template))
            else:
                self.errors.append("fast sensor %d: %s" % (start, got))
        c.close()

    def noread(self):
        c = self.session("noread")
        rec = A.encode_record("noread", 1700000000 // STEP * STEP, STEP,
                              {("tcp", 2): 1})
        c.sock.setblocking(False)
        sent = 0
        deadline = time.time() + 20
        while time.time() < deadline and sent < 50000:
            data = H.frame(H.RECORD, c.seq, rec, c.key)
            try:
                c.sock.send(data)
            except BlockingIOError:
                time.sleep(0.05)  # the kernel's buffers are full: pushed
                continue
            c.seq += 1
            sent += 1
        self.held.append(c.sock)

    def hello_flood(self):
        sock = socket.create_connection(("127.0.0.1", self.agg.port))
        hello = H.frame(H.HELLO, 0, b"\x06replay" + os.urandom(16),
                        self.psk["replay"])
        sock.close()
        for _ in range(2000):
            try:
                s = socket.create_connection(("127.0.0.1", self.agg.port),
                                             timeout=5)
                s.sendall(hello)
                self.held.append(s)
            except OSError as e:
                self.errors.append("hello flood: %s" % e)
                break

    def garbage(self):
        s = socket.create_connection(("127.0.0.1", self.agg.port))
        s.sendall(os.urandom(4096))
        s.close()
        c = self.session("garbage")
        rec = A.encode_record("garbage", 1700000000 // STEP * STEP, STEP,
                              {("tcp", 3): 1})
        bad = bytearray(H.frame(H.RECORD, c.seq, rec, c.key))
        bad[20] ^= 1
        c.sock.sendall(bytes(bad))
        c.close()
        c = self.session("garbage")
        got = c.send_raw(b"\x01\x07garbage" + os.urandom(40))
        if got[0] != 2:
            self.errors.append("undecodable record: %s" % (got,))
        c.close()

    def revoke(self):
        c = self.session("revoked")
        start = int(time.time()) // STEP * STEP
        got = c.send(start, self.template)
        if got[0] == 0:
            self.stored.append((start, self.template))
        with open(self.kf) as f:
            lines = [ln for ln in f if not ln.startswith("revoked ")]
        with open(self.kf, "w") as f:
            f.writelines(lines)
        self.agg.proc.send_signal(signal.SIGHUP)
        closed, _, waited = H.closed_by_peer(c.sock, 10)
        if not closed:
            self.errors.append("revoked sensor still connected after 10 s")
        c.close()


class Client:
    def __init__(self, agg, sid, psk):
        self.sid = sid
        self.sock, self.key = H.handshake(agg, sid, psk)
        self.seq = 1

    def send(self, start, counts):
        return self.send_raw(A.encode_record(self.sid, start, STEP, counts))

    def send_raw(self, rec):
        self.sock.sendall(H.frame(H.RECORD, self.seq, rec, self.key))
        self.seq += 1
        ftype, _, payload = H.read_frame(self.sock, self.key)
        status, start = H.ack_of(payload)
        return status, start, payload[-1] if status == 3 else 0

    def close(self):
        self.sock.close()


def read_log(path):
    templates = collections.defaultdict(dict)
    acks = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if p[0] == "T":
                templates[int(p[1])][(PROTOS[int(p[2])], int(p[3]))] = \
                    int(p[4])
            elif p[0] == "A":
                acks.append((p[1], int(p[2]), int(p[3]), int(p[4])))
    return templates, acks



def main():
    # Under AddressSanitizer, freed memory waits in a quarantine of up to
    # 256 MiB, which would count as the aggregator's: none here.
    os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                                  ":quarantine_size_mb=0"
                                  ":thread_local_quarantine_size_kb=0"
                                  ).lstrip(":")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    loadgen = os.environ["TEITEN_LOADGEN"]
    seconds = float(os.environ.get("SOAK_SECONDS", "90"))
    rng = random.Random(int(os.environ.get("SOAK_SEED", "8")))
    with tempfile.TemporaryDirectory() as tmp:
        kf = os.path.join(tmp, "sensors.keys")
        subprocess.run([loadgen, "--write-keys", kf, "-n", str(SENSORS),
                        "--seed", "5"], check=True)
        extra = ["badclock", "fast", "noread", "replay", "garbage",
                 "revoked"]
        psk = {sid: os.urandom(32) for sid in extra}
        with open(kf, "a") as f:
            for sid in extra:
                f.write("%s %s\n" % (sid, psk[sid].hex()))
        os.chmod(kf, 0o600)
        datadir = os.path.join(tmp, "data")
        # Nothing here waits for grace: every interval is final because
        # the fleet reported it; grace only bounds a slow machine.
        agg = A.Aggregator(tmp, kf, datadir, grace=60,
                           extra=["-n", str(STEP), "--active", "30",
                                  "--auth-timeout", "60"])
        agg.start()
        log = os.path.join(tmp, "loadgen.log")
        lg = subprocess.Popen(
            [loadgen, "-a", agg.addr, "-n", str(SENSORS), "--seed", "5",
             "--rate", str(SENSORS / STEP), "--duration", str(seconds),
             "--keys", "60", "--pool", "8", "--interval", str(STEP),
             "--no-hold", "--drain", "60", "--log", log,
             # Two intervals ahead (well within the aggregator's skew), so
             # that every sensor has reported an interval before it ends
             # and none is final with only the first few sensors heard.
             "--start", str((int(time.time()) // STEP + 3) * STEP)],
            stdout=subprocess.PIPE, text=True)
        faults = None
        try:
            line = lg.stdout.readline()
            check(line.startswith("ready"), "loadgen: %s" % line.strip())
            go = lg.stdout.readline()
            check(go.strip() == "go", "loadgen starts its timed phase")
            templates, _ = read_log(log)
            faults = Faults(agg, psk, kf, templates[0])
            plan = [faults.bad_clock, faults.fast, faults.noread,
                    faults.hello_flood, faults.garbage, faults.revoke]
            threads = []
            for fn in plan:
                delay = rng.uniform(0.1, 0.6) * seconds
                t = threading.Timer(delay, fn)
                t.start()
                threads.append(t)
            out = lg.communicate(timeout=seconds + 300)[0]
            for t in threads:
                t.join()
            res = json.loads(out.strip().splitlines()[-1])
            print("loadgen: %d sensors, %d records stored, ack latency p50 "
                  "%.1f ms, p99 %.1f ms, max %.1f ms" %
                  (res["connected"], res["stored"], res["lat_p50_ms"],
                   res["lat_p99_ms"], res["lat_max_ms"]))
            check(lg.returncode == 0 and res["dead"] == 0 and
                  res["lost"] == 0 and res["rejected"] == 0,
                  "loadgen: every sensor stayed connected and every record "
                  "was acknowledged (exit %d, dead %d, lost %d)" %
                  (lg.returncode, res["dead"], res["lost"]))
            check(res["lat_p99_ms"] < 1000,
                  "well-behaved sensors' ack latency p99 %.1f ms < 1 s" %
                  res["lat_p99_ms"])
            check(not faults.errors, "misbehaving clients got the answers "
                  "the protocol gives: %s" % faults.errors)
            templates, acks = read_log(log)
            sums = collections.defaultdict(collections.Counter)
            reporters = collections.Counter()
            for sid, start, status, tpl in acks:
                if status == 0:
                    sums[start].update(templates[tpl])
                    reporters[start] += 1
            for start, counts in faults.stored:
                sums[start].update(counts)
                reporters[start] += 1
            last = max(reporters)
            agg.wait_final(last, timeout=120)
            hwm = A.vm_hwm(agg.proc.pid)
            print("aggregator peak RSS %.1f MiB" % (hwm / 1048576))
            check(hwm < 256 << 20, "aggregator peak RSS %.1f MiB < 256 MiB" %
                  (hwm / 1048576))
            for s in faults.held:
                s.close()
            check(agg.stop() == 0, "the aggregator stops on SIGTERM")
        finally:
            if lg.poll() is None:
                lg.kill()
            agg.stop(signal.SIGKILL)
        first = min(reporters)
        sens = A.rrd_fetch(os.path.join(datadir, "rrd", "sensors.rrd"),
                           first, last + STEP, STEP)
        bad = [(s, sens.get(s + STEP), n) for s, n in sorted(reporters.items())
               if not A.close(sens.get(s + STEP), n)]
        check(not bad, "sensors.rrd over %d intervals counts the sensors "
              "whose records were stored (%d differ: %s)" %
              (len(reporters), len(bad), bad[:5]))
        allkeys = sorted({k for c in sums.values() for k in c})
        sample = random.Random(3).sample(allkeys, min(40, len(allkeys)))
        bad = []
        for proto, key in sample:
            rows = A.rrd_fetch(os.path.join(datadir, "rrd", proto,
                                            "%d.rrd" % key),
                               first, last + STEP, STEP)
            for s, n in reporters.items():
                want = sums[s][(proto, key)] / n
                if not A.close(rows.get(s + STEP), want):
                    bad.append((proto, key, s, rows.get(s + STEP), want))
        check(not bad, "40 keys over %d intervals hold the averages of the "
              "stored records (%d values differ: %s)" %
              (len(reporters), len(bad), bad[:4]))
        lf = A.last_final(datadir)
        check("refused" in agg.text() and lf is not None and
              lf <= time.time(),
              "refusals are logged and last_final (%s) is not in the "
              "future" % lf)
    print("%d failures" % len(H.FAILURES))
    return 1 if H.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
