"""Bad clocks never corrupt the fleet's data (issue 8, "Time is checked
where it enters, and finality runs on the aggregator's own clock").

Sensors are Python clients speaking man/teiten-protocol.7 (agglib.Client),
so the test controls every record's interval start and the moment it is
sent; expected values are computed here from what was sent.

  (a) refusals: records starting in 2035, at 0, at a negative time and on
      1999-12-31 get ACK status 3 (refused) with the reason the manual
      gives; nothing of them reaches the archive; a record one interval
      ahead is stored; the SIGTERM report counts each refusal;
  (b) rebuild of an archive that already holds a 2035 record (as older
      versions wrote) leaves it out, says so, and last_final and every RRD
      end at the real data; a daemon started on a DATADIR whose last_final
      is in the future refuses to start and names rebuild;
  (c) fast clocks: with 10 s intervals and 8 s grace, three sensors whose
      clocks run 0.5, 1 and 3 intervals fast send beside two on time, in
      real time; every interval's RRD value equals the mean of the five
      sensors' records and sensors.rrd reads 5: no on-time record is late;
  (d) open intervals: one sensor sends records holding every port for many
      past intervals while another sensor lags; once they hold 64 MiB,
      records over the per-sensor cap are refused with reason 3 (retry
      later), and the aggregator's peak RSS stays under 256 MiB.

Each sensor's refusals, late and deferred records are also read back from
its DATADIR/faults/<id>.rrd (counted by arrival on the aggregator's clock)."""

import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
from agglib import Client, REFUSED, REJECTED, STORED  # noqa: E402
from teiten_testlib import FAILURES, check  # noqa: E402

FUTURE, PAST, OPEN = 1, 2, 3
Y2035 = 2051222400  # 2035-01-01T00:00:00Z, a multiple of 60 and of 10


def psks(keys):
    return {sid: A.read_psk(path) for sid, path in keys.items()}


def refusals(tmp):
    kf, keys = A.make_keys(tmp, ["s1"])
    psk = psks(keys)
    datadir = os.path.join(tmp, "data-a")
    agg = A.Aggregator(tmp, kf, datadir, grace=2).start()
    try:
        c = Client(agg, "s1", psk["s1"])
        now = int(time.time()) // 60 * 60
        cases = [(Y2035, REFUSED, FUTURE, "2035-01-01"),
                 (0, REFUSED, PAST, "start 0"),
                 (-60, REFUSED, PAST, "start -60"),
                 (946684740, REFUSED, PAST, "1999-12-31T23:59"),
                 (now + 60, STORED, 0, "one interval ahead"),
                 (now - 3600, STORED, 0, "an hour ago")]
        for start, status, reason, what in cases:
            got = c.send(start, 60, {("tcp", 23): 7})
            check(got == (status, start, reason),
                  "(a) %s: ACK (status, start, reason) = %s, expected %s" %
                  (what, got, (status, start, reason)))
        got = c.send_raw(b"\x01not a record")
        check(got[0] == REJECTED, "(a) an undecodable record is rejected: %s"
              % (got,))
        # Once the hour-old interval is final, one before it comes late.
        agg.wait_final(now - 3600)
        got = c.send(now - 7200, 60, {("tcp", 23): 7})
        check(got == (STORED, now - 7200, 0), "(a) a record for an interval "
              "before the final one is stored (late): %s" % (got,))
        c.close()
        arcs = sorted(os.listdir(os.path.join(datadir, "archive")))
        want = sorted(["%d.arc" % (now - 7200), "%d.arc" % (now - 3600),
                       "%d.arc" % (now + 60)])
        check(arcs == want, "(a) the archive holds only the stored "
              "records' intervals: %s" % arcs)
        check(agg.stop() == 0, "(a) the aggregator stops on SIGTERM")
    finally:
        agg.stop(signal.SIGKILL)
    log = agg.text()
    check("4 refused (1 ahead of this clock, 3 before 2000" in log,
          "(a) the final report counts 4 refusals by reason")
    check("sensor s1: records refused: 1 ahead of this clock, 3 before 2000, "
          "0 over the open interval cap" in log,
          "(a) the final report counts the refusals of sensor s1")
    check("refused: interval starts too far ahead" in log and
          "refused: interval starts before 2000-01-01" in log,
          "(a) each refusal is logged with its reason")
    lf = A.last_final(datadir)
    check(lf is None or lf <= time.time(),
          "(a) last_final %s is not in the future" % lf)
    # Counted by arrival on the aggregator's clock, the stop's row included.
    got = A.fault_totals(datadir, "s1", now - 600, int(time.time()) + 600)
    want = {"late": 1, "refused": 4, "deferred": 0, "rejected": 1}
    check(got == want, "(a) DATADIR/faults/s1.rrd counts %s, expected %s" %
          (got, want))


