"""Soak (issue 8): SOAK_SENSORS (default 1,000) simulated sensors
(tests/bench/loadgen, one record per sensor per 10 s interval) feed a real
aggregator for SOAK_SECONDS (default 90) while misbehaving clients and
disk faults strike, each at a random moment (SOAK_SEED):

  - a sensor whose clock says 2035, one that sends start 0 and -10;
  - a sensor three intervals fast (its records are good and count);
  - a client that sends records without ever reading its acknowledgements;
  - 2,000 connections replaying one captured HELLO;
  - garbage bytes, a frame with a bad MAC, an undecodable record;
  - a sensor whose key is removed (SIGHUP) while it is connected;
  - DATADIR (a tmpfs: this needs root) full for 6 to 12 s (up to 15 s
    more, until an interval's RRD job fails too), then space again:
    records cannot be archived, so none is acknowledged and the sensors
    reconnect and resend; RRD, summary and last_final writes are retried;
  - fsync failing for 2 to 6 s (the failsync shim): the aggregator must
    stop, acknowledging nothing; it is started again on the same DATADIR
    while fsync still fails (and must stop again) and once it works.

loadgen --reconnect resends, after a backoff, each record whose
acknowledgement it did not get, as a sensor resends from its spool.
Afterwards, without `rebuild`, the RRDs of 40 keys and sensors.rrd must
equal, for every interval of the run, what this test computes from what
was acknowledged as stored (or as a duplicate of an earlier send): loadgen
logs each template's counts and each acknowledgement, the Python clients
keep their own.  The aggregator's peak RSS (highest of all its processes)
and the well-behaved sensors' acknowledgement latency (p99 under 1 s,
from the send that was acknowledged; from the first send is printed too)
are checked.  SOAK_DISK=0 leaves out the disk faults (and the need for
root); SOAK_SENSORS=10000 is the issue's 10,000-sensor run, by hand or
`meson test --benchmark soak10k`; SOAK_KEEP=DIR keeps the aggregator's and
loadgen's logs there."""

import collections
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
from teiten_testlib import FAILURES, check, wait_for  # noqa: E402

STEP = 10
PROTOS = ["tcp", "udp", "icmp", "icmp6"]
Y2035 = 2051222400


