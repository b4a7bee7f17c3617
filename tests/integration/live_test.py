#!/usr/bin/env python3
"""Live capture test of teiten-sensor on a veth pair between two namespaces.

A "scanner" namespace sends real traffic (nmap SYN and UDP scans, hping3
probes with odd TCP flags, ICMP queries and ICMP errors quoting TCP/UDP,
IPv4 fragments, and tcpreplay of shared captures with VLAN tags, IPv6,
ICMPv6 errors and fragments) over a veth pair to a "dark" namespace whose
end has no address.  In the dark namespace, teiten-sensor -i VETH --print
and tcpdump capture the same link at the same time; two sensors run side
by side, one with -n 3600 (everything in one or two intervals) and one
with -n 2 (intervals close on the timer during the traffic).  After SIGTERM
each sensor must exit 0 having printed, summed over its intervals, exactly
the per-(proto, key) counts that tshark computes independently from
tcpdump's file (doc/CONTRACTS.md contracts 1-3), classifying each frame by
the first layer after its outermost IP header (an ICMP error quoting TCP
counts under the ICMP type).  Also checked: the output's form and order; the
sensor's totals of frames seen, non-first fragments and non-IP frames
against the file; every interval from the first to the last reported on
stderr; frames per interval against their tcpdump timestamps (within
10 ms of a boundary either side will do); no capture drops; and, while it
captures, the sensor no longer runs as root (all uids and gids non-zero).

IPv6 is disabled in both namespaces so that the kernel sends nothing of its
own (no DAD, router solicitations or MLD reports) that could race with the
start or stop of the two captures; IPv6 frames still cross the wire from
tcpreplay, which writes to a packet socket.

Environment (set by meson): TEITEN_SENSOR (binary), TEITEN_PCAPS (shared
captures; optional), TEITEN_SRCDIR.  Needs root (CAP_SYS_ADMIN and
CAP_NET_ADMIN) and iproute2, tcpdump, tshark, nmap, hping3, tcpreplay.
Exits 0 on success, 77 (skip) if namespaces cannot be created, 1 otherwise.
"""

import collections
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
# Two sensors capture side by side: one long interval (everything in one or
# two intervals) and a short one whose intervals close during the traffic.
INTERVALS = (3600, 2)

SCAN_ADDR = "192.0.2.1/24"
FAKE_HOP = "192.0.2.254"
DARK_NET = "198.51.100.0/24"
DARK_TCP_TARGETS = ["198.51.100.10", "198.51.100.20"]
DARK_UDP_TARGET = "198.51.100.30"
DARK_HPING_TARGET = "198.51.100.40"

# Ethernet captures replayed onto the wire, when the shared folder exists.
REPLAY_PCAPS = [
    "esnet_udp_0_1000_20190821.pcap",	# a UDP port sweep, 1001 frames
    "esnet_one_way_all_flags.pcap",	# every TCP flag combination
    "zeek_icmp_dot1q.pcap",		# 802.1Q-tagged ICMP (and ARP)
    "zeek_vlan-qinqinq.pcap",		# three VLAN tags
    "zeek_communityid_icmp6.pcap",	# ICMPv6, errors quoting UDP
    "zeek_ipv6-fragmented-dns.pcap",	# IPv6 fragments
    "zeek_ipv4_fragmented-syn.pcap",	# IPv4 fragments of a SYN
]

PROTOS = ("tcp", "udp", "icmp", "icmp6")
TOOLS = ("ip", "tcpdump", "tshark", "nmap", "hping3", "tcpreplay")


class Skip(Exception):
    pass


