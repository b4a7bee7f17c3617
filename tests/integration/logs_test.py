"""What the daemons say at the default verbosity (man/teiten-aggregator.8,
LOGGING and SIGNALS; man/teiten-sensor.8, SIGNALS):

  (a) the aggregator logs a sensor's first connection once, with the
      address the test connected from, and not its reconnections;
  (b) late and refused records as they come: the first of a kind at once,
      with its interval in ISO 8601, the rest counted and logged together
      (here at the stop), with the range of their intervals;
  (c) a sensor that sends nothing for three intervals is logged as quiet,
      and its next record as "reporting again" after as long as the test
      kept it silent;
  (d) a summary line every log_summary seconds (5, from the config file):
      over all summary lines, the records stored, late and refused add up
      to what the test's clients were told in their acks;
  (e) SIGUSR1: a status line with the sensors connected and known now;
  (f) SIGHUP still reloads the keys: a sensor added to the keys file
      connects and is logged;
  (g) teiten-sensor, SIGUSR1: live on lo, the packets the test sent to a
      port its filter selects, counted in the open interval; replaying a
      capture to an aggregator that is down, the intervals closed and
      spooled (from the capture's own timestamps) and "not connected";
      live with an aggregator, "connected to";
  (h) without -f and without a syslog daemon (no /dev/log here, or one
      hidden by a mount namespace), the aggregator detaches, says why on
      standard error and goes on logging there.
Times come from the test's own clock and python's datetime, counts from
the acks the test's clients received."""

import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check, wait_for  # noqa: E402

INTERVAL = 5
SUMMARY = 5
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
STORED, DUPLICATE, REFUSED = A.STORED, A.DUPLICATE, A.REFUSED


def log_has(proc_log, pattern, timeout, what):
    """Waits for a line matching pattern in the file's text; the match."""
    def find():
        with open(proc_log) as f:
            return re.search(pattern, f.read())
    return wait_for(find, timeout, what)


def write_config(tmp):
    path = os.path.join(tmp, "teiten.conf")
    with open(path, "w") as f:
        f.write("[aggregator]\nlog_summary = %d\n" % SUMMARY)
    return path


def aligned(t):
    return int(t) - int(t) % INTERVAL


def connections_and_records(agg, keys, acks):
    """(a), (b): first connection, late and refused records."""
    s1 = A.Client(agg, "s1", A.read_psk(keys["s1"]))
    port = s1.sock.getsockname()[1]
    t0 = aligned(time.time()) - 10 * INTERVAL
    got = s1.send(t0, INTERVAL, {("tcp", 23): 3})
    acks.append(got[0])
    check(got[0] == STORED, "(b) a record of %s is stored: %s" %
          (T.iso(t0), got))
    m = log_has(agg.log, r"sensor s1 connected from 127\.0\.0\.1:%d\b" %
                port, 10, "the first connection line")
    check(m is not None, "(a) 'sensor s1 connected from 127.0.0.1:%d' is "
          "logged" % port)
    again = A.Client(agg, "s1", A.read_psk(keys["s1"]))
    got = again.send(t0, INTERVAL, {("tcp", 23): 3})
    acks.append(got[0])
    check(got[0] == DUPLICATE, "(a) the second session's resend is a "
          "duplicate: %s" % (got,))
    # It replaced the first session, as a sensor's reconnection does.
    s1.close()
    s1 = again
    check(agg.text().count("sensor s1 connected") == 1,
          "(a) the reconnection is not logged at the default verbosity")
    agg.wait_final(t0)
    late = [t0 - k * INTERVAL for k in range(1, 6)]
    for t in late:
        got = s1.send(t, INTERVAL, {("udp", 53): 1})
        acks.append(got[0])
        check(got[0] == STORED, "(b) late record %s stored: %s" %
              (T.iso(t), got))
    m = log_has(agg.log, r"sensor s1: 1 late record \(interval %s\)" %
                T.iso(late[0]), 10, "the first late record's line")
    check(m is not None, "(b) the first late record is logged at once "
          "with its interval %s" % T.iso(late[0]))
    past = [946684795 - k * INTERVAL for k in range(3)]
    for t in past:
        got = s1.send(t, INTERVAL, {("udp", 53): 1})
        acks.append(got[0])
        check(got[0] == REFUSED, "(b) a record of %s is refused: %s" %
              (T.iso(t), got))
    m = log_has(agg.log, r"sensor s1: 1 record refused: interval starts "
                r"before 2000-01-01 \(interval 1999-12-31T23:59:55Z\)", 10,
                "the first refused record's line")
    check(m is not None, "(b) the first refusal is logged at once, with "
          "its reason and interval")
    return s1, late, past