class Faults:
    """The misbehaving clients, and the good records they had stored.

    A disk fault (Disk below) closes connections or stops the aggregator
    under a client; a client that fails while one was under way is run
    again once the aggregator serves, resending what it had not had
    acknowledged (a duplicate acknowledgement then means held), as a real
    sensor would.  A failure with no disk fault about is an error."""

    def __init__(self, agg, psk, kf, template, disk):
        self.agg, self.psk, self.kf = agg, psk, kf
        self.template = template  # {(proto, key): packets}
        self.disk = disk
        self.stored = []  # (start, counts) acknowledged as stored or held
        self.errors = []
        self.retried = []
        self.held = []  # sockets kept open to be checked at the end
        self.fast_starts = None
        self.tried = set()  # (sid, start) sent at least once
        self.revoke_start = None
        self.revoked = False

    def guarded(self, fn):
        def run():
            for _ in range(10):
                epoch = self.disk.epoch
                try:
                    fn()
                    return
                except (OSError, AssertionError) as e:
                    if self.disk.epoch == epoch and not self.disk.busy:
                        self.errors.append("%s: %s" % (fn.__name__, e))
                        return
                    self.retried.append("%s: %s" % (fn.__name__, e))
                self.disk.wait_serving()
            self.errors.append("%s: failed 10 times" % fn.__name__)
        return run

    def session(self, sid):
        return A.Client(self.agg, sid, self.psk[sid])

    def send_held(self, c, start, counts):
        """(held, ack) for a record: stored, or a duplicate of one sent
        before (by an attempt that failed before its acknowledgement)."""
        before = (c.sid, start) in self.tried
        self.tried.add((c.sid, start))
        got = c.send(start, STEP, counts)
        return got[0] == 0 or (got[0] == 1 and before), got

    def bad_clock(self):
        c = self.session("badclock")
        for start, reason in ((Y2035, 1), (0, 2), (-10, 2)):
            got = c.send(start, STEP, {("tcp", 1): 999999})
            if got != (3, start, reason):
                self.errors.append("bad clock %d: %s" % (start, got))
        c.close()

    def fast(self):
        if self.fast_starts is None:
            now = int(time.time()) // STEP * STEP
            self.fast_starts = [now + k * STEP for k in range(3, 6)]
        c = self.session("fast")
        for start in self.fast_starts:
            if (start, self.template) in self.stored:
                continue
            held, got = self.send_held(c, start, self.template)
            if held:
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
            data = A.frame(A.RECORD, c.seq, rec, c.key)
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
        hello = A.frame(A.HELLO, 0, b"\x06replay" + os.urandom(16),
                        self.psk["replay"])
        sock.close()
        for _ in range(2000):
            s = socket.create_connection(("127.0.0.1", self.agg.port),
                                         timeout=5)
            s.sendall(hello)
            self.held.append(s)

    def garbage(self):
        s = socket.create_connection(("127.0.0.1", self.agg.port))
        s.sendall(os.urandom(4096))
        s.close()
        c = self.session("garbage")
        rec = A.encode_record("garbage", 1700000000 // STEP * STEP, STEP,
                              {("tcp", 3): 1})
        bad = bytearray(A.frame(A.RECORD, c.seq, rec, c.key))
        bad[20] ^= 1
        c.sock.sendall(bytes(bad))
        c.close()
        c = self.session("garbage")
        got = c.send_raw(b"\x01\x07garbage" + os.urandom(40))
        if got[0] != 2:
            self.errors.append("undecodable record: %s" % (got,))
        c.close()

    def revoke(self):
        if self.revoked:
            # Its key is gone (the SIGHUP may have met a restart): a new
            # session must not be accepted.
            try:
                c = self.session("revoked")
            except AssertionError:
                return
            c.close()
            self.errors.append("revoked sensor accepted again")
            return
        if self.revoke_start is None:
            self.revoke_start = int(time.time()) // STEP * STEP
        start = self.revoke_start
        c = self.session("revoked")
        if (start, self.template) not in self.stored:
            held, got = self.send_held(c, start, self.template)
            if held:
                self.stored.append((start, self.template))
            else:
                self.errors.append("revoked sensor %d: %s" % (start, got))
        with open(self.kf) as f:
            lines = [ln for ln in f if not ln.startswith("revoked ")]
        with open(self.kf, "w") as f:
            f.writelines(lines)
        self.revoked = True
        self.agg.proc.send_signal(signal.SIGHUP)
        closed, _, waited = A.closed_by_peer(c.sock, 10)
        if not closed:
            self.errors.append("revoked sensor still connected after 10 s")
        c.close()


