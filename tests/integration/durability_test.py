"""Nothing is acknowledged that is not durable (issue 8): while fsync fails
(an LD_PRELOAD shim, failsync.c, makes fsync and fdatasync return EIO while
a trigger file exists), the aggregator acknowledges nothing: it stops with
an error naming the failed commit, and the replaying sensor keeps every
record in its spool.  Restarted on a healthy disk, it takes them all, and
the RRDs equal the averages computed from the sensors' --print outputs.

Commits run off the network loop (issue 13): with the first fsync of the
archive held (the same shim makes it wait on a FIFO until the test lets it
go), a second sensor completes its handshake and sends a record, and
neither sensor has an acknowledgement; once the fsync is let go, both
records are acknowledged as stored, and both are in the archive."""

import os
import signal
import subprocess
import sys
import select
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check  # noqa: E402

T0 = 1700000000


def nrecords(counts):
    starts = [k[0] for k in counts]
    return (max(starts) - min(starts)) // 60 + 1


def spool_counts(tmp, sids):
    out = {}
    for sid in sids:
        d = os.path.join(tmp, "spool-" + sid)
        out[sid] = sum(1 for _, _, files in os.walk(d) for f in files
                       if f.endswith(".rec"))
    return out


def wait_spooled(tmp, want, timeout=60):
    """The sensors' spool counts once they reach want, or after timeout
    seconds without a change."""
    deadline, seen = time.time() + timeout, None
    while time.time() < deadline:
        got = spool_counts(tmp, want)
        if got == want:
            return got
        if got != seen:
            deadline, seen = time.time() + timeout, got
        time.sleep(0.1)
    return seen


def open_writer(fifo, bound=30):
    """The FIFO's write end, opened once a reader (a held fsync) opens it,
    or None after bound seconds."""
    got = []
    t = threading.Thread(target=lambda: got.append(os.open(fifo,
                                                           os.O_WRONLY)),
                         daemon=True)
    t.start()
    t.join(bound)
    return got[0] if got else None


def readable(socks):
    return select.select(socks, [], [], 0)[0]


def held_commit(shim):
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        kf, keys = A.make_keys(tmp, ["h1", "h2"])
        psk = {sid: A.read_psk(keys[sid]) for sid in keys}
        fifo = os.path.join(tmp, "hold")
        os.mkfifo(fifo)
        env = dict(os.environ, LD_PRELOAD=shim, TEITEN_HOLDSYNC=fifo)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":verify_asan_link_order=0").lstrip(":")
        agg = A.Aggregator(tmp, kf, os.path.join(tmp, "data"))
        logf = open(agg.log, "a")
        agg.proc = subprocess.Popen(agg.cmd, stdout=logf, stderr=logf,
                                    env=env)
        logf.close()
        wfd, c2 = None, None
        start = int(time.time()) // 60 * 60
        try:
            A.wait_listen(agg.port, agg.proc)
            c1 = A.Client(agg, "h1", psk["h1"])
            c1.sock.sendall(A.frame(A.RECORD, 1, A.encode_record(
                "h1", start, 60, {("tcp", 22): 1}), c1.key))
            wfd = open_writer(fifo)
            check(wfd is not None, "the record's commit fsyncs the archive")
            try:
                c2 = A.Client(agg, "h2", psk["h2"])
            except (AssertionError, OSError) as e:
                check(False, "while the fsync is held, a second sensor "
                      "completes its handshake (%s)" % e)
            if c2 is not None:
                check(True, "while the fsync is held, a second sensor "
                      "completes its handshake")
                c2.sock.sendall(A.frame(A.RECORD, 1, A.encode_record(
                    "h2", start, 60, {("udp", 53): 2}), c2.key))
            socks = [c.sock for c in (c1, c2) if c is not None]
            check(not readable(socks), "while the fsync is held, no "
                  "acknowledgement has come")
            os.close(wfd)
            wfd = None
            for c in (c1, c2):
                if c is None:
                    continue
                ftype, seq, payload = A.read_frame(c.sock, c.key)
                check((ftype, seq, A.ack_of(payload)) ==
                      (A.ACK, 1, (A.STORED, start)),
                      "once it is let go, %s's record is acknowledged as "
                      "stored" % c.sid)
            check(agg.stop() == 0, "the aggregator stops cleanly")
            recs = A.read_archive(agg.datadir)[0]
            check(sorted(A.decode_record(r[1])["sensor"] for r in recs) ==
                  ["h1", "h2"], "the archive holds both records")
        finally:
            if wfd is not None:
                os.close(wfd)
            agg.stop(signal.SIGKILL)


