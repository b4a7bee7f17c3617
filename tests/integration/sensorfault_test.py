"""The sensor never wedges (issue 8), with real processes:
- a day of packets with one packet stamped 2035 in the middle, or first
  (also stamped 1971), or last (also 1971): --print gives exactly the
  counts of the day without it (computed here from the packets this test
  wrote), no empty intervals, the outlier counted, and it runs about as
  fast as the capture without that packet;
- a capture that really resumes two days later, or whose first two
  packets really are years before the rest: every packet counted where
  it belongs, the empty intervals between reported, no outlier;
- an undecodable record and a record of another sensor in the spool are
  set aside, every other record is stored, and -r exits (status 1, with a
  summary line saying why);
- records refused for good (dated ahead of the aggregator) are set aside
  and -r exits 1 saying why; records refused for too many open intervals
  wait and go again on the same connection, and all are stored;
- a spool on a full filesystem: -r exits 1 and says how many were lost;
- three sensors started at once on their default spools store all their
  records; a second process on a spool in use fails at start;
- the spool belongs to the teiten user, and a spool others can write is
  refused;
- SIGHUP with a changed key file: the sensor connects again with the new
  key and its records are stored (it used to die); SIGHUP reads its
  configuration file again: a broken one is logged and changes nothing, a
  new key_file applies at once, a new interval is named as waiting for a
  restart and the records keep the old one;
- live, in network namespaces (as live_test.py): a clock set back, then
  forward, by 3 hours does not silence the sensor, and SIGHUP loses no
  interval."""

import glob
import os
import pwd
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check, wait_for  # noqa: E402

T0 = 1700000040  # a multiple of 60
DAY = 86400
STRAY = 2061000000  # in 2035
STRAY_PAST = 40000000  # in 1971
RETRY_WAIT = 60  # seconds for a sensor to say it is retrying


# --- Captures written here, so that the expected counts are known ----------

def ipv4_packet(proto, dport, seq):
    """Ethernet + IPv4 + a TCP SYN or UDP header towards dport."""
    if proto == "tcp":
        l4 = struct.pack(">HHIIBBHHH", 40000 + seq % 1000, dport, seq, 0,
                         5 << 4, 0x02, 1024, 0, 0)
        pnum = 6
    else:
        l4 = struct.pack(">HHHH", 40000 + seq % 1000, dport, 8, 0)
        pnum = 17
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), seq & 0xffff,
                     0, 64, pnum, 0, bytes([198, 51, 100, 7]),
                     bytes([192, 0, 2, 1 + seq % 200]))
    eth = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
    return eth + ip + l4


