"""Progress of long work, and a replay that gives up, with real processes:
- `teiten-sensor -r` on a pseudo-terminal ends its progress line with the
  file's size (os.path.getsize) read, 100%, and the packets in the file
  (counted from its record headers), through both readers; from a pipe,
  the packets read so far are drawn on the way; with standard error not
  a terminal it writes no progress (no \\r);
- `teiten-aggregator rebuild` on a pseudo-terminal ends its line with
  every archived interval done (DATADIR/archive/*.arc counted here); not
  on a terminal, no progress;
- `-r -a` towards a loopback port where nobody listens, with --give-up 2
  (and give_up = 1 in a config file), exits non-zero no sooner than that,
  says it gave up, and leaves one record per interval in the spool
  (decoded here); a replay with the same spool once an aggregator listens
  delivers them all, on a terminal ending with every spooled record
  sent."""

import glob
import os
import pty
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import check  # noqa: E402

T0 = 1700000000
INTERVAL = 60


def run_pty(cmd, timeout=300):
    """cmd with standard error on a new pseudo-terminal (stdout to
    /dev/null): (exit status, what the terminal received, as text)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave,
                         stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []

    def drain():
        # Read while it runs: a full terminal buffer would block it.
        while True:
            try:
                d = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not d:
                break
            chunks.append(d)

    t = threading.Thread(target=drain)
    t.start()
    rc = p.wait(timeout)
    t.join(timeout)
    os.close(master)
    return rc, b"".join(chunks).decode(errors="replace")


def run_pipe(cmd, timeout=300):
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       text=True, timeout=timeout)
    return p.returncode, p.stderr


def pieces(text):
    """The terminal's text cut at every \\r and \\n: each drawn state."""
    return [s.strip() for s in re.split(r"[\r\n]", text) if s.strip()]


def test_sensor(pcap):
    size = os.path.getsize(pcap)
    packets = len(T.pcap_seconds(pcap))  # classic pcap files only
    for reader in ("direct", "libpcap"):
        cmd = [T.sensor_path(), "-r", pcap, "-n", str(INTERVAL), "--print",
               "--reader", reader]
        rc, text = run_pty(cmd)
        ends = [s for s in pieces(text) if s.startswith("read ") and
                " bytes (" in s]
        want = "read %d bytes (100%%), %d packets in " % (size, packets)
        check(rc == 0 and len(ends) == 1 and ends[0].startswith(want),
              "%s reader on a terminal: the last progress line says %r "
              "(got %r)" % (reader, want, ends))
        # Lines drawn on the way, if the read lasted long enough for any.
        mids = [int(m.group(1)) for m in
                re.finditer(r"read [\d.]+ [kMG]?B of [\d.]+ [kMG]?B "
                            r"\((\d+)%\), [\d.]+ [kMG]? ?packets/s, "
                            r"[\d:?]+ left", text)]
        check(mids == sorted(mids) and all(0 <= m <= 100 for m in mids),
              "%s reader: %d progress lines on the way, percentages "
              "rising %s" % (reader, len(mids), mids))
        rc, err = run_pipe(cmd)
        check(rc == 0 and "\r" not in err and " bytes (" not in err and
              "packets/s" not in err,
              "%s reader, standard error not a terminal: no progress" %
              reader)