def quiet_and_back(agg, keys, acks):
    """(c): s2 sends one record, then nothing for over 3 intervals."""
    s2 = A.Client(agg, "s2", A.read_psk(keys["s2"]))
    got = s2.send(aligned(time.time()) - INTERVAL, INTERVAL, {("tcp", 80): 1})
    acks.append(got[0])
    silent_from = time.time()
    m = log_has(agg.log, r"sensor s2 quiet: no record for (\d+) s "
                r"\(3 intervals\)", 6 * INTERVAL + 10, "s2 going quiet")
    check(m is not None and int(m.group(1)) >= 3 * INTERVAL,
          "(c) s2 is logged quiet after %d s without a record: %s" %
          (3 * INTERVAL, m and m.group(0)))
    check(m is not None and time.time() - silent_from >= 3 * INTERVAL - 1,
          "(c) not before three intervals have passed (%.1f s)" %
          (time.time() - silent_from))
    got = s2.send(aligned(time.time()) - INTERVAL, INTERVAL, {("tcp", 80): 1})
    acks.append(got[0])
    silent = time.time() - silent_from
    m = log_has(agg.log, r"sensor s2 reporting again after (\d+) s without "
                r"a record", 10, "s2 reporting again")
    check(m is not None and abs(int(m.group(1)) - silent) <= 2,
          "(c) s2 reporting again after %s s (the test kept it silent "
          "%.1f s)" % (m and m.group(1), silent))
    return s2


def status(agg):
    """(e); both s1 and s2 have a session open."""
    before = agg.text().count("status: ")
    agg.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: agg.text().count("status: ") > before, 10,
             "the status line")
    lines = [ln for ln in agg.text().splitlines() if "status: " in ln]
    check(lines and re.search(r"status: 2 sensors connected, \d+ reporting, "
                              r"2 known; in the last ", lines[-1]) and
          "RRD writer backlog" in lines[-1] and
          re.search(r"newest final interval %s" % ISO, lines[-1]),
          "(e) SIGUSR1: a status line with 2 sensors connected of 2 known, "
          "the backlog and an ISO 8601 final interval: %s" %
          (lines[-1] if lines else None))


def add_key(tmp, kf, sid):
    """A key for sid, appended to the aggregator's keys file."""
    key = os.urandom(32).hex()
    path = os.path.join(tmp, sid + ".key")
    with open(path, "w") as f:
        f.write(key + "\n")
    os.chmod(path, 0o600)
    with open(kf, "a") as f:
        f.write("%s %s\n" % (sid, key))
    return path


def hup(agg, tmp, kf, acks):
    path = add_key(tmp, kf, "s3")
    agg.proc.send_signal(signal.SIGHUP)
    m = log_has(agg.log, r"3 sensor keys loaded", 10, "the reload")
    check(m is not None, "(f) SIGHUP: '3 sensor keys loaded'")
    s3 = A.Client(agg, "s3", A.read_psk(path))
    got = s3.send(aligned(time.time()) - INTERVAL, INTERVAL, {("tcp", 22): 1})
    acks.append(got[0])
    check(got[0] in (STORED, DUPLICATE), "(f) the new sensor's record is "
          "taken: %s" % (got,))
    check(log_has(agg.log, r"sensor s3 connected from", 10, "s3") is not None,
          "(f) the new sensor's first connection is logged")
    s3.close()
    return path


def summaries(agg, acks, nlate, npast):
    """(d): after the last ack, one more summary line; then the sums."""
    n0 = agg.text().count("summary: ")
    wait_for(lambda: agg.text().count("summary: ") > n0, 3 * SUMMARY,
             "a summary line after the last ack")
    rx = re.compile(r"summary: (\d+) sensors? connected, (\d+) reporting, "
                    r"(\d+) known; in the last [^:]+: (\d+) records? "
                    r"stored, (\d+) late, (\d+) refused, (\d+) archive "
                    r"commits? taking [\d.]+ ms on average; RRD writer "
                    r"backlog (\d+) intervals?; newest final interval "
                    r"(%s|none)" % ISO)
    rows = [rx.search(ln) for ln in agg.text().splitlines()
            if "summary: " in ln]
    check(rows and all(rows), "(d) every summary line has every part (%d "
          "lines)" % len(rows))
    rows = [r for r in rows if r]
    stored = sum(int(r.group(4)) for r in rows)
    late = sum(int(r.group(5)) for r in rows)
    refused = sum(int(r.group(6)) for r in rows)
    commits = sum(int(r.group(7)) for r in rows)
    check(1 <= commits <= stored + late + refused,
          "(d) the summaries count the archive's commits: %d for %d "
          "records, at least one and at most one each" %
          (commits, stored + late + refused))
    check(stored == acks.count(STORED) and late == nlate and
          refused == npast == acks.count(REFUSED),
          "(d) the summaries add up to the acks: %d stored (acks %d), %d "
          "late (sent %d), %d refused (acks %d)" %
          (stored, acks.count(STORED), late, nlate, refused,
           acks.count(REFUSED)))