def write_pcap(path, packets):
    """packets: (seconds, bytes) in file order; classic pcap, Ethernet."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for sec, data in packets:
            f.write(struct.pack("<IIII", sec, 0, len(data), len(data)))
            f.write(data)


def day_packets(seed):
    """A day of scans, one every few seconds: [(sec, proto, port)]."""
    rnd = random.Random(seed)
    ports = [22, 23, 80, 443, 445, 3389, 5060, 8080]
    out, sec = [], T0
    while sec < T0 + DAY:
        out.append((sec, rnd.choice(("tcp", "udp")), rnd.choice(ports)))
        sec += rnd.randint(1, 40)
    return out


def timed_print(pcap):
    t = time.monotonic()
    p = T.run_sensor(["-r", pcap, "--print", "-n", "60"])
    return p, time.monotonic() - t


def count_frames(pkts):
    expected = {}
    for sec, proto, port in pkts:
        k = (sec // 60 * 60, proto, port)
        expected[k] = expected.get(k, 0) + 1
    return expected


def test_stray(tmp):
    """One packet stamped years off, in the middle, first or last."""
    pkts = day_packets(8)
    frames = [(sec, ipv4_packet(proto, port, i))
              for i, (sec, proto, port) in enumerate(pkts)]
    clean = os.path.join(tmp, "day.pcap")
    write_pcap(clean, frames)
    expected = count_frames(pkts)
    pc, tclean = timed_print(clean)
    check(T.parse_print(pc.stdout) == expected,
          "the capture without a stray packet gives the day's counts")
    nint = pkts[-1][0] // 60 - pkts[0][0] // 60 + 1
    mid = len(frames) // 2
    for where, pos, stamp, year in [
            ("in the middle", mid, STRAY, 2035),
            ("first", 0, STRAY, 2035),
            ("first", 0, STRAY_PAST, 1971),
            ("last", len(frames), STRAY, 2035),
            ("last", len(frames), STRAY_PAST, 1971)]:
        what = "a day plus one packet stamped %d, %s" % (year, where)
        stray = os.path.join(tmp, "day-stray-%d-%d.pcap" % (pos, year))
        write_pcap(stray, frames[:pos] +
                   [(stamp, ipv4_packet("tcp", 4444, 7))] + frames[pos:])
        ps, tstray = timed_print(stray)
        try:
            diff = T.diff_counts(expected, T.parse_print(ps.stdout))
        except AssertionError as e:  # not in doc/CONTRACTS.md contract 3 order
            diff = [str(e)]
        check(not diff, "%s: --print gives the day's %d packets exactly%s"
              % (what, len(pkts), "\n" + "\n".join(diff) if diff else ""))
        check(" empty" not in ps.stderr,
              "%s: no empty intervals reported" % what)
        total = [line for line in ps.stderr.splitlines()
                 if line.startswith("total over ")]
        check(total and total[0].endswith(" outliers 1") and
              T.total_seen(ps.stderr) == len(pkts) and
              "1 packet with a stray timestamp" in ps.stderr,
              "%s: the outlier is counted apart: %s" % (
                  what, total[-1] if total else ps.stderr[-300:]))
        check(total and total[0].startswith("total over %d intervals" %
                                            nint),
              "%s: intervals reported: the day's %d only" % (what, nint))
        check(tstray <= 3 * tclean + 2, "%s: as fast: %.2fs against %.2fs "
              "without the stray packet" % (what, tstray, tclean))


def test_jump(tmp):
    """A capture that really resumes two days later, or really starts
    years later than its first two packets: followed, nothing is an
    outlier, the empty intervals between are reported."""
    half = day_packets(9)[:500]
    later = [(sec + 2 * DAY, proto, port) for sec, proto, port in half]
    cases = [("a capture that resumes two days later", half + later),
             ("a capture whose first two packets are in 1971",
              [(STRAY_PAST, "tcp", 22), (STRAY_PAST, "udp", 23)] + half)]
    for what, pkts in cases:
        path = os.path.join(tmp, "jump-%d.pcap" % len(FAILURES))
        write_pcap(path, [(sec, ipv4_packet(proto, port, i))
                          for i, (sec, proto, port) in enumerate(pkts)])
        p = T.run_sensor(["-r", path, "--print", "-n", "60"])
        try:
            diff = T.diff_counts(count_frames(pkts), T.parse_print(p.stdout))
        except AssertionError as e:  # not in doc/CONTRACTS.md contract 3 order
            diff = [str(e)]
        check(not diff, "%s: --print gives all %d packets%s" % (
            what, len(pkts), "\n" + "\n".join(diff) if diff else ""))
        total = [line for line in p.stderr.splitlines()
                 if line.startswith("total over ")]
        nint = pkts[-1][0] // 60 - pkts[0][0] // 60 + 1
        check(total and total[0].startswith("total over %d intervals" %
                                            nint) and
              total[0].endswith(" outliers 0") and " empty" in p.stderr,
              "%s: every interval between reported, no outlier: %s" % (
                  what, total[0] if total else p.stderr[-300:]))


# --- With an aggregator ---------------------------------------------------

def interval_starts(pcap, interval=60):
    secs = T.pcap_seconds(pcap)
    lo, hi = min(secs) // interval, max(secs) // interval
    return [i * interval for i in range(lo, hi + 1)]


def archived(agg, sid):
    return sorted(r[1] for r in A.archive_records(agg.datadir)
                  if r[0] == sid)


def sensor_cmd(pcap, addr, sid, key, spool=None, extra=()):
    cmd = [T.sensor_path(), "-r", pcap, "-a", addr, "-s", sid, "-K", key,
           "-n", "60"] + list(extra)
    if spool is not None:
        cmd += ["--spool", spool]
    return cmd


def give_to_teiten(*paths):
    pw = pwd.getpwnam(T.SENSOR_USER)
    for p in paths:
        os.chown(p, pw.pw_uid, pw.pw_gid)


def read(path):
    with open(path) as f:
        return f.read()


class Background:
    """A sensor in the background, its stderr in a file."""

    def __init__(self, cmd, errpath):
        self.errpath = errpath
        with open(errpath, "w") as err:
            self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                      stderr=err)

    def err(self):
        return read(self.errpath)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()


def spool_record(tmp, keys, pcap, sid):
    """A valid spooled record of sensor sid: replay towards a port where
    nothing listens and stop once the records are spooled."""
    spool = os.path.join(tmp, "spool-gen-" + sid)
    bg = Background(sensor_cmd(pcap, "127.0.0.1:%d" % A.free_port(), sid,
                               keys[sid], spool),
                    os.path.join(tmp, "gen-%s.err" % sid))
    ok = wait_for(lambda: "retrying" in bg.err(), RETRY_WAIT,
                  "the spool to fill")
    bg.stop()
    recs = sorted(glob.glob(os.path.join(spool, "*.rec")))
    if not ok or not recs:
        raise AssertionError("no record spooled for %s: %s" % (sid,
                                                              bg.err()))
    return recs[0]


def test_set_aside(tmp, agg, keys):
    pcap = os.path.join(tmp, "s1.pcap")
    A.gencap(pcap, 3000, 300, T0, 11)
    other = os.path.join(tmp, "s2.pcap")
    A.gencap(other, 100, 60, T0 - 3600, 12)
    foreign = spool_record(tmp, keys, other, "s2")
    spool = os.path.join(tmp, "spool-s1")
    os.mkdir(spool, 0o700)
    garbage = os.path.join(spool, "%d.rec" % (T0 - 600))
    with open(garbage, "wb") as f:
        f.write(b"\x01not a record at all" + os.urandom(64))
    shutil.copy(foreign, os.path.join(spool, os.path.basename(foreign)))
    give_to_teiten(spool, *glob.glob(os.path.join(spool, "*")))
    try:
        p = subprocess.run(sensor_cmd(pcap, agg.addr, "s1", keys["s1"],
                                      spool), capture_output=True,
                           text=True, timeout=120)
    except subprocess.TimeoutExpired:
        check(False, "an undecodable spooled record: -r exits")
        return
    starts = interval_starts(pcap)
    aside = sorted(os.path.basename(x) for x in
                   glob.glob(os.path.join(spool, "*.rejected")))
    check(p.returncode == 1, "with records set aside, -r exits 1 (got %d)" %
          p.returncode)
    check(aside == sorted(["%d.rejected" % (T0 - 600),
                           os.path.basename(foreign).replace(
                               ".rec", ".rejected")]) and
          not glob.glob(os.path.join(spool, "*.rec")),
          "the undecodable and the foreign record are set aside: %s" % aside)
    check("cannot be decoded" in p.stderr and
          'a record of sensor "s2", not of "s1"' in p.stderr and
          "2 records lost or refused: 1 unreadable in the spool, 1 of "
          "another sensor id" in p.stderr,
          "each is logged, and the summary says why:\n" + p.stderr[-800:])
    check(p.stderr.count("cannot be decoded") == 1,
          "the undecodable record is logged once")
    agg_s1 = archived(agg, "s1")
    check(agg_s1 == starts, "every other record of s1 is stored (%d of %d)"
          % (len(agg_s1), len(starts)))
    check(not archived(agg, "s2"), "the record of s2 was not sent by s1")


def test_refused(tmp, agg, keys):
    """Records dated ahead of the aggregator's clock are refused for good:
    set aside, and -r exits 1 saying why.  More intervals than the
    aggregator keeps open for one sensor: those refused for that wait and
    go again on the same connection, and all are stored."""
    future = os.path.join(tmp, "future.pcap")
    A.gencap(future, 300, 180, (int(time.time()) + 7200) // 60 * 60, 50)
    spool = os.path.join(tmp, "spool-future")
    p = subprocess.run(sensor_cmd(future, agg.addr, "s5", keys["s5"],
                                  spool), capture_output=True, text=True,
                       timeout=120)
    n = len(interval_starts(future))
    aside = glob.glob(os.path.join(spool, "*.rejected"))
    check(p.returncode == 1 and len(aside) == n and
          "%d records lost or refused: %d refused: interval in the future"
          % (n, n) in p.stderr and
          p.stderr.count("too far ahead of the aggregator's clock") == n,
          "records from the future are refused, set aside, logged once "
          "each, and -r exits 1 (%d of %d set aside):\n%s" %
          (len(aside), n, p.stderr[-500:]))

    # An aggregator that applies its cap of open intervals at all times
    # (--open-budget 0): (grace 2 + skew 120) / 60 + 2 = 4 per sensor.
    many = os.path.join(tmp, "many.pcap")
    A.gencap(many, 1000, 40 * 60, T0, 51)
    starts = interval_starts(many)
    capped = A.Aggregator(tmp, agg.cmd[agg.cmd.index("-K") + 1],
                          os.path.join(tmp, "data-capped"), grace=2,
                          extra=["--open-budget", "0"]).start()
    try:
        p = subprocess.run(sensor_cmd(many, capped.addr, "s6", keys["s6"],
                                      os.path.join(tmp, "spool-many")),
                           capture_output=True, text=True, timeout=280)
        stored = archived(capped, "s6")
    finally:
        capped.stop()
    check("over the open interval cap" in capped.text() and
          not re.search(r"records: .* 0 over the open interval cap",
                        capped.text()),
          "the capped aggregator refused records over its cap")
    check(p.returncode == 0 and stored == starts,
          "%d intervals at once, more than the aggregator keeps open: all "
          "stored, exit %d" % (len(starts), p.returncode))
    check(p.stderr.count("too many open intervals for this sensor; "
                         "sending again") == 1 and
          "retrying" not in p.stderr,
          "refused for too many open intervals, the sensor waited on the "
          "same connection, logged once:\n" + p.stderr[-400:])


def test_handover(tmp, agg, keys):
    """Records an earlier user left in a spool (here root's, mode 600) are
    handed to the sensor's user at start and sent, not set aside."""
    old = os.path.join(tmp, "old.pcap")
    A.gencap(old, 200, 120, T0 - 7200, 60)
    rec = spool_record(tmp, keys, old, "s7")
    spool = os.path.dirname(rec)
    for p in [spool] + glob.glob(os.path.join(spool, "*")):
        os.chown(p, 0, 0)
    pcap = os.path.join(tmp, "new.pcap")
    A.gencap(pcap, 200, 120, T0, 61)
    p = subprocess.run(sensor_cmd(pcap, agg.addr, "s7", keys["s7"], spool),
                       capture_output=True, text=True, timeout=120)
    want = sorted(interval_starts(old) + interval_starts(pcap))
    check(p.returncode == 0 and archived(agg, "s7") == want and
          not glob.glob(os.path.join(spool, "*.rejected")),
          "records left by root in the spool are handed over and sent "
          "(exit %d):\n%s" % (p.returncode, p.stderr[-400:]))


def test_disk_full(tmp, agg, keys):
    mnt = os.path.join(tmp, "small")
    os.mkdir(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs",
                       mnt]).returncode != 0:
        print("NOTE: cannot mount a tmpfs; the full-disk part is skipped")
        return
    try:
        spool = os.path.join(mnt, "spool")
        os.mkdir(spool, 0o700)
        # Fill the filesystem: every record write fails.
        fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096) > 0:
                pass
        except OSError:
            pass
        os.close(fd)
        pcap = os.path.join(tmp, "s3.pcap")
        A.gencap(pcap, 1000, 600, T0, 13)
        n = len(interval_starts(pcap))
        p = subprocess.run(sensor_cmd(pcap, agg.addr, "s3", keys["s3"],
                                      spool), capture_output=True,
                           text=True, timeout=120)
        check(p.returncode == 1,
              "a replay that lost records to a full disk exits 1 (got %d)"
              % p.returncode)
        check("%d records lost or refused: %d not spooled" % (n, n)
              in p.stderr, "the summary says %d were lost and why:\n%s" %
              (n, p.stderr[-600:]))
    finally:
        subprocess.run(["umount", mnt])


