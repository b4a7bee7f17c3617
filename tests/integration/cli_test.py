"""Command-line behaviour of teiten-sensor: every mistake gives one line on
stderr naming the problem and a non-zero exit; the config file sets what
the command line sets and loses to it; filters, truncated files, capture
gaps and foreign link types behave as documented.  Captures are written
here, by the test, byte by byte."""

import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check  # noqa: E402


def pcap_file(path, records, linktype=1):
    """records: [(sec, usec, frame_bytes)] into a little-endian pcap."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535,
                            linktype))
        for sec, usec, data in records:
            f.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
            f.write(data)


def syn_frame(dport, dst=(198, 51, 100, 7)):
    """Ethernet + IPv4 + TCP SYN, 54 bytes, to dst:dport."""
    eth = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
    ip = struct.pack("!BBHHHBBH4B4B", 0x45, 0, 40, 1, 0, 64, 6, 0,
                     203, 0, 113, 9, *dst)
    tcp = struct.pack("!HHIIBBHHH", 40000, dport, 1, 0, 0x50, 0x02, 1024,
                      0, 0)
    return eth + ip + tcp


def expect_error(args, words, what, usage=False):
    """Non-zero exit and one stderr line containing every word; only an
    unknown option may be followed by the usage text."""
    p = T.run_sensor(args, check=False)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    ok = p.returncode != 0 and lines and \
        all(w in lines[0] for w in words) and \
        (len(lines) == 1 or (usage and lines[1].startswith("usage:")))
    check(ok, "%s -> %s (exit %d, stderr %r)" % (what, words, p.returncode,
                                                  p.stderr.strip()))


def test_errors(tmp, good):
    expect_error(["--bogus"], ["bogus"], "unknown option", usage=True)
    expect_error(["-r", "/nonexistent/x.pcap", "--print"],
                 ["/nonexistent/x.pcap"], "missing file")
    for bad in ("0", "abc", "86401", "-5", " 60"):
        expect_error(["-r", good, "-n", bad, "--print"], ["interval"],
                     "interval %r" % bad)
    for bad in ("0", "x", "-1"):
        expect_error(["-r", good, "--max-gap", bad, "--print"],
                     ["--max-gap", "seconds"], "max-gap %r" % bad)
    expect_error(["-r", good, "-n", "3600", "--max-gap", "600", "--print"],
                 ["maximum gap", "at least the interval"],
                 "max-gap below the interval")
    expect_error(["-r", good, "-m", "10.0.0.1/8", "--print"],
                 ["host bits", "10.0.0.1/8"], "prefix with host bits")
    expect_error(["-r", good, "-m", ",", "--print"], ["empty prefix list"],
                 "empty monitored prefix list")
    expect_error(["-r", good, "--snaplen", "10", "--print"],
                 ["--snaplen", "68 to 262144"], "snaplen out of range names it")
    expect_error(["-r", good, "-m", "example.org", "--print"],
                 ["example.org"], "prefix that is not an address")
    expect_error(["-r", good, "--print", "tcp", "port", "nonsense"],
                 ["filter"], "bad BPF expression")
    expect_error(["-i", "nosuchif0", "--print"], ["nosuchif0"],
                 "unknown interface")
    expect_error(["-i", "lo", "-r", good, "--print"], ["either"],
                 "both -i and -r")
    expect_error(["--print"], ["nothing to capture"], "neither -i nor -r")
    expect_error(["-r", good], ["--print"], "no output chosen")
    garbage = os.path.join(tmp, "garbage.pcap")
    with open(garbage, "wb") as f:
        f.write(b"this is not a capture file at all\n")
    expect_error(["-r", garbage, "--print"], [garbage], "not a capture")
    wifi = os.path.join(tmp, "wifi.pcap")
    pcap_file(wifi, [(1700000000, 0, b"\x00" * 30)], linktype=105)
    expect_error(["-r", wifi, "--print"], ["not supported"],
                 "unsupported link type")
    if os.geteuid() == 0:
        expect_error(["-r", good, "-u", "no-such-user-x", "--print"],
                     ["no-such-user-x"], "unknown user")


def test_config(tmp, good):
    conf = os.path.join(tmp, "sensor.conf")
    with open(conf, "w") as f:
        f.write("; comment\n[sensor]\nfile = %s\ninterval = 3600\n"
                "print = yes\n" % good)
    out = T.parse_print(T.run_sensor(["-c", conf]).stdout)
    check(out and all(k[0] % 3600 == 0 for k in out) and
          {k[0] for k in out} == {1699999200, 1700010000},
          "config sets file and interval")
    out = T.parse_print(T.run_sensor(["-c", conf, "-n", "60",
                                      "--print"]).stdout)
    check({k[0] for k in out} == {1700000040, 1700010900},
          "command line -n wins over config interval")
    with open(conf, "w") as f:
        f.write("[sensor]\nfile = %s\n\ninterval = soon\n" % good)
    expect_error(["-c", conf, "--print"], [conf + ":4:", "interval"],
                 "bad config value names file and line")
    with open(conf, "w") as f:
        f.write("[sensor]\ncolour = blue\n")
    expect_error(["-c", conf, "--print"], [conf + ":2:", "colour"],
                 "unknown config key")
    with open(conf, "w") as f:
        f.write("[sensor\nfile = x\n")
    expect_error(["-c", conf, "--print"], [conf + ":1:"],
                 "config syntax error")
    expect_error(["-c", os.path.join(tmp, "absent.conf"), "--print"],
                 ["absent.conf"], "missing config file")
    with open(conf, "w") as f:
        f.write("[sensor]\ninterface = nosuchif0\n")
    out = T.run_sensor(["-c", conf, "-r", good, "--print"]).stdout
    check(sum(T.parse_print(out).values()) == 4,
          "command-line -r replaces the config's interface")
    with open(conf, "w") as f:
        f.write("[sensor]\nfile = %s\nmonitor = 192.0.2.0/24\n" % good)
    out = T.run_sensor(["-c", conf, "-m", "198.51.100.0/24",
                        "--print"]).stdout
    check(sum(T.parse_print(out).values()) == 3,
          "command-line -m replaces the config's monitor list")


def test_behaviour(tmp, good):
    p = T.run_sensor(["-r", good, "--print"])
    check(p.stdout == "1700000040\ttcp\t22\t1\n1700000040\ttcp\t23\t2\n"
          "1700010900\ttcp\t445\t1\n",
          "hand-made capture gives the hand-computed lines")
    check("intervals 1700000100 to 1700010840: 180 empty" in p.stderr,
          "a 3-hour gap is reported as 180 empty intervals")
    p = T.run_sensor(["-r", good, "--print", "tcp", "port", "23"])
    check(p.stdout == "1700000040\ttcp\t23\t2\n", "BPF filter applies")
    p = T.run_sensor(["-r", good, "-m", "198.51.100.0/24", "--print"])
    check("unmonitored 1 " in p.stderr.splitlines()[-1] and
          "\t23\t" in p.stdout and "\t445\t" not in p.stdout,
          "monitored prefix: other destinations are unmonitored")
    cut = os.path.join(tmp, "cut.pcap")
    with open(good, "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[:24 + 2 * (16 + 54) + 20])
    p = T.run_sensor(["-r", cut, "--print"], check=False)
    check(p.returncode != 0 and cut in p.stderr and
          p.stdout == "1700000040\ttcp\t22\t1\n1700000040\ttcp\t23\t1\n",
          "truncated capture: counts what was read, then fails naming it")
    empty = os.path.join(tmp, "empty.pcap")
    pcap_file(empty, [])
    p = T.run_sensor(["-r", empty, "--print"])
    check(p.stdout == "" and T.total_seen(p.stderr) == 0,
          "empty capture prints nothing and exits 0")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        good = os.path.join(tmp, "good.pcap")
        pcap_file(good, [(1700000041, 0, syn_frame(22)),
                         (1700000042, 999999, syn_frame(23)),
                         (1700000099, 5, syn_frame(23)),
                         (1700010900, 0, syn_frame(445, (192, 0, 2, 1)))])
        test_errors(tmp, good)
        test_config(tmp, good)
        test_behaviour(tmp, good)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