def check_stop_lines(agg, late, past):
    text = agg.text()
    m = re.search(r"sensor s1: 4 late records \(intervals %s to %s\) in the "
                  r"last \d+ (s|min)" % (T.iso(min(late[1:])),
                                         T.iso(max(late[1:]))), text)
    check(m is not None, "(b) the 4 late records held back are logged "
          "together at the stop, %s to %s" % (T.iso(min(late[1:])),
                                             T.iso(max(late[1:]))))
    m = re.search(r"sensor s1: 2 records refused: interval starts before "
                  r"2000-01-01 \(intervals %s to %s\)" %
                  (T.iso(min(past[1:])), T.iso(max(past[1:]))), text)
    check(m is not None, "(b) the 2 refusals held back are logged together "
          "with their intervals")
    check(not re.search(r"\b1 records\b|\b1 intervals\b", text),
          "no '1 records' or '1 intervals' in the aggregator's log")


def aggregator_part(tmp):
    kf, keys = A.make_keys(tmp, ["s1", "s2"])
    datadir = os.path.join(tmp, "data")
    agg = A.Aggregator(tmp, kf, datadir, extra=["-c", write_config(tmp),
                                                "-n", str(INTERVAL)])
    agg.start()
    acks = []
    try:
        s1, late, past = connections_and_records(agg, keys, acks)
        s2 = quiet_and_back(agg, keys, acks)
        status(agg)
        hup(agg, tmp, kf, acks)
        summaries(agg, acks, len(late), len(past))
        s1.close()
        s2.close()
        check(agg.stop() == 0, "the aggregator stops on SIGTERM")
    finally:
        agg.stop(signal.SIGKILL)
    check_stop_lines(agg, late, past)
    return agg, kf, keys


def sensor_status(log, proc, what):
    n0 = open(log).read().count("status: ")
    proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: open(log).read().count("status: ") > n0, 10,
             "the sensor's status line (%s)" % what)
    lines = [ln for ln in open(log).read().splitlines() if "status: " in ln]
    return lines[-1] if lines else ""


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def sensor_live_alone(tmp):
    """(g) live on lo, no aggregator: the packets sent to a UDP port that
    the test holds, so that no other process sends there meanwhile."""
    log = os.path.join(tmp, "sensor-live.log")
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    port = sink.getsockname()[1]
    for _ in range(2):
        with open(log, "w") as f:
            p = subprocess.Popen([T.sensor_path(), "-i", "lo", "-n", "3600",
                                  "--print", "--filter",
                                  "udp and dst port %d" % port],
                                 stdout=subprocess.DEVNULL, stderr=f)
        try:
            log_has(log, r"listening on lo", 10, "the live sensor")
            hour = int(time.time()) // 3600 * 3600
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for _ in range(5):
                s.sendto(b"x", ("127.0.0.1", port))
            s.close()
            # The kernel may hold packets up to the capture timeout.
            line = ""
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and \
                    "5 packets counted" not in line:
                line = sensor_status(log, p, "live")
        finally:
            stop(p)
        if int(time.time()) // 3600 * 3600 == hour:
            break
    sink.close()
    check(re.search(r"status: interface lo; 0 intervals closed; 5 packets "
                    r"counted in the open interval from %s; no aggregator" %
                    T.iso(hour), line) is not None,
          "(g) sensor SIGUSR1 live: interface lo, 5 packets counted in the "
          "interval from %s, no aggregator: %s" % (T.iso(hour), line))