def test_default_spools(tmp, agg, keys, ids):
    caps = {}
    for i, sid in enumerate(ids):
        caps[sid] = os.path.join(tmp, "%s.pcap" % sid)
        A.gencap(caps[sid], 600, 360, T0, 20 + i)
    # Left in the spool base by a version that shared one spool: the
    # first sensor's record moves to its own spool and is sent; another
    # sensor's stays.
    base = "/var/spool/teiten-sensor"
    os.makedirs(base, exist_ok=True)
    old = {ids[0]: T0 - 3600, "gone%d" % os.getpid(): T0 - 7200}
    for sid, start in old.items():
        path = os.path.join(base, "%d.rec" % start)
        with open(path, "wb") as f:
            f.write(A.encode_record(sid, start, 60, {("tcp", 4321): 5}))
        os.chmod(path, 0o600)
    try:
        default_spools_run(tmp, agg, keys, ids, caps, old)
    finally:
        for start in old.values():
            try:
                os.unlink(os.path.join(base, "%d.rec" % start))
            except FileNotFoundError:
                pass


def default_spools_run(tmp, agg, keys, ids, caps, old):
    base = "/var/spool/teiten-sensor"
    procs = [(sid, subprocess.Popen(sensor_cmd(caps[sid], agg.addr, sid,
                                               keys[sid]),
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True))
             for sid in ids]
    errs = {}
    for sid, p in procs:
        errs[sid] = p.communicate(timeout=120)[1]
        check(p.returncode == 0, "sensor %s on its default spool exits 0%s"
              % (sid, "" if p.returncode == 0 else ": " + errs[sid]))
    want = {sid: sorted(interval_starts(caps[sid]) +
                        ([old[sid]] if sid in old else [])) for sid in ids}
    total = sum(len(w) for w in want.values())
    stored = sum(len(archived(agg, sid)) for sid in ids)
    check(all(archived(agg, sid) == want[sid] for sid in ids),
          "three sensors at once on default spools: %d of %d records "
          "stored, the old shared spool's one included" % (stored, total))
    left = sorted(f for f in os.listdir(base) if f.endswith(".rec"))
    check(left == ["%d.rec" % (T0 - 7200)],
          "the old shared spool keeps only the other sensor's record: %s"
          % left)
    check("1 record of %s moved here from %s" % (ids[0], base)
          in errs[ids[0]], "the move is logged:\n" + errs[ids[0]][-400:])
    teiten = pwd.getpwnam(T.SENSOR_USER).pw_uid
    for sid in ids:
        d = "/var/spool/teiten-sensor/" + sid
        st = os.stat(d) if os.path.isdir(d) else None
        check(st is not None and st.st_uid == teiten and
              st.st_mode & 0o777 == 0o700,
              "sensor %s has its own spool %s, owned by teiten, mode 700"
              % (sid, d))