class Failure(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def run(argv, check=True, timeout=60, quiet=False):
    """Runs argv; returns CompletedProcess.  Fails on non-zero if check."""
    if not quiet:
        log("+ " + " ".join(argv))
    try:
        cp = subprocess.run(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure("timed out after %ss: %s" % (timeout, " ".join(argv)))
    if check and cp.returncode != 0:
        raise Failure("%s exited %d\nstdout: %s\nstderr: %s" % (
            " ".join(argv), cp.returncode, cp.stdout.strip(),
            cp.stderr.strip()))
    return cp


class Reader(threading.Thread):
    """Collects a pipe's lines and notices one containing a marker."""

    def __init__(self, pipe, marker=None):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.marker = marker
        self.lines = []
        self.lock = threading.Lock()
        self.seen = threading.Event()

    def run(self):
        for line in self.pipe:
            with self.lock:
                self.lines.append(line)
            if self.marker is not None and self.marker in line:
                self.seen.set()
        self.pipe.close()

    def text(self):
        with self.lock:
            return "".join(self.lines)


class Proc:
    """A background process with its stdout and stderr collected."""

    def __init__(self, name, argv, marker=None):
        self.name = name
        log("+ " + " ".join(argv) + " &")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.out = Reader(self.p.stdout)
        self.err = Reader(self.p.stderr, marker)
        self.out.start()
        self.err.start()

    @property
    def pid(self):
        return self.p.pid

    def wait_marker(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.err.seen.wait(0.05):
                return
            if self.p.poll() is not None:
                self.join_readers()
                raise Failure("%s exited %d before it was ready\n"
                              "stderr:\n%s" % (self.name, self.p.returncode,
                                               self.err.text()))
        raise Failure("%s did not print %r within %ss\nstderr:\n%s" % (
            self.name, self.err.marker, timeout, self.err.text()))

    def stop(self, sig, timeout):
        """Sends sig (if not None), waits; returns the exit code or fails
        on a hang."""
        if sig is not None and self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure("%s did not exit within %ss of the signal\n"
                          "stderr:\n%s" % (self.name, timeout,
                                           self.err.text()))
        self.join_readers()
        return rc

    def join_readers(self):
        self.out.join(5)
        self.err.join(5)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                pass


class Net:
    """Two namespaces joined by a veth pair; deleted by cleanup()."""

    def __init__(self):
        pid = os.getpid()
        self.scan_ns = "teiten-scan-%d" % pid
        self.dark_ns = "teiten-dark-%d" % pid
        self.scan_if = ("tts%d" % pid)[:15]
        self.dark_if = ("ttd%d" % pid)[:15]
        self.created = []
        self.dark_mac = None

    def in_ns(self, ns, argv):
        return ["ip", "netns", "exec", ns] + argv

    def scan(self, argv):
        return self.in_ns(self.scan_ns, argv)

    def dark(self, argv):
        return self.in_ns(self.dark_ns, argv)

    def setup(self):
        for ns in (self.scan_ns, self.dark_ns):
            cp = run(["ip", "netns", "add", ns], check=False)
            if cp.returncode != 0:
                raise Skip("cannot create network namespace %s: %s" % (
                    ns, cp.stderr.strip() or "ip netns add exited %d" %
                    cp.returncode))
            self.created.append(ns)
            # No IPv6 of the kernel's own (DAD, RS, MLD) on either side;
            # new interfaces inherit "default".  Absent without IPv6.
            run(self.in_ns(ns, [
                "sh", "-c",
                "for f in /proc/sys/net/ipv6/conf/default/disable_ipv6 "
                "/proc/sys/net/ipv6/conf/all/disable_ipv6; do "
                "[ -e $f ] && echo 1 > $f; done; true"]))
        cp = run(["ip", "link", "add", "name", self.scan_if, "netns",
                  self.scan_ns, "type", "veth", "peer", "name",
                  self.dark_if, "netns", self.dark_ns], check=False)
        if cp.returncode != 0:
            raise Skip("cannot create a veth pair: %s" % cp.stderr.strip())
        ipd = ["ip", "-n", self.dark_ns]
        ips = ["ip", "-n", self.scan_ns]
        # Room for the replayed frames with several VLAN tags.
        run(ipd + ["link", "set", self.dark_if, "mtu", "9000"])
        run(ips + ["link", "set", self.scan_if, "mtu", "9000"])
        run(ipd + ["link", "set", self.dark_if, "up"])
        out = run(ipd + ["-o", "link", "show", self.dark_if]).stdout
        m = re.search(r"link/ether ([0-9a-f:]{17})", out)
        if not m:
            raise Failure("no MAC address on %s: %s" % (self.dark_if, out))
        self.dark_mac = m.group(1)
        run(ips + ["addr", "add", SCAN_ADDR, "dev", self.scan_if])
        run(ips + ["link", "set", self.scan_if, "up"])
        # A next hop that never answers ARP: its lladdr is the dark end's.
        run(ips + ["neigh", "replace", FAKE_HOP, "lladdr", self.dark_mac,
                   "dev", self.scan_if, "nud", "permanent"])
        run(ips + ["route", "add", DARK_NET, "via", FAKE_HOP, "dev",
                   self.scan_if])
        # Both ends up, carrier on, before any capture starts.
        deadline = time.monotonic() + 10
        while True:
            s = run(ips + ["-o", "link", "show", self.scan_if],
                    quiet=True).stdout
            d = run(ipd + ["-o", "link", "show", self.dark_if],
                    quiet=True).stdout
            if "state UP" in s and "state UP" in d:
                break
            if time.monotonic() > deadline:
                raise Failure("veth pair did not come up:\n%s%s" % (s, d))
            time.sleep(0.05)

    def cleanup(self):
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        self.created = []


def proc_ids(pid):
    """(uids, gids) of a process from /proc/PID/status."""
    uids = gids = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                uids = [int(x) for x in line.split()[1:5]]
            elif line.startswith("Gid:"):
                gids = [int(x) for x in line.split()[1:5]]
    return uids, gids


def check_not_root(sensor, when):
    try:
        uids, gids = proc_ids(sensor.pid)
    except OSError as e:
        raise Failure("cannot read %s's status %s: %s" % (sensor.name, when,
                                                          e))
    log("%s %s: Uid %s Gid %s" % (sensor.name, when, uids, gids))
    if uids is None or any(u == 0 for u in uids):
        raise Failure("%s still has root uids %s: %s" % (sensor.name, when,
                                                         uids))
    if gids is None or any(g == 0 for g in gids):
        raise Failure("%s still has root gids %s: %s" % (sensor.name, when,
                                                         gids))


def generate_traffic(net, pcaps_dir):
    """Sends scans and probes from the scanner; returns what was replayed."""
    # Each hping3 waits about a second after its last packet, so they run
    # side by side; the keys are counted, not their order.
    hp = ["hping3", "-q", "-n", "-i", "u2000"]
    t = DARK_HPING_TARGET
    hpings = [
        hp + ["-1", "-c", "5", t],				# echo request
        hp + ["-1", "-C", "13", "-c", "3", t],			# timestamp
        # Errors quoting a UDP and a TCP header: counted as ICMP type.
        hp + ["-1", "-C", "3", "-K", "3", "--icmp-ipproto", "17",
              "--icmp-dstport", "53", "-c", "4", t],
        hp + ["-1", "-C", "11", "--icmp-ipproto", "6",
              "--icmp-dstport", "80", "-c", "2", t],
        hp + ["-F", "-P", "-U", "-p", "8080", "-c", "3", t],	# Xmas
        hp + ["-p", "23", "-c", "3", t],			# no flags
        hp + ["-S", "-X", "-Y", "-p", "3389", "-c", "2", t],	# SYN+ECN
        hp + ["-S", "-A", "-p", "443", "-c", "2", t],		# backscatter
        hp + ["-R", "-p", "22", "-c", "2", t],			# RST
        hp + ["-S", "-f", "-p", "445", "-c", "2", t],		# fragments
        hp + ["--udp", "-p", "161", "-c", "3", t],
        hp + ["--udp", "-p", "5060", "-c", "2", "-d", "40", t],
    ]
    nmaps = [
        ["nmap", "-sS", "-Pn", "-n", "--send-ip", "--max-retries", "0",
         "-T5", "--max-rtt-timeout", "100ms", "-p", "1-300"]
        + DARK_TCP_TARGETS,
        ["nmap", "-sU", "-Pn", "-n", "--send-ip", "--max-retries", "0",
         "-T5", "--max-rtt-timeout", "100ms",
         "-p", "53,69,123,137,161,500,1900,5060", DARK_UDP_TARGET],
    ]
    procs = []
    for argv in nmaps + hpings:
        argv = net.scan(argv)
        log("+ " + " ".join(argv) + " &")
        procs.append((argv, subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)))
    try:
        replayed = replay(net, pcaps_dir)
        wait_all(procs)
    finally:
        for _, p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return replayed


def replay(net, pcaps_dir):
    """tcpreplay of the shared captures present; returns their paths."""
    replayed = []
    if pcaps_dir and os.path.isdir(pcaps_dir):
        files = [os.path.join(pcaps_dir, f) for f in REPLAY_PCAPS
                 if os.path.isfile(os.path.join(pcaps_dir, f))]
        missing = [f for f in REPLAY_PCAPS
                   if not os.path.isfile(os.path.join(pcaps_dir, f))]
        if missing:
            log("NOTE: not in %s, not replayed: %s" % (
                pcaps_dir, " ".join(missing)))
        if files:
            cp = run(net.scan(["tcpreplay", "-q", "-i", net.scan_if,
                               "--pps", "5000"] + files), check=False,
                     timeout=60)
            if cp.returncode != 0:
                raise Failure("tcpreplay exited %d:\n%s%s" % (
                    cp.returncode, cp.stdout, cp.stderr))
            log(cp.stdout.strip())
            replayed = files
    else:
        log("NOTE: shared captures folder %r is absent: skipping the "
            "tcpreplay part (scans and probes still run)" % pcaps_dir)
    return replayed


def wait_all(procs):
    for argv, p in procs:
        try:
            out, _ = p.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise Failure("traffic generator hung: " + " ".join(argv))
        # hping3 exits 1 when nothing answered, which is the point here.
        ok = (0, 1) if argv[4] == "hping3" else (0,)
        if p.returncode not in ok:
            raise Failure("%s exited %d:\n%s" % (" ".join(argv),
                                                   p.returncode, out))


def tshark_counts(pcap):
    """From tcpdump's file: expected {(proto, key): packets}, the number of
    frames, {class: frames} of those without a key, and frame times."""
    cp = run(["tshark", "-n", "-r", pcap,
              "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
              "-T", "fields", "-E", "occurrence=f", "-E", "separator=/t",
              "-e", "frame.protocols", "-e", "tcp.dstport",
              "-e", "udp.dstport", "-e", "icmp.type", "-e", "icmpv6.type",
              "-e", "ip.frag_offset", "-e", "ipv6.fraghdr.offset",
              "-e", "frame.time_epoch"],
             timeout=60)
    counts = collections.Counter()
    frames = 0
    unkeyed = collections.Counter()
    times = []
    for line in cp.stdout.splitlines():
        if not line:
            continue
        frames += 1
        f = (line.split("\t") + [""] * 8)[:8]
        try:
            times.append(float(f[7]))
        except ValueError:
            raise Failure("tshark gave no epoch time: %r" % line)
        layers = f[0].split(":")
        field = {"tcp": f[1], "udp": f[2], "icmp": f[3], "icmpv6": f[4]}
        ipi = next((i for i, l in enumerate(layers)
                    if l in ("ip", "ipv6")), None)
        if ipi is None:
            unkeyed["non-IP"] += 1
            continue
        # The outermost layer after the first IP header, past any IPv6
        # extension headers (ipv6.hopopts, ipv6.routing, ipv6.fraghdr...).
        j = ipi + 1
        while j < len(layers) and layers[j].startswith("ipv6."):
            j += 1
        nxt = layers[j] if j < len(layers) else ""
        # A non-first fragment has no transport header (tshark: "data").
        if layers[ipi] == "ip":
            off = f[5]
        elif "ipv6.fraghdr" in layers[ipi + 1:j]:
            off = f[6]
        else:
            off = ""
        if off not in ("", "0"):
            unkeyed["fragment"] += 1
            continue
        proto = {("ip", "tcp"): "tcp", ("ip", "udp"): "udp",
                 ("ip", "icmp"): "icmp", ("ipv6", "tcp"): "tcp",
                 ("ipv6", "udp"): "udp",
                 ("ipv6", "icmpv6"): "icmp6"}.get((layers[ipi], nxt))
        value = field.get(nxt, "")
        if proto is None or value == "":
            unkeyed["%s/%s" % (layers[ipi], nxt or "-")] += 1
            continue
        counts[(proto, int(value))] += 1
    return counts, frames, unkeyed, times


def sensor_counts(stdout, length):
    """Sums the --print lines per (proto, key); checks their form and order
    (doc/CONTRACTS.md contract 3: by interval, then proto tcp udp icmp
    icmp6, then key)."""
    counts = collections.Counter()
    intervals = set()
    last = None
    for n, line in enumerate(stdout.splitlines(), 1):
        f = line.split("\t")
        if (len(f) != 4 or f[1] not in PROTOS or not f[0].isdigit()
                or not f[2].isdigit() or not f[3].isdigit()):
            raise Failure("sensor output line %d is not "
                          "<start>\\t<proto>\\t<key>\\t<packets>: %r" % (
                              n, line))
        start, key, packets = int(f[0]), int(f[2]), int(f[3])
        if start % length != 0:
            raise Failure("line %d: interval start %d is not a multiple "
                          "of %d" % (n, start, length))
        if packets == 0:
            raise Failure("line %d: zero count printed: %r" % (n, line))
        order = (start, PROTOS.index(f[1]), key)
        if last is not None and order <= last:
            raise Failure("line %d out of order or repeated: %r" % (n, line))
        last = order
        counts[(f[1], key)] += packets
        intervals.add(start)
    return counts, intervals


def reported_intervals(stderr, length):
    """{start: frames seen} of the intervals the sensor reported on
    stderr, checked contiguous (doc/CONTRACTS.md contract 2: every interval
    from the first to the last, empty ones included)."""
    starts = []
    seen = {}
    for line in stderr.splitlines():
        m = re.match(r"interval (-?\d+): seen (\d+) ", line)
        if m:
            starts.append(int(m.group(1)))
            seen[int(m.group(1))] = int(m.group(2))
            continue
        m = re.match(r"intervals (-?\d+) to (-?\d+): (\d+) empty", line)
        if m:
            a, b, n = (int(x) for x in m.groups())
            if (b - a) // length + 1 != n:
                raise Failure("inconsistent gap line: %r" % line)
            starts.extend(range(a, b + 1, length))
            seen.update((t, 0) for t in range(a, b + 1, length))
    if not starts:
        raise Failure("the sensor reported no interval on stderr")
    want = list(range(starts[0], starts[-1] + length, length))
    if starts != want or starts[0] % length != 0:
        raise Failure("intervals reported are not every %ds interval from "
                      "the first to the last: %s" % (length, starts))
    return seen


# Two captures of one frame get timestamps a few microseconds apart.
NEAR_BOUNDARY = 0.010


def check_assignment(s, times):
    """Frames per interval by their own timestamps (doc/CONTRACTS.md
    contract 2), as tcpdump stamped them, against the sensor's; only frames
    within NEAR_BOUNDARY of an interval boundary may land on either side."""
    want = collections.Counter()
    near = 0
    for t in times:
        start = int(t) // s.length * s.length
        want[start] += 1
        if min(t - start, start + s.length - t) < NEAR_BOUNDARY:
            near += 1
    seen = reported_intervals(s.err.text(), s.length)
    starts = sorted(set(want) | set(seen))
    off = sum(abs(want[t] - seen.get(t, 0)) for t in starts)
    if off <= 2 * near:
        log("%s: frames per interval match their timestamps (%d of %d "
            "intervals differ, %d frames near a boundary)" % (
                s.name, sum(1 for t in starts if want[t] != seen.get(t, 0)),
                len(starts), near))
        return []
    rows = ["%12s %8s %8s" % ("interval", "tcpdump", "sensor")]
    rows += ["%12d %8d %8d" % (t, want[t], seen.get(t, 0)) for t in starts
             if want[t] != seen.get(t, 0)]
    return ["%s: frames per interval differ from their timestamps' "
            "(%d frames within %gs of a boundary):\n%s" % (
                s.name, near, NEAR_BOUNDARY, "\n".join(rows))]


def diff_report(want, got):
    keys = sorted(set(want) | set(got),
                  key=lambda k: (PROTOS.index(k[0]), k[1]))
    rows = ["%-6s %6s %8s %8s %6s" % ("proto", "key", "tshark", "sensor",
                                      "diff")]
    for k in keys:
        if want.get(k, 0) != got.get(k, 0):
            rows.append("%-6s %6d %8d %8d %+6d" % (
                k[0], k[1], want.get(k, 0), got.get(k, 0),
                got.get(k, 0) - want.get(k, 0)))
    return "\n".join(rows)


def parse_drops(text, pattern):
    m = re.findall(pattern, text)
    return int(m[-1]) if m else None


def test(net, tmp):
    sensor_bin = os.environ.get("TEITEN_SENSOR")
    if not sensor_bin or not os.access(sensor_bin, os.X_OK):
        raise Failure("TEITEN_SENSOR is not an executable: %r" % sensor_bin)
    pcaps_dir = os.environ.get("TEITEN_PCAPS", "")
    # The sensor drops root to the teiten user by default (the sysusers
    # file creates it when installed; here the test does).
    try:
        pwd.getpwnam("teiten")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", "teiten"], check=True)
    teiten_uid = pwd.getpwnam("teiten").pw_uid

    net.setup()
    wire = os.path.join(tmp, "wire.pcap")
    # The reference must not drop: a large buffer, and no immediate mode
    # (waking per packet to write it lost frames at 5000 pps); the 2 s
    # pause after the traffic outlasts its 1 s block timeout.
    tcpdump = Proc("tcpdump", net.dark([
        "tcpdump", "-i", net.dark_if, "-w", wire, "-U", "-n", "-Z", "root",
        "-s", "0", "-B", "65536"]), marker="listening on")
    procs = [tcpdump]
    sensors = []
    try:
        tcpdump.wait_marker(15)
        for length in INTERVALS:
            s = Proc("teiten-sensor -n %d" % length, net.dark([
                sensor_bin, "-i", net.dark_if, "--print", "-n",
                str(length)]), marker="listening on")
            s.length = length
            procs.append(s)
            sensors.append(s)
        for s in sensors:
            s.wait_marker(15)
            check_not_root(s, "after start-up")
            uids = proc_ids(s.pid)[0]
            if any(u != teiten_uid for u in uids):
                raise Failure("%s runs as uids %s, not as the teiten user "
                              "(%d)" % (s.name, uids, teiten_uid))
        started = time.monotonic()

        replayed = generate_traffic(net, pcaps_dir)
        log("traffic took %.1fs; waiting 2s for the captures to settle" %
            (time.monotonic() - started))
        time.sleep(2)
        for s in sensors:
            if s.p.poll() is not None:
                s.join_readers()
                raise Failure("%s died during capture (exit %d)\n"
                              "stderr:\n%s" % (s.name, s.p.returncode,
                                               s.err.text()))
            check_not_root(s, "while capturing")

        # Both at once (one signal each: a second one could kill).
        for s in sensors:
            s.p.send_signal(signal.SIGTERM)
        for s in sensors:
            rc = s.stop(None, 15)
            log("%s stderr:\n%s" % (s.name, s.err.text().rstrip()))
            if rc != 0:
                raise Failure("%s exited %d after SIGTERM (want 0)" % (
                    s.name, rc))
        trc = tcpdump.stop(signal.SIGINT, 15)
        log("tcpdump stderr:\n" + tcpdump.err.text().rstrip())
        if trc != 0:
            raise Failure("tcpdump exited %d" % trc)
    finally:
        for p in procs:
            p.kill()

    want, frames, unkeyed, times = tshark_counts(wire)
    total_want = sum(want.values())
    log("tcpdump file: %d frames, %d keyed packets under %d keys; not keyed: "
        "%s" % (frames, total_want, len(want), dict(unkeyed) or "none"))
    by_proto = collections.Counter()
    for (p, _), n in want.items():
        by_proto[p] += n
    log("expected per protocol: " + ", ".join(
        "%s %d" % (p, by_proto[p]) for p in PROTOS))

    problems = []
    tdrops = parse_drops(tcpdump.err.text(),
                         r"(\d+) packets? dropped by kernel")
    if tdrops:
        problems.append("tcpdump reports %d capture drops" % tdrops)
    if total_want < 300:
        problems.append("only %d keyed packets on the wire; expected "
                        "hundreds (did the traffic go out?)" % total_want)
    for p in ("tcp", "udp", "icmp") + (("icmp6",) if replayed else ()):
        if by_proto[p] == 0:
            problems.append("no %s packets on the wire" % p)
    for s in sensors:
        problems += check_sensor(s, want, frames, unkeyed)
        problems += check_assignment(s, times)
    if problems:
        raise Failure("\n".join(problems) + "\n(tcpdump file kept in %s)" %
                      tmp)
    log("OK: %d packets under %d keys match exactly, for intervals of %s s" % (
        total_want, len(want), " and ".join(str(n) for n in INTERVALS)))


def check_sensor(s, want, frames, unkeyed):
    """Problems found in one sensor's output, as a list of strings."""
    problems = []
    err = s.err.text()
    got, printed = sensor_counts(s.out.text(), s.length)
    reported = sorted(reported_intervals(err, s.length))
    total_got = sum(got.values())
    log("%s: %d keyed packets under %d keys; %d interval(s) reported, "
        "%d with lines" % (s.name, total_got, len(got), len(reported),
                           len(printed)))
    if not printed <= set(reported):
        problems.append("%s printed lines for intervals it did not report: "
                        "%s" % (s.name, sorted(printed - set(reported))))
    # The test runs well under a minute: how many intervals can it span?
    if len(reported) > 60 // s.length + 2:
        problems.append("%s reported %d intervals of %ds" % (
            s.name, len(reported), s.length))
    sdrops = parse_drops(err, r"total over .* drops (\d+)")
    if sdrops:
        problems.append("%s reports %d capture drops" % (s.name, sdrops))
    # Every frame on the wire is seen once; the classes without a key
    # match too.
    stotal = re.findall(r"total over \d+ intervals: seen (\d+) .*"
                        r" fragment (\d+) .* nonip (\d+) ", err)
    if not stotal:
        problems.append("%s: no totals line on stderr" % s.name)
    else:
        seen, frag, nonip = (int(x) for x in stotal[-1])
        for what, a, b in (("frames seen", seen, frames),
                           ("fragments", frag, unkeyed["fragment"]),
                           ("non-IP frames", nonip, unkeyed["non-IP"])):
            if a != b:
                problems.append("%s: %s: sensor %d, tcpdump file %d" % (
                    s.name, what, a, b))
    if got != want:
        problems.append("%s: counts differ from tshark's (total %d vs %d):"
                        "\n%s" % (s.name, total_got, sum(want.values()),
                                  diff_report(want, got)))
    return problems


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root to create network namespaces")
        return SKIP
    if shutil.which("ip") is None:
        print("SKIP: iproute2 (ip) is not installed")
        return SKIP
    missing = [t for t in TOOLS if shutil.which(t) is None]
    t0 = time.monotonic()
    net = Net()
    tmp = tempfile.mkdtemp(prefix="teiten-live-")
    os.chmod(tmp, 0o755)
    keep = False
    try:
        if missing:
            # Namespaces first: an unprivileged container skips.
            net.setup()
            net.cleanup()
            raise Failure("missing tools: " + " ".join(missing))
        test(net, tmp)
        return 0
    except Skip as e:
        print("SKIP: %s" % e)
        return SKIP
    except Failure as e:
        print("FAIL: %s" % e)
        keep = True
        return 1
    except Exception:
        import traceback
        traceback.print_exc()
        print("FAIL: unexpected error")
        return 1
    finally:
        net.cleanup()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
        log("(%.1fs)" % (time.monotonic() - t0))


if __name__ == "__main__":
    sys.exit(main())