def main():
    shim = os.environ["TEITEN_FAILSYNC_SO"]
    held_commit(shim)
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        caps = {}
        for n, sid in enumerate(["d1", "d2"]):
            caps[sid] = os.path.join(tmp, sid + ".pcap")
            A.gencap(caps[sid], 6000, 40 * 60, T0, 31 + n)
        prints = [A.sensor_print(caps[sid]) for sid in sorted(caps)]
        kf, keys = A.make_keys(tmp, list(caps))
        datadir = os.path.join(tmp, "data")
        trigger = os.path.join(tmp, "fail-fsync")
        open(trigger, "w").close()
        env = dict(os.environ, LD_PRELOAD=shim, TEITEN_FAILSYNC=trigger)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":verify_asan_link_order=0").lstrip(":")
        agg = A.Aggregator(tmp, kf, datadir)
        # Failing from the start: DATADIR/step cannot be made durable.
        p = subprocess.run(agg.cmd, capture_output=True, text=True, env=env,
                           timeout=60)
        check(p.returncode == 1 and "cannot write the step" in p.stderr,
              "with fsync failing, the aggregator refuses to start: exit "
              "%d, %r" % (p.returncode, p.stderr.strip()[-200:]))
        os.unlink(trigger)
        logf = open(agg.log, "a")
        agg.proc = subprocess.Popen(agg.cmd, stdout=logf, stderr=logf,
                                    env=env)
        logf.close()
        A.wait_listen(agg.port, agg.proc)
        open(trigger, "w").close()  # and now while it serves
        sensors = {sid: subprocess.Popen(
            [T.sensor_path(), "-r", caps[sid], "-a", agg.addr, "-s", sid,
             "-K", keys[sid], "--spool", os.path.join(tmp, "spool-" + sid),
             "-n", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True) for sid in caps}
        t0 = time.time()
        try:
            rc = agg.proc.wait(120)
            print("aggregator stopped after %.1fs" % (time.time() - t0))
            check(rc != 0, "the aggregator stops when fsync fails (exit %d)"
                  % rc)
            check("archive commit failed" in agg.text(),
                  "its log names the failed commit")
            arcs = os.listdir(os.path.join(datadir, "archive"))
            want = {sid: nrecords(pr) for sid, pr in zip(sorted(caps),
                                                         prints)}
            spooled = wait_spooled(tmp, want)
            check(spooled == want,
                  "no record was acknowledged: the sensors spool all their "
                  "records (%s of %s), %d archive files written" %
                  (spooled, want, len(arcs)))
            os.unlink(trigger)
            agg.start()
            print("restarted after %.1fs" % (time.time() - t0))
            errs = {}
            for sid, p in sensors.items():
                errs[sid] = p.communicate(timeout=240)[1]
                check(p.returncode == 0, "sensor %s delivers everything "
                      "after the restart (exit %d)" % (sid, p.returncode))
            print("sensors done after %.1fs" % (time.time() - t0))
            avgs, reporters = A.expected_averages(prints)
            last = max(reporters)
            agg.wait_final(last)
            check(agg.stop() == 0, "the restarted aggregator stops cleanly")
        finally:
            agg.stop(signal.SIGKILL)
            for p in sensors.values():
                if p.poll() is None:
                    p.kill()
        bad = 0
        keys_seen = {(p, k) for (_, p, k) in avgs}
        for proto, key in sorted(keys_seen)[:40]:
            rows = A.rrd_fetch(os.path.join(datadir, "rrd", proto,
                                            "%d.rrd" % key),
                               min(reporters), last)
            for s in reporters:
                avg = avgs.get((s, proto, key), 0.0)
                if not A.close(rows.get(s + 60), avg):
                    bad += 1
        sens = A.rrd_fetch(os.path.join(datadir, "rrd", "sensors.rrd"),
                           min(reporters), last)
        bad_s = [s for s in reporters
                 if not A.close(sens.get(s + 60), reporters[s])]
        check(bad == 0 and not bad_s,
              "40 keys and sensors.rrd over %d intervals hold the averages "
              "of both sensors' --print outputs (%d values differ, %d "
              "sensor counts)" % (len(reporters), bad, len(bad_s)))
        recs = A.read_archive(datadir)[0]
        total = sum(want.values())
        check(len(recs) == len({(r[0], A.decode_record(r[1])["sensor"])
                                for r in recs}) == total,
              "the archive holds each of the %d records once (%d entries)" %
              (total, len(recs)))
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
