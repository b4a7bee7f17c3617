"""`teiten-aggregator rebuild` while the daemon serves sensors.

Three sensors (the test's own clients over real TCP) fill an aggregator's
archive with a few hundred intervals.  Then, while they go on sending a
record after another, `teiten-aggregator rebuild` runs against the same
data directory: it finds the daemon holding DATADIR's lock, asks it to
rebuild, and waits.  Records must be acknowledged while it runs (the
daemon never stops serving), the command must exit 0, and once the
sensors stop and every interval is final, the daemon's RRDs (every row
of every file at each resolution, `rrdtool fetch`) and summary buckets
(byte for byte) must equal those of a rebuild of the same archive with
no daemon running, and a sample of keys the averages the test computes
from what it sent.  A second daemon on the same DATADIR is refused,
naming the first one's process id."""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
from teiten_testlib import FAILURES, check, require  # noqa: E402

LEN = 60
T0 = 1699999980  # a multiple of LEN
SENSORS = ("r1", "r2", "r3")
BEFORE = 360  # intervals archived before the rebuild
AFTER = 5  # intervals each sensor sends once the rebuild is done
AHEAD = 2  # intervals the sensors may send beyond the newest final one
KEYS = [("tcp", p) for p in range(1, 61)] + [("udp", p) for p in
                                             range(1000, 1020)]


def counts(rng):
    """One sensor's record: 20 of the keys, packets 1 to 1000 each."""
    return {k: rng.randint(1, 1000) for k in rng.sample(KEYS, 20)}


class Fleet:
    """The three sensors, sending interval after interval in lockstep,
    each record acknowledged before the next: what the test sent, by
    interval, and when each acknowledgement came (monotonic)."""

    def __init__(self, agg, psks):
        self.clients = [A.Client(agg, sid, psks[sid]) for sid in SENSORS]
        self.rng = random.Random(7)
        self.sent = {}  # start: [counts of each sensor]
        self.acked = []  # monotonic times
        self.next = T0

    def interval(self, datadir=None):
        """One interval from each sensor; with datadir, first waits until
        the one AHEAD intervals back is final: the sensors go as fast as
        the aggregator writes, not faster, as spooled backlogs do."""
        start, recs = self.next, []
        while datadir is not None and (A.last_final(datadir) or 0) < \
                start - AHEAD * LEN:
            time.sleep(0.01)
        for c in self.clients:
            rec = counts(self.rng)
            status, got, _ = c.send(start, LEN, rec)
            if status != A.STORED or got != start:
                raise AssertionError("sensor %s interval %d: ack %d for %d"
                                     % (c.sid, start, status, got))
            self.acked.append(time.monotonic())
            recs.append(rec)
        self.sent[start] = recs
        self.next += LEN

    def close(self):
        for c in self.clients:
            c.close()


def averages(sent):
    """{(start, proto, key): mean over the three sensors} (contract 4:
    each interval was reported by all three; a key one of them did not
    see counts 0 there)."""
    out = {}
    for start, recs in sent.items():
        for rec in recs:
            for k, n in rec.items():
                out[(start,) + k] = out.get((start,) + k, 0) + n
    return {k: v / len(SENSORS) for k, v in out.items()}


def rrd_files(datadir):
    root = os.path.join(datadir, "rrd")
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.relpath(os.path.join(d, f), root) for f in files
                if f.endswith(".rrd")]
    return sorted(out)


def fetch_all(path, first, last):
    """Every data source's rows at each of the three resolutions."""
    return [A.rrd_fetch_ds(path, first, last, step) for step in
            (LEN, 3600, 86400)]


def summaries(datadir):
    out = {}
    root = os.path.join(datadir, "summary")
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".sum"):
                with open(os.path.join(d, f), "rb") as fh:
                    out[os.path.relpath(os.path.join(d, f), root)] = fh.read()
    return out


def rebuild_beside(agg, fleet, datadir):
    """The rebuild command while the fleet sends; returns its result and
    the times it ran between."""
    done = threading.Event()
    errors = []

    def send():
        try:
            after = 0
            while after < AFTER:
                fleet.interval(datadir)
                after += done.is_set()
        except Exception as e:  # reported by the main thread
            errors.append(e)

    before = len(fleet.acked)
    sender = threading.Thread(target=send)
    sender.start()
    # The rebuild starts once records flow.
    while len(fleet.acked) == before and not errors:
        time.sleep(0.01)
    t0 = time.monotonic()
    p = subprocess.run([A.aggregator_path(), "rebuild", "-d", datadir],
                       capture_output=True, text=True, timeout=600)
    t1 = time.monotonic()
    done.set()
    sender.join()
    if errors:
        raise errors[0]
    return p, t0, t1