def test_sensor_pipe(pcap):
    """From a pipe the size is unknown: the line says the packets read.
    It is drawn from every 65536th packet on, at most PROGRESS_HZ (4) times
    a second and first a quarter of a second after the start; the first
    half of the file (over 65536 packets) goes in at once, the rest once
    that quarter has passed, so that a packet count past it draws it."""
    with open(pcap, "rb") as f:
        data = f.read()
    packets = len(T.pcap_seconds(pcap))
    master, slave = pty.openpty()
    p = subprocess.Popen([T.sensor_path(), "-r", "-", "-n", str(INTERVAL),
                          "--print"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=slave)
    t0 = time.monotonic()
    os.close(slave)
    chunks = []

    def drain():
        while True:
            try:
                d = os.read(master, 65536)
            except OSError:
                break
            if not d:
                break
            chunks.append(d)

    t = threading.Thread(target=drain)
    t.start()
    p.stdin.write(data[:len(data) // 2])
    p.stdin.flush()
    T.wait_for(lambda: time.monotonic() - t0 >= 0.3, 1, "a quarter second")
    p.stdin.write(data[len(data) // 2:])
    p.stdin.close()
    rc = p.wait(300)
    t.join(300)
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    mids = [int(m.group(1)) for m in
            re.finditer(r"read (\d+) packets, [\d.]+ [kMG]? ?packets/s",
                        text)]
    ends = [s for s in pieces(text) if s.startswith("read %d packets in " %
                                                    packets)]
    check(rc == 0 and mids and mids == sorted(mids) and
          all(m % 65536 == 0 and m < packets for m in mids) and
          len(ends) == 1,
          "from a pipe on a terminal: packets read on the way %s, each a "
          "multiple of 65536, and %d at the end (%r)" % (mids, packets, ends))


def spool_records(spool):
    """{start: decoded record} of every record waiting in the spool, read
    with the test's own decoder (sensor/spool.h: one "<start>.rec" file
    per interval holding the encoded record)."""
    out = {}
    for path in glob.glob(os.path.join(spool, "*.rec")):
        with open(path, "rb") as f:
            out[int(os.path.basename(path).split(".")[0])] = \
                A.decode_record(f.read())
    return out


def give_up_once(cmd, seconds, port, spool, starts, what):
    t0 = time.monotonic()
    rc, err = run_pipe(cmd)
    took = time.monotonic() - t0
    m = re.search(r"no acknowledgement from the aggregator at "
                  r"127\.0\.0\.1:%d for %d s: giving up; "
                  r"(\d+) records? kept in the spool (\S+)$" %
                  (port, seconds), err, re.M)
    recs = spool_records(spool)
    check(rc != 0 and "\r" not in err and "spooled records" not in err,
          "%s: exits non-zero (%d), no progress on a pipe" % (what, rc))
    check(took >= seconds, "%s: gave up after %.1f s, no sooner than %d s" %
          (what, took, seconds))
    check(m is not None and int(m.group(1)) == len(starts) and
          m.group(2) == spool,
          "%s: one line says it gave up and keeps %d records in %s (%s)" %
          (what, len(starts), spool, m.group(0) if m else err[-400:]))
    check(sorted(recs) == starts and
          all(r["sensor"] == "s1" and r["start"] == s and
              r["len"] == INTERVAL for s, r in recs.items()),
          "%s: the spool holds one record of s1 per interval, %d" %
          (what, len(starts)))


def test_give_up(tmp, pcap):
    secs = T.pcap_seconds(pcap)
    first, last = min(secs) // INTERVAL, max(secs) // INTERVAL
    starts = [i * INTERVAL for i in range(first, last + 1)]
    keysfile, keys = A.make_keys(tmp, ["s1"])
    port = A.free_port()  # nobody listens there
    spool = os.path.join(tmp, "spool")
    base = [T.sensor_path(), "-r", pcap, "-a", "127.0.0.1:%d" % port,
            "-s", "s1", "-K", keys["s1"], "--spool", spool, "-n",
            str(INTERVAL)]
    give_up_once(base + ["--give-up", "2"], 2, port, spool, starts,
                 "--give-up 2")
    conf = os.path.join(tmp, "sensor.conf")
    with open(conf, "w") as f:
        f.write("[sensor]\ngive_up = 1\n")
    give_up_once(base + ["-c", conf], 1, port, spool, starts,
                 "give_up = 1 in the config file")

    agg = A.Aggregator(tmp, keysfile, os.path.join(tmp, "data"),
                       port=port, extra=["-n", str(INTERVAL)]).start()
    try:
        rc, text = run_pty(base + ["--give-up", "2"])
        archived = sorted(r[1] for r in A.archive_records(agg.datadir)
                          if r[0] == "s1")
        check(rc == 0 and spool_records(spool) == {} and
              archived == starts,
              "with an aggregator listening, the same spool is delivered: "
              "exit %d, %d of %d intervals archived" %
              (rc, len(archived), len(starts)))
        sent = "sent %d of %d spooled records" % (len(starts), len(starts))
        check(sent in pieces(text),
              "on a terminal the sending ends with %r" % sent)
    finally:
        agg.stop()
    return os.path.join(tmp, "data")


def test_rebuild(datadir):
    arcs = len(glob.glob(os.path.join(datadir, "archive", "*.arc")))
    cmd = [A.aggregator_path(), "rebuild", "-d", datadir]
    rc, text = run_pty(cmd)
    want = "rebuild: %d of %d archived intervals (100%%) in " % (arcs, arcs)
    ends = [s for s in pieces(text) if "archived intervals (100%) in" in s]
    check(rc == 0 and arcs > 0 and len(ends) == 1 and
          ends[0].startswith(want),
          "rebuild on a terminal ends with %r (got %r)" % (want, ends))
    mids = [(int(m.group(1)), int(m.group(2))) for m in
            re.finditer(r"rebuild: (\d+) of (\d+) archived intervals "
                        r"\(\d+%\), [\d:?]+ left", text)]
    check(all(t == arcs and d <= arcs for d, t in mids) and
          [d for d, _ in mids] == sorted(d for d, _ in mids),
          "rebuild: %d progress lines on the way, each of %d" %
          (len(mids), arcs))
    rc, err = run_pipe(cmd)
    check(rc == 0 and "\r" not in err and "archived intervals" not in err,
          "rebuild, standard error not a terminal: no progress")


def main(tmp):
    pcap = os.path.join(tmp, "s.pcap")
    # 40 minutes, 40 intervals of a minute, 16 MB.
    A.gencap(pcap, 200000, 2400, T0, 11)
    test_sensor(pcap)
    test_sensor_pipe(pcap)
    pcaps = T.pcaps_dir()
    if pcaps is not None:
        for name in ("esnet_nmap_80_all.pcap",
                     "esnet_tcp_0_1000_20190821.pcap"):
            if os.path.exists(os.path.join(pcaps, name)):
                test_sensor(os.path.join(pcaps, name))
    # Fewer keys for the aggregator: every key is an RRD to rebuild.
    small = os.path.join(tmp, "small.pcap")
    A.gencap(small, 1000, 600, T0, 12)
    datadir = test_give_up(tmp, small)
    test_rebuild(datadir)


if __name__ == "__main__":
    T.run_in_tmp("teiten-progress-", main)