def test_lock_and_mode(tmp, keys):
    pcap = os.path.join(tmp, "lock.pcap")
    A.gencap(pcap, 100, 120, T0, 30)
    addr = "127.0.0.1:%d" % A.free_port()
    spool = os.path.join(tmp, "spool-lock")
    first = Background(sensor_cmd(pcap, addr, "s1", keys["s1"], spool),
                       os.path.join(tmp, "lock1.err"))
    try:
        ok = wait_for(lambda: "retrying" in first.err(), RETRY_WAIT,
                      "the first sensor to use its spool")
        second = Background(sensor_cmd(pcap, addr, "s2", keys["s2"], spool),
                            os.path.join(tmp, "lock2.err"))
        try:
            second.p.wait(60)
        except subprocess.TimeoutExpired:
            pass
        rc = second.stop()
        check(ok and rc == 1 and
              "in use by another teiten-sensor" in second.err(),
              "a second process on a spool in use fails at start: %s" %
              second.err().strip()[-300:])
    finally:
        first.stop()
    open_spool = os.path.join(tmp, "spool-open")
    os.mkdir(open_spool)
    os.chmod(open_spool, 0o777)
    p = subprocess.run(sensor_cmd(pcap, addr, "s1", keys["s1"], open_spool),
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and "writable by others" in p.stderr,
          "a spool others can write is refused: %s" % p.stderr.strip())


