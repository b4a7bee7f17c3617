"""Shared helpers for the integration tests: an independent oracle built on
tshark, raw pcap timestamps read without libpcap, and running the sensor.

Nothing here reuses teiten code: the expected counts come from tshark's
dissection and from the capture file's own record headers.  check()
and FAILURES are every test's way to report an assertion."""

import collections
import datetime
import functools
import ipaddress
import os
import pwd
import shutil
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77
KEYED = {"tcp": ("tcp", 0), "udp": ("udp", 1), "icmp": ("icmp", 2),
         "icmpv6": ("icmp6", 3)}
PROTO_ORDER = {"tcp": 0, "udp": 1, "icmp": 2, "icmp6": 3}


SENSOR_USER = "teiten"

FAILURES = []  # every check() that failed, in this process


def iso(t):
    """UNIX time t as the logs write it: ISO 8601, UTC, to the second."""
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check(cond, what):
    """Print the outcome of one assertion; failures are collected in
    FAILURES, which a test's main() turns into its exit status."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def wait_for(pred, timeout, what):
    """Polls pred until it returns something true, at most timeout seconds
    (the caller's own bound for the event), and returns that value; after
    the timeout, says what was awaited and returns pred's last (false)
    value.  The caller decides whether that is a failure (check())."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    if not v:
        print("timed out after %g s waiting for %s" % (timeout, what),
              flush=True)
    return v


@functools.lru_cache(maxsize=None)
def ensure_sensor_user():
    """As root, the sensor drops to the teiten user by default (created
    by contrib/systemd/teiten.sysusers when installed): create it, as a
    system user without a home or shell, if this machine lacks it."""
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(SENSOR_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", SENSOR_USER], check=True)


def sensor_path():
    ensure_sensor_user()
    return os.environ["TEITEN_SENSOR"]


def pcaps_dir():
    """The shared captures, or None (with a note) when the folder is absent."""
    d = os.environ.get("TEITEN_PCAPS", "")
    if d and os.path.isdir(d):
        return d
    print("NOTE: shared capture folder %r not found; that part is skipped" % d)
    return None


def pcap_seconds(path):
    """Whole seconds of every record, straight from a classic pcap file.

    Read here rather than from tshark because tshark normalises a
    microsecond field >= 1e6 into the seconds, which doc/CONTRACTS.md
    contract 2 forbids."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return None  # pcapng: the caller uses tshark's epoch instead
    secs, off = [], 24
    while off + 16 <= len(data):
        sec, _frac, caplen, _wire = struct.unpack_from(endian + "IIII",
                                                       data, off)
        secs.append(sec)
        off += 16 + caplen
    return secs


TSHARK_FIELDS = ["frame.time_epoch", "frame.protocols", "ip.dst", "ipv6.dst",
                 "tcp.dstport", "udp.dstport", "icmp.type", "icmpv6.type",
                 "ip.src", "ipv6.src"]


@functools.lru_cache(maxsize=None)
def tshark_frames(path):
    """One dict per frame: outer layer after the first IP header, its key,
    and the outer source and destination addresses.  IP reassembly is off so that a
    non-first fragment stays a fragment; occurrence=f keeps the outer
    header's fields, so an ICMP error never yields the quoted port."""
    cmd = ["tshark", "-n", "-r", path, "-o", "ip.defragment:FALSE",
           "-o", "ipv6.defragment:FALSE", "-T", "fields", "-E",
           "occurrence=f", "-E", "separator=|"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True,
                         text=True).stdout
    frames = []
    for line in out.splitlines():
        v = dict(zip(TSHARK_FIELDS, line.split("|")))
        layers = v["frame.protocols"].split(":")
        fr = {"epoch": v["frame.time_epoch"], "proto": None, "key": None,
              "src": None, "dst": None}
        ipidx = next((i for i, l in enumerate(layers)
                      if l in ("ip", "ipv6")), None)
        if ipidx is not None:
            v4 = layers[ipidx] == "ip"
            fr["src"] = v["ip.src"] if v4 else v["ipv6.src"]
            fr["dst"] = v["ip.dst"] if v4 else v["ipv6.dst"]
            rest = [l for l in layers[ipidx + 1:]
                    if not l.startswith("ipv6.")]
            if rest and rest[0] in KEYED:
                field = {"tcp": "tcp.dstport", "udp": "udp.dstport",
                         "icmp": "icmp.type", "icmpv6": "icmpv6.type"}
                val = v[field[rest[0]]]
                if val != "":
                    fr["proto"] = KEYED[rest[0]][0]
                    fr["key"] = int(val)
        frames.append(fr)
    return frames


def expected_counts(path, interval, monitor=None):
    """{(start, proto, key): packets} computed from tshark alone."""
    frames = tshark_frames(path)
    secs = pcap_seconds(path)
    if secs is not None and len(secs) != len(frames):
        raise AssertionError("%s: %d records but tshark saw %d frames" %
                             (path, len(secs), len(frames)))
    nets = [ipaddress.ip_network(m) for m in monitor or []]
    counts = collections.Counter()
    for i, fr in enumerate(frames):
        if fr["proto"] is None:
            continue
        if nets and not any(ipaddress.ip_address(fr["dst"]) in n
                            for n in nets):
            continue
        sec = secs[i] if secs is not None else int(fr["epoch"].split(".")[0])
        counts[(sec // interval * interval, fr["proto"], fr["key"])] += 1
    return counts


def run_sensor(args, stdin=None, check=True):
    p = subprocess.run([sensor_path()] + args, capture_output=True,
                       stdin=stdin, text=True)
    if check and p.returncode != 0:
        raise AssertionError("teiten-sensor %s exited %d: %s" %
                             (" ".join(args), p.returncode, p.stderr))
    return p


def parse_print(text):
    """Sensor --print lines to a Counter, checking the order of
    doc/CONTRACTS.md contract 3."""
    counts = collections.Counter()
    prev = None
    for line in text.splitlines():
        start, proto, key, n = line.split("\t")
        order = (int(start), PROTO_ORDER[proto], int(key))
        if prev is not None and order <= prev:
            raise AssertionError("line out of order: %r" % line)
        prev = order
        if int(n) <= 0:
            raise AssertionError("zero count printed: %r" % line)
        counts[(int(start), proto, int(key))] = int(n)
    return counts


def total_seen(stderr):
    """Packets seen, from the sensor's final totals line on stderr."""
    for line in stderr.splitlines():
        if line.startswith("total over "):
            return int(line.split(" seen ")[1].split()[0])
    return None


def diff_counts(expected, actual, limit=20):
    lines = []
    for k in sorted(set(expected) | set(actual)):
        if expected.get(k, 0) != actual.get(k, 0):
            lines.append("  %s: expected %d, sensor %d" %
                         (k, expected.get(k, 0), actual.get(k, 0)))
    return lines[:limit] + (["  ... %d more" % (len(lines) - limit)]
                            if len(lines) > limit else [])


def require(*tools):
    """Exits 1 at once, saying so, when a program the test runs is
    missing: a test that cannot run its checks fails, never passes."""
    for tool in tools:
        if shutil.which(tool) is None:
            print("FAIL: %s is not installed" % tool)
            sys.exit(1)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run_in_tmp(prefix, main):
    """main(tmp) in a new temporary directory that the sensors (nobody)
    can enter; kept, and said so, when a check failed, main raised or
    TEITEN_KEEP_TMP=1.  Exits 1 if any check failed."""
    keep = os.environ.get("TEITEN_KEEP_TMP") == "1"
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)  # the sensors write their spools as nobody
    print("temporary directory: " + tmp)
    ok = False
    try:
        main(tmp)
        ok = True
    finally:
        if FAILURES or not ok or keep:
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d failures" % len(FAILURES))
    sys.exit(1 if FAILURES else 0)


# librrd 1.7.2's rrd_graph and the font libraries under it leak a little
# on every graph (vasprintf'd strings whose callers LeakSanitizer cannot
# unwind); in a sanitizer build, only those are forgiven.  teiten itself
# never calls asprintf.
LSAN_SUPPRESSIONS = """leak:librrd.so
leak:libfontconfig.so
leak:libpango
leak:libcairo.so
leak:libglib-2.0.so
leak:__vasprintf_internal
"""


def graph_env(tmp):
    """The environment for programs that draw with librrd: the current
    one, with LSAN_OPTIONS naming those suppressions (written in tmp)."""
    path = os.path.join(tmp, "lsan.supp")
    with open(path, "w") as f:
        f.write(LSAN_SUPPRESSIONS)
    env = dict(os.environ)
    old = env.get("LSAN_OPTIONS")
    env["LSAN_OPTIONS"] = "suppressions=%s:print_suppressions=0%s" % (
        path, ":" + old if old else "")
    return env