def archive_entry(rec):
    return struct.pack(">II", len(rec), A.crc32c(rec)) + rec


def rebuild_future(tmp):
    kf, _ = A.make_keys(tmp, ["s1"])
    datadir = os.path.join(tmp, "data-b")
    os.makedirs(os.path.join(datadir, "archive"))
    base = int(time.time()) // 60 * 60 - 7200
    good = {}
    for i in range(5):
        good[base + 60 * i] = {("tcp", 23): 10 + i}
    for start, counts in list(good.items()) + [(Y2035, {("tcp", 23): 99})]:
        with open(os.path.join(datadir, "archive", "%d.arc" % start),
                  "wb") as f:
            f.write(archive_entry(A.encode_record("s1", start, 60, counts)))
    # DATADIR/step: another interval, or a damaged file, is refused.
    for text, words in (("120\n", "use -n 120"), ("120junk\n", "damaged")):
        with open(os.path.join(datadir, "step"), "w") as f:
            f.write(text)
        p = subprocess.run([A.aggregator_path(), "-f", "-l", "127.0.0.1:%d"
                            % A.free_port(), "-d", datadir, "-K", kf],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 1 and words in p.stderr,
              "(b) DATADIR/step %r is refused (%r): exit %d, %r" %
              (text, words, p.returncode, p.stderr.strip()))
    with open(os.path.join(datadir, "step"), "w") as f:
        f.write("60\n")
    with open(os.path.join(datadir, "last_final"), "w") as f:
        f.write("%d\n" % Y2035)
    # An older version left last_final in 2035: serving must refuse.
    p = subprocess.run([A.aggregator_path(), "-f", "-l", "127.0.0.1:%d" %
                        A.free_port(), "-d", datadir, "-K", kf],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode != 0 and "rebuild" in p.stderr and
          "future" in p.stderr,
          "(b) a DATADIR whose last_final is in 2035 is refused, naming "
          "rebuild: exit %d, %r" % (p.returncode, p.stderr.strip()))
    p = subprocess.run([A.aggregator_path(), "rebuild", "-d", datadir],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "(b) rebuild exits 0 (%d: %s)" %
          (p.returncode, p.stderr.strip()[-300:]))
    check("skipped 0 records dated before 2000-01-01 and 1 starting" in
          p.stderr, "(b) rebuild says it skipped the 2035 record")
    last = base + 60 * 4
    check(A.last_final(datadir) == last,
          "(b) last_final is the newest real interval (%s, expected %d)" %
          (A.last_final(datadir), last))
    rrd = os.path.join(datadir, "rrd", "tcp", "23.rrd")
    out = subprocess.run(["rrdtool", "last", rrd], capture_output=True,
                         text=True)
    check(out.returncode == 0 and int(out.stdout) == last + 60,
          "(b) tcp/23.rrd's last update is the end of the newest real "
          "interval (%s)" % out.stdout.strip())
    rows = A.rrd_fetch(rrd, base, last)
    bad = [s for s, c in good.items() if not A.close(rows.get(s + 60),
                                                      c[("tcp", 23)])]
    check(not bad, "(b) tcp/23.rrd holds the five real intervals (%d "
          "differ)" % len(bad))