def test_sighup(tmp, agg, keys):
    pcap = os.path.join(tmp, "hup.pcap")
    A.gencap(pcap, 600, 300, T0, 40)
    keyfile = os.path.join(tmp, "hup.key")
    with open(keyfile, "w") as f:
        f.write(os.urandom(32).hex() + "\n")  # not the aggregator's
    os.chmod(keyfile, 0o600)
    give_to_teiten(keyfile)  # readable after the sensor drops root
    spool = os.path.join(tmp, "spool-hup")
    bg = Background(sensor_cmd(pcap, agg.addr, "s4", keyfile, spool),
                    os.path.join(tmp, "hup.err"))
    try:
        ok = wait_for(lambda: "retrying" in bg.err(), RETRY_WAIT,
                      "the wrong key to be refused")
        shutil.copy(keys["s4"], keyfile)
        bg.p.send_signal(signal.SIGHUP)
        bg.p.wait(120)
    except subprocess.TimeoutExpired:
        pass
    finally:
        rc = bg.stop()
    check(ok and rc == 0, "after SIGHUP with the right key, -r exits 0 "
          "(got %s):\n%s" % (rc, bg.err()[-600:]))
    check("SIGHUP: the key in %s changed" % keyfile in bg.err(),
          "the new key is logged")
    check(archived(agg, "s4") == interval_starts(pcap),
          "every record is stored with the new key")