def sensor_replay_down(tmp, keys):
    """(g) a replay to an aggregator that is down: all spooled."""
    pcap = os.path.join(tmp, "replay.pcap")
    start = (int(time.time()) - 86400) // 60 * 60
    A.gencap(pcap, 300, 180, start, 7)
    secs = T.pcap_seconds(pcap)
    n = (max(secs) // 60 - min(secs) // 60) + 1
    log = os.path.join(tmp, "sensor-replay.log")
    dead = "127.0.0.1:%d" % A.free_port()
    with open(log, "w") as f:
        p = subprocess.Popen([T.sensor_path(), "-r", pcap, "-a", dead, "-s",
                              "s1", "-K", keys["s1"], "--spool",
                              os.path.join(tmp, "spool-replay"), "-n", "60"],
                             stdout=subprocess.DEVNULL, stderr=f)
    try:
        log_has(log, r"retrying", 30, "the replay's first retry")
        line = sensor_status(log, p, "replay")
    finally:
        stop(p)
    check(re.search(r"status: file %s; %d intervals closed; no interval "
                    r"open; %d records waiting in the spool; not connected "
                    r"to %s" % (re.escape(pcap), n, n, re.escape(dead)),
                    line) is not None,
          "(g) sensor SIGUSR1 in a replay: %d intervals closed, %d records "
          "waiting, not connected to %s: %s" % (n, n, dead, line))


def sensor_live_connected(tmp, kf, keys):
    """(g) live with an aggregator: "connected to" once it sent a record."""
    datadir = os.path.join(tmp, "data-live")
    agg = A.Aggregator(tmp, kf, datadir, extra=["-n", str(INTERVAL)])
    agg.start()
    log = os.path.join(tmp, "sensor-connected.log")
    try:
        with open(log, "w") as f:
            p = subprocess.Popen([T.sensor_path(), "-i", "lo", "-n",
                                  str(INTERVAL), "-a", agg.addr, "-s", "s2",
                                  "-K", keys["s2"], "--spool",
                                  os.path.join(tmp, "spool-live"),
                                  "--filter", "udp and dst port 9"],
                                 stdout=subprocess.DEVNULL, stderr=f)
        try:
            log_has(agg.log, r"sensor s2 connected from", 4 * INTERVAL + 10,
                    "the live sensor's connection")
            line = sensor_status(log, p, "connected")
        finally:
            stop(p)
    finally:
        agg.stop()
    check(re.search(r"status: interface lo; \d+ intervals? closed; .*; "
                    r"\d+ records? waiting in the spool; connected to %s$" %
                    re.escape(agg.addr), line) is not None,
          "(g) sensor SIGUSR1 live: connected to %s: %s" % (agg.addr, line))


def find_pid(word):
    """The process whose command line holds word (a unique path)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if word.encode() in args and \
                os.path.basename(args[0]) == b"teiten-aggregator":
            return int(d)
    return None


class Listening:
    """What A.Client needs of an aggregator it did not start."""

    def __init__(self, port):
        self.port = port
        self.addr = "127.0.0.1:%d" % port


def no_syslog(tmp, kf, keys):
    """(h): without -f and without /dev/log."""
    datadir = os.path.join(tmp, "data-daemon")
    port = A.free_port()
    cmd = [A.aggregator_path(), "-l", "127.0.0.1:%d" % port, "-d", datadir,
           "-K", kf, "-n", str(INTERVAL)]
    if os.path.exists("/dev/log"):
        # Hidden in a mount namespace of our own: connect() then fails.
        cmd = ["unshare", "-m", "--propagation", "private"] + \
            (["-r"] if os.geteuid() != 0 else []) + \
            ["sh", "-c", 'mount --bind /dev/null /dev/log && exec "$@"',
             "sh"] + cmd
    log = os.path.join(tmp, "daemon.log")
    with open(log, "w") as f:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=f, timeout=30)
    check(p.returncode == 0, "(h) without -f the aggregator detaches "
          "(the parent exits 0: %d)" % p.returncode)
    pid = wait_for(lambda: find_pid(datadir), 10, "the detached aggregator")
    try:
        check(log_has(log, r"no syslog daemon listens on /dev/log: logging "
                      r"to standard error", 10, "the warning") is not None,
              "(h) it says on standard error that it logs there")
        check(log_has(log, r"listening on 127\.0\.0\.1:%d" % port, 10,
                      "listening") is not None,
              "(h) after detaching, its lines still reach standard error")
        c = A.Client(Listening(port), "s1", A.read_psk(keys["s1"]))
        got = c.send(aligned(time.time()) - INTERVAL, INTERVAL,
                     {("tcp", 23): 1})
        c.close()
        check(got[0] == STORED and
              log_has(log, r"sensor s1 connected from", 10, "s1") is not None,
              "(h) a sensor's connection is logged on standard error")
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                     open("/proc/%d/stat" % pid).read().split()[2] == "Z",
                     30, "the detached aggregator to stop")
    check(log_has(log, r"records: 1 stored", 10, "the report") is not None,
          "(h) its exit report reaches standard error too")


def main(tmp):
    if os.path.exists("/dev/log"):
        T.require("unshare")
    agg, kf, keys = aggregator_part(tmp)
    sensor_live_alone(tmp)
    sensor_replay_down(tmp, keys)
    sensor_live_connected(tmp, kf, keys)
    no_syslog(tmp, kf, keys)
    print("%d failures" % len(FAILURES))


if __name__ == "__main__":
    T.run_in_tmp("teiten-logs-", main)