def main():
    with tempfile.TemporaryDirectory() as tmp:
        keysfile, keyfiles = A.make_keys(tmp, list(SENSORS))
        psks = {sid: A.read_psk(keyfiles[sid]) for sid in SENSORS}
        datadir = os.path.join(tmp, "data")
        agg = A.Aggregator(tmp, keysfile, datadir, grace=2).start()
        try:
            other = A.Aggregator(tmp, keysfile, datadir)
            p = subprocess.run(other.cmd, capture_output=True, text=True,
                               timeout=60)
            check(p.returncode == 1 and "in use by process %d" %
                  agg.proc.pid in p.stderr,
                  "a second daemon on the same DATADIR is refused, naming "
                  "the first: %s" % p.stderr.strip())
            fleet = Fleet(agg, psks)
            for _ in range(BEFORE):
                fleet.interval()
            agg.wait_final(T0 + (BEFORE - 1) * LEN)
            gen = int(open(os.path.join(datadir, "generation")).read()
                      if os.path.exists(os.path.join(datadir, "generation"))
                      else 0)
            p, t0, t1 = rebuild_beside(agg, fleet, datadir)
            check(p.returncode == 0 and "asked the running aggregator (pid "
                  "%d)" % agg.proc.pid in p.stderr,
                  "rebuild beside the daemon asks it and exits 0: %s" %
                  p.stderr.strip()[-300:])
            during = sum(1 for t in fleet.acked if t0 < t < t1)
            check(during > 0, "records acknowledged while the rebuild ran "
                  "(%d in %.2f s)" % (during, t1 - t0))
            last = fleet.next - LEN
            fleet.close()
            agg.wait_final(last)
            log = agg.text()
            check(" asked: the RRDs and summaries are derived again" in log
                  and "catch-up done" in log,
                  "the daemon logs the rebuild asked and done")
            now = int(open(os.path.join(datadir, "generation")).read())
            check(now > gen, "DATADIR/generation moved (%d to %d)" %
                  (gen, now))
        finally:
            code = agg.stop()
        check(code == 0, "the daemon stops cleanly (%s)" % code)

        stopped = os.path.join(tmp, "stopped")
        shutil.copytree(datadir, stopped)
        p = subprocess.run([A.aggregator_path(), "rebuild", "-d", stopped],
                           capture_output=True, text=True, timeout=600)
        check(p.returncode == 0 and "asked" not in p.stderr,
              "a rebuild with no daemon runs itself: %s" %
              p.stderr.strip()[-300:])

        files = rrd_files(datadir)
        check(files == rrd_files(stopped) and len(files) > len(KEYS),
              "the same %d RRD files" % len(files))
        differ = [f for f in files if
                  fetch_all(os.path.join(datadir, "rrd", f), T0, last + LEN)
                  != fetch_all(os.path.join(stopped, "rrd", f), T0,
                               last + LEN)]
        check(not differ, "every row of every RRD equals the stopped "
              "rebuild's, at each resolution (%s)" % differ[:5])
        live, cold = summaries(datadir), summaries(stopped)
        check(live == cold and live, "the %d summary buckets equal the "
              "stopped rebuild's, byte for byte" % len(live))

        avgs = averages(fleet.sent)
        bad = []
        for proto, key in KEYS[::9]:
            rows = A.rrd_fetch(os.path.join(datadir, "rrd", proto,
                                            "%d.rrd" % key), T0, last + LEN)
            # Its file begins with the first interval that has it.
            first = min(s for (s, p, k) in avgs if (p, k) == (proto, key))
            for start in fleet.sent:
                if start < first:
                    continue
                want = avgs.get((start, proto, key), 0.0)
                if not A.close(rows.get(start + LEN), want):
                    bad.append("%s/%d at %d: %s, expected %r" % (
                        proto, key, start, rows.get(start + LEN), want))
        check(not bad, "%d keys over %d intervals equal the averages of "
              "what was sent %s" % (len(KEYS[::9]), len(fleet.sent),
                                    bad[:5]))
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    require("rrdtool")
    sys.exit(main())