def test_sighup_config(tmp, agg, keys):
    pcap = os.path.join(tmp, "hupc.pcap")
    A.gencap(pcap, 600, 300, T0, 41)
    wrong = os.path.join(tmp, "hupc-wrong.key")
    right = os.path.join(tmp, "hupc-right.key")
    with open(wrong, "w") as f:
        f.write(os.urandom(32).hex() + "\n")  # not the aggregator's
    shutil.copy(keys["s8"], right)
    for k in (wrong, right):
        os.chmod(k, 0o600)
    give_to_teiten(wrong, right)
    conf = os.path.join(tmp, "hupc.conf")

    def write_conf(extra):
        with open(conf, "w") as f:
            f.write("[sensor]\naggregator = %s\nsensor_id = s8\n%s"
                    % (agg.addr, extra))

    write_conf("key_file = %s\ninterval = 60\n" % wrong)
    spool = os.path.join(tmp, "spool-hupc")
    bg = Background([T.sensor_path(), "-c", conf, "-r", pcap, "--spool",
                     spool], os.path.join(tmp, "hupc.err"))
    try:
        ok = wait_for(lambda: "retrying" in bg.err(), RETRY_WAIT,
                      "the wrong key to be refused")
        write_conf("key_file = %s\ninterval = banana\n" % right)
        bg.p.send_signal(signal.SIGHUP)
        ok = ok and wait_for(
            lambda: "configuration not reloaded" in bg.err(), RETRY_WAIT,
            "the broken configuration to be logged")
        check(ok and "the key in %s is unchanged" % wrong in bg.err(),
              "SIGHUP with a broken configuration: logged, the key file "
              "in use read again and kept:\n%s" % bg.err()[-600:])
        write_conf("key_file = %s\ninterval = 120\n" % right)
        bg.p.send_signal(signal.SIGHUP)
        bg.p.wait(120)
    except subprocess.TimeoutExpired:
        pass
    finally:
        rc = bg.stop()
    err = bg.err()
    check(ok and rc == 0, "after SIGHUP with the right key_file, -r exits "
          "0 (got %s):\n%s" % (rc, err[-600:]))
    check("SIGHUP: configuration read again from %s" % conf in err and
          "SIGHUP: changed, but only applied at the next start: interval"
          in err and "SIGHUP: the key in %s changed" % right in err,
          "SIGHUP logs the file read, the interval waiting for a restart "
          "and the new key:\n%s" % err[-800:])
    check(archived(agg, "s8") == interval_starts(pcap, 60),
          "every record is stored, in intervals of the old length")


# --- Live: a clock stepped by hours, and SIGHUP ----------------------------

LIVE_LEN = 10
# An interval closes LIVE_SLACK_SEC (2) after its end; the timer looks at
# the clock at least every second; 2 s more for a loaded machine.
LIVE_REPORT_WITHIN = LIVE_LEN + 2 + 1 + 2


def live_intervals(text):
    """[(start, packets seen)] from the sensor's per-interval totals."""
    out = []
    for line in text.splitlines():
        if line.startswith("interval ") and ": seen " in line:
            head, rest = line.split(": seen ", 1)
            out.append((int(head.split()[1]), int(rest.split()[0])))
    return out