class Disk:
    """The disk faults, one after the other, each at its random moment.

    Full: DATADIR is a tmpfs; it is shrunk to what it holds plus 1 MiB and
    a filler file takes the rest, for a while; then the filler is deleted
    and the size restored.  The aggregator cannot archive (it closes the
    connection without an acknowledgement: loadgen reconnects and
    resends) nor write RRDs (retried).

    Fsync: the failsync shim makes fsync fail for a while.  The aggregator
    must stop at once, acknowledging nothing; while fsync still fails it
    is started again (and must stop again as soon as a record comes), and
    then once more on a healthy disk, on the same DATADIR."""

    def __init__(self, agg, env, trigger):
        self.agg, self.env, self.trigger = agg, env, trigger
        self.epoch = 0  # changes when a disk fault begins and ends
        self.busy = False
        self.serving = threading.Event()
        self.serving.set()
        self.errors = []
        self.notes = []
        self.exits = []  # exit codes of the aggregators stopped by fsync
        self.hwm = 0
        self.stop = threading.Event()

    def start_agg(self):
        logf = open(self.agg.log, "a")
        self.agg.proc = subprocess.Popen(self.agg.cmd, stdout=logf,
                                         stderr=logf, env=self.env)
        logf.close()
        A.wait_listen(self.agg.port, self.agg.proc, timeout=60)

    def wait_serving(self):
        self.serving.wait()

    def begin(self):
        self.serving.clear()
        self.busy = True
        self.epoch += 1

    def end(self):
        self.epoch += 1
        self.busy = False
        self.serving.set()

    def sample_rss(self):
        """The highest VmHWM of every aggregator process of the run."""
        while not self.stop.is_set():
            try:
                self.hwm = max(self.hwm, A.vm_hwm(self.agg.proc.pid))
            except OSError:
                pass
            self.stop.wait(0.1)

    def log_from(self, off):
        return self.agg.text()[off:]

    def full(self, hold):
        datadir = self.agg.datadir
        self.begin()
        off = len(self.agg.text())
        t0 = time.time()
        try:
            for _ in range(50):
                st = os.statvfs(datadir)
                used = (st.f_blocks - st.f_bfree) * st.f_frsize
                if subprocess.run(["mount", "-o", "remount,size=%d" %
                                   (used + (1 << 20)), datadir]).returncode \
                        == 0:
                    break
            else:
                self.errors.append("cannot shrink the tmpfs of DATADIR")
                return
            filler = A.fill(datadir)
            if not wait_for(lambda: "cannot archive the record" in
                            self.log_from(off), 60,
                            "the aggregator to say it cannot archive"):
                self.errors.append("disk full: the aggregator never said it "
                                   "cannot archive")
            left = hold - (time.time() - t0)
            if left > 0:
                self.stop.wait(left)  # the fault's length, chosen at random
            # An interval every sensor had reported may end meanwhile: its
            # RRD job then fails too.  Up to 15 s more for that.
            wait_for(lambda: "not written; retried" in self.log_from(off),
                     15, "an interval's RRD job to fail too")
            os.unlink(filler)
            subprocess.run(["mount", "-o", "remount,size=%s" % tmpfs_size(),
                            datadir], check=True)
            text = self.log_from(off)
            self.notes.append(
                "DATADIR full for %.1f s: %d connections closed without an "
                "acknowledgement (cannot archive), %d intervals whose RRDs, "
                "summary or last_final could not be written (retried), %d "
                "RRD files" % (time.time() - t0,
                               text.count("cannot archive the record"),
                               text.count("not written; retried"),
                               text.count("retried until written")))
        finally:
            self.end()

    def fsync(self, hold):
        self.begin()
        off = len(self.agg.text())
        t0 = time.time()
        starts = 0
        try:
            open(self.trigger, "w").close()
            while True:
                try:
                    rc = self.agg.proc.wait(60)
                except subprocess.TimeoutExpired:
                    self.errors.append("fsync fails, yet the aggregator "
                                       "runs after 60 s")
                    break
                self.exits.append(rc)
                if time.time() - t0 >= hold:
                    break
                # Started while fsync still fails: it must stop again.
                starts += 1
                try:
                    self.start_agg()
                except AssertionError:
                    pass  # it stopped before it listened
            os.unlink(self.trigger)
            self.start_agg()
            text = self.log_from(off)
            self.notes.append(
                "fsync failed for %.1f s: the aggregator stopped %d times "
                "(exit %s), started %d times while fsync failed, "
                "\"archive commit failed\" logged %d times" %
                (time.time() - t0, len(self.exits), sorted(set(self.exits)),
                 starts, text.count("archive commit failed")))
            if not self.exits or 0 in self.exits or \
                    "archive commit failed" not in text:
                self.errors.append("fsync failure: the aggregator did not "
                                   "stop naming the failed commit (exits %s)"
                                   % self.exits)
        finally:
            if os.path.exists(self.trigger):
                os.unlink(self.trigger)
            self.end()

    def run(self, plan):
        """plan: [(at, fn, hold)], seconds from now."""
        t0 = time.time()
        for at, fn, hold in sorted(plan, key=lambda p: p[0]):
            left = at - (time.time() - t0)
            if left > 0 and self.stop.wait(left):
                return
            try:
                fn(hold)
            except Exception as e:  # noqa: BLE001 - reported, not lost
                self.errors.append("%s: %r" % (fn.__name__, e))
                self.serving.set()


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



def tmpfs_size():
    """DATADIR's tmpfs, which takes only what is written: at 10 s
    intervals a sensor's health RRD takes 0.4 MiB, a key's 0.14 MiB."""
    return "%dm" % (2048 + int(os.environ.get("SOAK_SENSORS", "1000")))