def fast_clocks(tmp):
    """Two sensors on time and three fast, sending in real time."""
    step, grace, nint = 10, 8, 6
    offsets = {"on1": 0.0, "on2": 0.0, "fast05": 0.5, "fast1": 1.0,
               "fast3": 3.0}
    kf, keys = A.make_keys(tmp, list(offsets))
    psk = psks(keys)
    datadir = os.path.join(tmp, "data-c")
    agg = A.Aggregator(tmp, kf, datadir, grace=grace,
                       extra=["-n", str(step)]).start()
    sent = {}
    try:
        clients = {}
        # The first interval that even the fastest sensor has yet to send.
        first = (int(time.time()) // step + 4) * step
        plan = []
        for i in range(nint):
            start = first + i * step
            for n, (sid, fast) in enumerate(sorted(offsets.items())):
                # A sensor closes an interval when its clock reaches the
                # end; a clock fast by f intervals gets there f early.
                when = start + step - fast * step + 0.3
                counts = {("tcp", 23): 1 + n + 10 * i, ("udp", 53): 2 * n + 1}
                plan.append((when, sid, start, counts))
        plan.sort(key=lambda p: p[0])
        # A fleet is known before it is measured: each sensor first reports
        # the interval before the measured ones, which has not ended yet,
        # so none of the five is unknown when the first measured interval
        # ends (an interval all known sensors reported is final at once).
        for sid in sorted(offsets):
            clients[sid] = Client(agg, sid, psk[sid])
            got = clients[sid].send(first - step, step, {("tcp", 22): 1})
            check(got[0] == STORED, "(c) %s introduces itself" % sid)
        bad = []
        for when, sid, start, counts in plan:
            delay = when - time.time()
            if delay > 0:
                time.sleep(delay)  # the sensor's own schedule, not a wait
            got = clients[sid].send(start, step, counts)
            if got[0] != STORED:
                bad.append((sid, start, got))
            sent.setdefault(start, []).append(counts)
        check(not bad, "(c) every record stored, none late or refused: %s" %
              bad[:5])
        last = first + (nint - 1) * step
        agg.wait_final(last, timeout=60)
        for c in clients.values():
            c.close()
        check(agg.stop() == 0, "(c) the aggregator stops on SIGTERM")
    finally:
        agg.stop(signal.SIGKILL)
    log = agg.text()
    check("(0 late)" in log, "(c) the final report counts no late record")
    rows = {k: A.rrd_fetch(os.path.join(datadir, "rrd", p, "%d.rrd" % n),
                           first, last + step, step)
            for k, (p, n) in {"tcp23": ("tcp", 23), "udp53": ("udp", 53)}
            .items()}
    sens = A.rrd_fetch(os.path.join(datadir, "rrd", "sensors.rrd"), first,
                       last + step, step)
    bad = []
    for start in sorted(sent):
        recs = sent[start]
        for name, key in (("tcp23", ("tcp", 23)), ("udp53", ("udp", 53))):
            want = sum(r.get(key, 0) for r in recs) / len(recs)
            if not A.close(rows[name].get(start + step), want):
                bad.append((start, name, rows[name].get(start + step),
                            want))
        if not A.close(sens.get(start + step), len(offsets)):
            bad.append((start, "sensors", sens.get(start + step),
                        len(offsets)))
    check(len(sent) == nint and not bad,
          "(c) %d intervals: tcp/23, udp/53 and sensors.rrd equal the means "
          "of all five sensors' records (%d differ: %s)" %
          (len(sent), len(bad), bad[:4]))



def open_cap(tmp):
    A.no_asan_quarantine()  # its peak RSS is measured
    kf, keys = A.make_keys(tmp, ["big", "lag"])
    psk = psks(keys)
    datadir = os.path.join(tmp, "data-d")
    # Grace long enough that nothing is final while the test runs.
    agg = A.Aggregator(tmp, kf, datadir, grace=600).start()
    # Every tcp and udp port once: the encoding of man/teiten-protocol.7,
    # whose body is the same for each interval.
    body = b"".join(A.varint_put(t) for t in [65536, 65536] + [0] * 14)
    ports = A.varint_put(65536) + b"\x00\x01" * 65536
    body += ports + ports + A.varint_put(0) + A.varint_put(0)

    def every(sid, start):
        return (bytes([1, len(sid)]) + sid.encode() +
                A.varint_put(A.zigzag(start)) + A.varint_put(60) +
                A.varint_put(0) + body)
    try:
        base = int(time.time()) // 60 * 60 - 86400
        lag = Client(agg, "lag", psk["lag"])
        got = lag.send(base, 60, {("tcp", 80): 1})
        check(got[0] == STORED, "(d) the lagging sensor's record is stored")
        big = Client(agg, "big", psk["big"])
        results = []
        for i in range(1, 61):
            results.append(big.send_raw(every("big", base + 60 * i)))
        stored = sum(1 for r in results if r[0] == STORED)
        refused = [r for r in results if r[0] == REFUSED]
        check(0 < stored < 60 and len(refused) == 60 - stored and
              all(r[2] == OPEN for r in refused),
              "(d) %d all-port records stored, then %d refused with reason "
              "3 (too many open intervals)" % (stored, len(refused)))
        check(all(r[0] == STORED for r in results[:stored]),
              "(d) the refusals come after every stored record")
        hwm = A.vm_hwm(agg.proc.pid)
        check(hwm < 256 << 20, "(d) aggregator peak RSS %.1f MiB < 256 MiB"
              % (hwm / 1048576))
        # The lagging sensor still gets its next record in.
        got = lag.send(base + 60, 60, {("tcp", 80): 1})
        check(got[0] == STORED, "(d) the lagging sensor's next record is "
              "still stored")
        big.close()
        lag.close()
        check(agg.stop() == 0, "(d) the aggregator stops on SIGTERM")
        got = A.fault_totals(datadir, "big", base, int(time.time()) + 600)
        check(got.get("deferred") == len(refused) and got.get("refused") == 0,
              "(d) DATADIR/faults/big.rrd counts the %d records asked to "
              "wait as deferred: %s" % (len(refused), got))
    finally:
        agg.stop(signal.SIGKILL)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        refusals(tmp)
        rebuild_future(tmp)
        fast_clocks(tmp)
        open_cap(tmp)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