def wait_report(sensor, cond, timeout):
    """Seconds until the sensor reports, from now on, an interval
    (start, seen) that satisfies cond, or None."""
    t = time.monotonic()
    deadline = t + timeout
    old = len(live_intervals(sensor.err.text()))
    while time.monotonic() < deadline:
        if any(cond(st, n) for st, n in
               live_intervals(sensor.err.text())[old:]):
            return time.monotonic() - t
        if sensor.p.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def test_live_clock(tmp):
    """A live sensor whose clock is set back 3 hours, then forward again,
    reports packets in intervals of the new time within one interval (plus
    the 2 s close delay) of each step.  The test clock (TEITEN_TEST_CLOCK_FILE)
    moves the wall clock and packet timestamps of the sensor alone, as a
    step of the system clock moves both; the system's clock is not
    touched.  Then SIGHUP: the sensor logs it and goes on counting, the
    interval open at the signal reported with its packets."""
    import live_test as L
    if shutil.which("hping3") is None:
        check(False, "hping3 is needed for the live clock test")
        return
    net = L.Net()
    clock = os.path.join(tmp, "clock")
    with open(clock, "w") as f:
        f.write("0\n")
    os.chmod(clock, 0o644)
    procs = []
    try:
        try:
            net.setup()
        except L.Skip as e:
            print("NOTE: the live clock part is skipped: %s" % e)
            return
        sensor = L.Proc("sensor", net.dark([
            "env", "TEITEN_TEST_CLOCK_FILE=" + clock, T.sensor_path(), "-i",
            net.dark_if, "--print", "-n", str(LIVE_LEN)]),
            marker="listening on")
        procs.append(sensor)
        sensor.wait_marker(15)
        traffic = L.Proc("hping3", net.scan([
            "hping3", "-q", "-n", "-1", "-i", "u100000",
            L.DARK_HPING_TARGET]))
        procs.append(traffic)
        first = wait_report(sensor, lambda st, n: n > 0,
                            2 * LIVE_REPORT_WITHIN)
        check(first is not None, "the live sensor reports packets")

        with open(clock, "w") as f:
            f.write("-10800\n")
        back = wait_report(sensor, lambda st, n: n > 0 and
                           st < time.time() - 10000, 3 * LIVE_REPORT_WITHIN)
        check(back is not None and back <= LIVE_REPORT_WITHIN,
              "clock set back 3 hours: packets reported in the new time "
              "after %s s (at most %d)" % (
                  "%.1f" % back if back is not None else "never",
                  LIVE_REPORT_WITHIN))
        check("set back; intervals start again" in sensor.err.text(),
              "the step back is logged")

        with open(clock, "w") as f:
            f.write("0\n")
        fwd = wait_report(sensor, lambda st, n: n > 0 and
                          st >= time.time() - 3 * LIVE_LEN,
                          3 * LIVE_REPORT_WITHIN)
        check(fwd is not None and fwd <= LIVE_REPORT_WITHIN,
              "clock set forward 3 hours: packets reported in the new time "
              "after %s s (at most %d)" % (
                  "%.1f" % fwd if fwd is not None else "never",
                  LIVE_REPORT_WITHIN))

        hup = time.time()
        sensor.p.send_signal(signal.SIGHUP)
        at = wait_report(sensor, lambda st, n: n > 0 and
                         st <= hup < st + LIVE_LEN, 2 * LIVE_REPORT_WITHIN)
        later = None if at is None else wait_report(
            sensor, lambda st, n: n > 0 and st > hup, 2 * LIVE_REPORT_WITHIN)
        check(sensor.p.poll() is None and at is not None and
              later is not None and
              "SIGHUP: no aggregator, no key to read" in
              sensor.err.text(),
              "SIGHUP: logged, the open interval reported with its packets, "
              "counting goes on")
        traffic.stop(signal.SIGTERM, 15)
        rc = sensor.stop(signal.SIGTERM, 15)
        check(rc == 0, "the live sensor exits 0 on SIGTERM (got %d)" % rc)
    except L.Failure as e:
        check(False, "live clock test: %s" % e)
    finally:
        for p in procs:
            p.kill()
        net.cleanup()


def main():
    ids = ["sf%d%s" % (os.getpid(), c) for c in "abc"]
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        test_stray(tmp)
        test_jump(tmp)
        if os.geteuid() != 0:
            print("NOTE: not root; the spool parts are skipped")
            return 1 if FAILURES else 0
        keysfile, keys = A.make_keys(tmp, ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"] + ids)
        agg = A.Aggregator(tmp, keysfile, os.path.join(tmp, "data"),
                           grace=2).start()
        try:
            test_set_aside(tmp, agg, keys)
            test_refused(tmp, agg, keys)
            test_handover(tmp, agg, keys)
            test_disk_full(tmp, agg, keys)
            test_default_spools(tmp, agg, keys, ids)
            test_lock_and_mode(tmp, keys)
            test_sighup(tmp, agg, keys)
            test_sighup_config(tmp, agg, keys)
            test_live_clock(tmp)
        finally:
            agg.stop()
            for sid in ids:
                shutil.rmtree("/var/spool/teiten-sensor/" + sid,
                              ignore_errors=True)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