def main():
    diskfaults = os.environ.get("SOAK_DISK", "1") != "0"
    if diskfaults and os.geteuid() != 0:
        print("FAIL: the disk-full fault mounts a tmpfs, which needs root "
              "(SOAK_DISK=0 leaves out the disk faults)")
        return 1
    # Peak RSS is measured; the failsync shim comes before the ASan runtime.
    A.no_asan_quarantine("verify_asan_link_order=0")
    sensors = int(os.environ.get("SOAK_SENSORS", "1000"))
    # The aggregator's connection limit follows its descriptor limit
    # (server.c): the fleet, 2,000 replayed HELLOs, the other clients and
    # its reserve of 128 must fit.  loadgen raises its own.
    want = sensors + 2000 + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    if min(want, hard) < want:
        print("FAIL: %d sensors need %d descriptors; the hard limit is %d" %
              (sensors, want, hard))
        return 1
    loadgen = os.environ["TEITEN_LOADGEN"]
    shim = os.environ["TEITEN_FAILSYNC_SO"]
    seconds = float(os.environ.get("SOAK_SECONDS", "90"))
    rng = random.Random(int(os.environ.get("SOAK_SEED", "8")))
    with tempfile.TemporaryDirectory() as tmp:
        datadir = os.path.join(tmp, "data")
        os.makedirs(datadir)
        if not diskfaults:
            return soak(tmp, datadir, sensors, seconds, rng, loadgen, None)
        A.mount_tmpfs(datadir, tmpfs_size())
        try:
            return soak(tmp, datadir, sensors, seconds, rng, loadgen, shim)
        finally:
            A.umount(datadir)


