"""Oracle test: for every shared capture, teiten-sensor -r FILE --print must
equal the per-(interval, proto, key) counts computed from tshark's
dissection of the same file (see teiten_testlib.expected_counts).  Also: a
pcapng copy and standard input give identical output, and monitored
prefixes keep exactly the packets tshark places inside them."""

import glob
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import teiten_testlib as T  # noqa: E402

INTERVALS = (60, 3600)


def check_file(path, interval, failures):
    expected = T.expected_counts(path, interval)
    run = T.run_sensor(["-r", path, "-n", str(interval), "--print"])
    actual = T.parse_print(run.stdout)
    nframes = len(T.tshark_frames(path))
    if T.total_seen(run.stderr) != nframes:
        failures.append("%s: sensor saw %s packets, tshark %d frames" %
                        (path, T.total_seen(run.stderr), nframes))
    if expected != actual:
        failures.append("%s -n %d:\n%s" % (os.path.basename(path), interval,
                                           "\n".join(T.diff_counts(expected,
                                                                   actual))))
    return sum(actual.values())


def check_pcapng_and_stdin(path, failures):
    ref = T.run_sensor(["-r", path, "--print"]).stdout
    with tempfile.TemporaryDirectory() as tmp:
        ng = os.path.join(tmp, "copy.pcapng")
        subprocess.run(["editcap", "-F", "pcapng", path, ng], check=True)
        if T.run_sensor(["-r", ng, "--print"]).stdout != ref:
            failures.append("pcapng copy of %s differs" % path)
    with open(path, "rb") as f:
        if T.run_sensor(["-r", "-", "--print"], stdin=f).stdout != ref:
            failures.append("standard input copy of %s differs" % path)


def check_monitor(path, nets, failures):
    expected = T.expected_counts(path, 60, monitor=nets)
    args = ["-r", path, "--print"]
    for n in nets:
        args += ["-m", n]
    actual = T.parse_print(T.run_sensor(args).stdout)
    everything = T.expected_counts(path, 60)
    if not expected or sum(expected.values()) >= sum(everything.values()):
        failures.append("monitor test on %s must select a strict, non-empty "
                        "subset" % path)
    if expected != actual:
        failures.append("%s -m %s:\n%s" % (path, ",".join(nets),
                        "\n".join(T.diff_counts(expected, actual))))


def main():
    d = T.pcaps_dir()
    if d is None:
        print("SKIP: no shared captures to compare against")
        return T.SKIP
    files = sorted(glob.glob(os.path.join(d, "*.pcap")) +
                   glob.glob(os.path.join(d, "*.pcapng")))
    failures, total = [], 0
    for path in files:
        for interval in INTERVALS:
            total += check_file(path, interval, failures)
    check_pcapng_and_stdin(os.path.join(d, "zeek_communityid_icmp6.pcap"),
                           failures)
    check_pcapng_and_stdin(os.path.join(d, "ndpi_badpackets.pcap"), failures)
    # Scan targets inside and outside the monitored block, v4 and v6.
    check_monitor(os.path.join(d, "pcaphunt_ps-tcp_syn.pcap"),
                  ["10.0.0.0/31", "10.0.0.254/32"], failures)
    check_monitor(os.path.join(d, "zeek_communityid_icmp6.pcap"),
                  ["3ffe:507:0:1::/64"], failures)
    for f in failures:
        print("FAIL: " + f)
    print("%d captures, %d keyed packets compared, %d failures" %
          (len(files), total // len(INTERVALS), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