def soak(tmp, datadir, sensors, seconds, rng, loadgen, shim):
    kf = os.path.join(tmp, "sensors.keys")
    subprocess.run([loadgen, "--write-keys", kf, "-n", str(sensors),
                    "--seed", "5"], check=True)
    extra = ["badclock", "fast", "noread", "replay", "garbage", "revoked"]
    psk = {sid: os.urandom(32) for sid in extra}
    with open(kf, "a") as f:
        for sid in extra:
            f.write("%s %s\n" % (sid, psk[sid].hex()))
    os.chmod(kf, 0o600)
    # Nothing here waits for grace: every interval is final because the
    # fleet reported it; grace only bounds a slow machine.
    agg = A.Aggregator(tmp, kf, datadir, grace=60,
                       extra=["-n", str(STEP), "--active", "30",
                              "--auth-timeout", "60"])
    trigger = os.path.join(tmp, "fail-fsync")
    env = dict(os.environ)
    if shim is not None:
        env.update(LD_PRELOAD=shim, TEITEN_FAILSYNC=trigger)
    disk = Disk(agg, env, trigger)
    disk.start_agg()
    sampler = threading.Thread(target=disk.sample_rss)
    sampler.start()
    log = os.path.join(tmp, "loadgen.log")
    lg = subprocess.Popen(
        [loadgen, "-a", agg.addr, "-n", str(sensors), "--seed", "5",
         "--rate", str(sensors / STEP), "--duration", str(seconds),
         "--keys", "60", "--pool", "8", "--interval", str(STEP),
         "--no-hold", "--reconnect", "--drain", "90", "--log", log,
         # Two intervals ahead (well within the aggregator's skew), so
         # that every sensor has reported an interval before it ends
         # and none is final with only the first few sensors heard.
         "--start", str((int(time.time()) // STEP + 3) * STEP)],
        stdout=subprocess.PIPE, text=True)
    faults = None
    threads = []
    dthread = None
    try:
        line = lg.stdout.readline()
        check(line.startswith("ready"), "loadgen: %s" % line.strip())
        go = lg.stdout.readline()
        check(go.strip() == "go", "loadgen starts its timed phase")
        templates, _ = read_log(log)
        faults = Faults(agg, psk, kf, templates[0], disk)
        plan = [faults.bad_clock, faults.fast, faults.noread,
                faults.hello_flood, faults.garbage, faults.revoke]
        for fn in plan:
            delay = rng.uniform(0.1, 0.6) * seconds
            t = threading.Timer(delay, faults.guarded(fn))
            t.start()
            threads.append(t)
        dplan = [(rng.uniform(0.15, 0.6) * seconds, disk.full,
                  rng.uniform(6, 12)),
                 (rng.uniform(0.15, 0.6) * seconds, disk.fsync,
                  rng.uniform(2, 6))]
        if shim is None:
            dplan = []  # SOAK_DISK=0
        print("disk faults: %s" % ", ".join(
            "%s at %.1f s for %.1f s" % (fn.__name__, at, hold)
            for at, fn, hold in sorted(dplan, key=lambda p: p[0])))
        dthread = threading.Thread(target=disk.run, args=(dplan,))
        dthread.start()
        out = lg.communicate(timeout=seconds + 300)[0]
        dthread.join()
        for t in threads:
            t.join()
        for n in disk.notes:
            print(n)
        for r in faults.retried:
            print("retried after a disk fault: %s" % r)
        res = json.loads(out.strip().splitlines()[-1])
        print("loadgen: %d sensors, %d records stored, %d duplicate "
              "(resent after a lost acknowledgement), %d reconnects, %d "
              "resent" % (res["connected"], res["stored"], res["duplicate"],
                          res["reconnects"], res["resent"]))
        print("ack latency from the send acknowledged: p50 %.1f ms, p99 "
              "%.1f ms, max %.1f ms; from the first send: p99 %.1f ms, "
              "max %.1f ms" %
              (res["lat_p50_ms"], res["lat_p99_ms"], res["lat_max_ms"],
               res["deliver_p99_ms"], res["deliver_max_ms"]))
        check(not disk.errors, "disk faults struck as planned: %s" %
              disk.errors)
        if dplan:
            check(len(disk.notes) == 2 and res["reconnects"] > 0 and
                  res["resent"] > 0,
                  "loadgen's sensors were cut off and resent (%d "
                  "reconnects, %d records resent)" %
                  (res["reconnects"], res["resent"]))
        else:
            check(res["reconnects"] == 0, "without disk faults no sensor "
                  "was cut off (%d reconnects)" % res["reconnects"])
        check(lg.returncode == 0 and res["dead"] == 0 and
              res["lost"] == 0 and res["rejected"] == 0 and
              res["unacked"] == 0,
              "loadgen: no sensor gave up and every record was "
              "acknowledged (exit %d, dead %d, lost %d, unacked %d)" %
              (lg.returncode, res["dead"], res["lost"], res["unacked"]))
        check(res["lat_p99_ms"] < 1000,
              "well-behaved sensors' ack latency p99 %.1f ms < 1 s" %
              res["lat_p99_ms"])
        check(not faults.errors, "misbehaving clients got the answers "
              "the protocol gives: %s" % faults.errors)
        templates, acks = read_log(log)
        once = collections.Counter((sid, start) for sid, start, _, _ in acks)
        check(len(acks) == res["acked"] and max(once.values()) == 1,
              "loadgen's log holds its %d acknowledgements, one a record "
              "(%d)" % (res["acked"], len(acks)))
        sums = collections.defaultdict(collections.Counter)
        reporters = collections.Counter()
        for sid, start, status, tpl in acks:
            if status in (0, 1):  # stored, or held since an earlier send
                sums[start].update(templates[tpl])
                reporters[start] += 1
        for start, counts in faults.stored:
            sums[start].update(counts)
            reporters[start] += 1
        last = max(reporters)
        agg.wait_final(last, timeout=120)
        check(wait_for(agg.caught_up, 300, "the catch-up to end"),
              "no late record waits for a catch-up")
        disk.stop.set()
        sampler.join()
        hwm = max(disk.hwm, A.vm_hwm(agg.proc.pid))
        print("aggregator peak RSS %.1f MiB (highest of its processes)" %
              (hwm / 1048576))
        check(hwm < 256 << 20, "aggregator peak RSS %.1f MiB < 256 MiB" %
              (hwm / 1048576))
        for s in faults.held:
            s.close()
        check(agg.stop() == 0, "the aggregator stops on SIGTERM")
    finally:
        disk.stop.set()
        if lg.poll() is None:
            lg.kill()
        agg.stop(signal.SIGKILL)
        if sampler.is_alive():
            sampler.join()
        if dthread is not None:
            dthread.join()
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
    text = agg.text()
    if "not written; retried" in text:
        check(re.search(r"written after \d+ attempts", text) is not None,
              "the intervals whose RRD jobs failed while DATADIR was full "
              "were written once space returned")
    lf = A.last_final(datadir)
    check("refused" in agg.text() and lf is not None and
          lf <= time.time(),
          "refusals are logged and last_final (%s) is not in the "
          "future" % lf)
    keep = os.environ.get("SOAK_KEEP")
    if keep:  # for a look afterwards
        os.makedirs(keep, exist_ok=True)
        shutil.copy(agg.log, os.path.join(keep, "aggregator.log"))
        shutil.copy(log, os.path.join(keep, "loadgen.log"))
    print("DATADIR holds %.1f MiB" % (sum(
        os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(datadir)
        for f in fs) / 1048576))
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
