"""The direct reader of classic pcap files (sensor/pcapfile.c, issue 13)
gives exactly what the libpcap path gives: for each capture, `--print`
output, every line on stderr and the exit status of `--reader direct` (or
`auto` for files the direct reader leaves to libpcap) equal those of
`--reader libpcap`.  Captures:

(a) every shared capture (TEITEN_PCAPS; skipped with a note when absent),
    without a filter and with a few BPF filters; `--reader direct` refuses
    pcapng, and `auto` reads it through libpcap;
(b) a teiten-gencap capture converted here (Python struct, not teiten
    code) to every link type the classifier knows, in both byte orders and
    both timestamp resolutions, and to older versions (2.2, 2.3 with and
    without swapped lengths, DG/UX 543.0), a snapshot length shorter than
    the records, FCS bits in the link type, timestamps past 2^31;
(c) every truncation length of a small capture, in three of those forms
    (unit/pcapfile compares more, in-process), and records damaged in the
    middle (caplen past 262144, past the end);
The number of packets seen is checked against the number of records this
test counts in the file itself.
"""

import concurrent.futures
import os
import struct
import subprocess
import sys
import tempfile

import teiten_testlib as T
from teiten_testlib import check

LINKTYPES = {"en10mb": 1, "raw": 101, "loop": 108, "sll": 113, "ipv4": 228,
             "ipv6": 229, "sll2": 276, "null": 0}
AF = {0x0800: 2, 0x86dd: 24}
FILTERS = ["tcp", "udp or icmp", "not ip6 and tcp[13] & 2 != 0",
           "vlan", "dst port 80 or dst port 53"]


def read_pcap(path):
    """(magic-endian, records) of a classic pcap file written by gencap."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "gencap writes LE microseconds"
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, caplen, wire = struct.unpack_from("<IIII", data, off)
        recs.append((sec, frac, data[off + 16:off + 16 + caplen], wire))
        off += 16 + caplen
    return recs


def relink(frame, link, e):
    """An Ethernet frame in another link layer (e: the file's byte order,
    the host order of DLT_NULL's family field)."""
    if link == "en10mb":
        return frame
    etype = struct.unpack(">H", frame[12:14])[0]
    payload = frame[14:]
    if link == "sll":
        return struct.pack(">HHH8sH", 0, 1, 6, frame[6:12] + b"\0\0",
                           etype) + payload
    if link == "sll2":
        return struct.pack(">HHIHBB8s", etype, 0, 1, 1, 0, 6,
                           frame[6:12] + b"\0\0") + payload
    if link == "null":
        return struct.pack(e + "I", AF.get(etype, 0)) + payload
    if link == "loop":
        return struct.pack(">I", AF.get(etype, 0)) + payload
    return payload  # raw, ipv4, ipv6


def write_pcap(path, recs, e="<", nsec=False, link="en10mb", snaplen=65535,
               version=(2, 4), lenswap=False, linkbits=0):
    magic = 0xa1b23c4d if nsec else 0xa1b2c3d4
    out = [struct.pack(e + "IHHiIII", magic, version[0], version[1], 0, 0,
                       snaplen, LINKTYPES[link] | linkbits)]
    for sec, frac, frame, wire in recs:
        data = relink(frame, link, e)
        wire = wire - len(frame) + len(data)
        a, b = (wire, len(data)) if lenswap else (len(data), wire)
        out.append(struct.pack(e + "IIII", sec, frac * 1000 if nsec else frac,
                               a, b) + data)
    with open(path, "wb") as f:
        f.write(b"".join(out))


def count_records(path):
    """Whole records in a classic pcap file, by its own headers."""
    with open(path, "rb") as f:
        data = f.read()
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    major, minor = struct.unpack_from(e + "HH", data, 4)
    n, off = 0, 24
    while off + 16 <= len(data):
        caplen, wire = struct.unpack_from(e + "II", data, off + 8)
        if (major, minor) < (2, 3) or (major, minor) == (543, 0) or \
                ((major, minor) == (2, 3) and caplen > wire):
            caplen = wire
        if off + 16 + caplen > len(data):
            break
        n += 1
        off += 16 + caplen
    return n


def sensor(path, reader, extra=()):
    return T.run_sensor(["-r", path, "--print", "-n", "60",
                         "--reader", reader] + list(extra), check=False)


def same(path, what, reader="direct", extra=(), records=None):
    """Both readers on path: everything they say must be equal."""
    d = sensor(path, reader, extra)
    p = sensor(path, "libpcap", extra)
    ok = (d.stdout, d.stderr, d.returncode) == \
        (p.stdout, p.stderr, p.returncode)
    if not ok:
        print("  %s %s: direct exit %d, libpcap exit %d" %
              (what, path, d.returncode, p.returncode))
        for name, a, b in (("stdout", d.stdout, p.stdout),
                           ("stderr", d.stderr, p.stderr)):
            if a != b:
                print("  %s differs:\n  direct:  %r\n  libpcap: %r" %
                      (name, a[-300:], b[-300:]))
    if records is not None and T.total_seen(d.stderr) != records:
        print("  %s: %s packets seen, %d records in the file" %
              (what, T.total_seen(d.stderr), records))
        ok = False
    return ok


def test_shared():
    pcaps = T.pcaps_dir()
    if pcaps is None:
        return
    for name in sorted(os.listdir(pcaps)):
        path = os.path.join(pcaps, name)
        if not name.endswith((".pcap", ".pcapng")):
            continue
        with open(path, "rb") as f:
            classic = f.read(4) in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                                    b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        reader = "direct" if classic else "auto"
        check(same(path, name, reader), "shared %s (%s): same as libpcap" %
              (name, reader))
        bad = [f for f in FILTERS if not same(path, name, reader, [f])]
        check(not bad, "shared %s: same with filters (differs: %s)" %
              (name, bad))
        if not classic:
            d = sensor(path, "direct")
            check(d.returncode == 1 and "--reader direct" in d.stderr and
                  d.stdout == "", "shared %s: --reader direct refuses it" %
                  name)
    path = os.path.join(pcaps, "esnet_nmap_80_all.pcap")
    p = T.run_sensor(["-r", path, "--print", "-v"], check=False)
    check("read directly" in p.stderr, "auto reads a classic file directly")


def variants(recs):
    """(name, write_pcap keywords) of every form a file is tested in."""
    for link in LINKTYPES:
        for e in "<>":
            for nsec in (False, True):
                yield ("%s-%s-%s" % (link, "le" if e == "<" else "be",
                                     "ns" if nsec else "us"),
                       dict(e=e, nsec=nsec, link=link))
    yield "v2.2-swapped", dict(version=(2, 2), lenswap=True)
    yield "v2.3-swapped", dict(e=">", version=(2, 3), lenswap=True)
    yield "v2.3-plain", dict(version=(2, 3))
    yield "v543.0", dict(e=">", version=(543, 0), lenswap=True)
    yield "snaplen-40", dict(snaplen=40)
    yield "snaplen-0", dict(snaplen=0)
    yield "fcs-bits", dict(linkbits=0x30000000)


def test_generated(tmp, recs):
    for name, kw in variants(recs):
        path = os.path.join(tmp, name + ".pcap")
        write_pcap(path, recs, **kw)
        n = count_records(path)
        check(same(path, name, records=n) and n == len(recs),
              "generated %s: same as libpcap, %d records" % (name, n))
        if name in ("sll2-be-ns", "null-le-us", "en10mb-be-us"):
            bad = [f for f in FILTERS if not same(path, name, extra=[f])]
            check(not bad, "generated %s: same with filters (differs: %s)"
                  % (name, bad))
    # Timestamps past 2^31: libpcap before 1.10.5 reads them as negative
    # seconds, in files of the host's byte order only.
    for e in "<>":
        path = os.path.join(tmp, "ts-high.pcap")
        write_pcap(path, [(0x7fffff00 + i * 7, 0, f, w)
                          for i, (_, _, f, w) in enumerate(recs[:80])], e=e)
        check(same(path, "ts-high"), "timestamps past 2^31 (%s): same as "
              "libpcap" % e)


def test_truncated(tmp, recs):
    for name, kw in (("trunc-le-us", {}),
                     ("trunc-be-ns-sll", dict(e=">", nsec=True, link="sll")),
                     ("trunc-snap", dict(snaplen=50))):
        path = os.path.join(tmp, name + ".pcap")
        write_pcap(path, recs, **kw)
        with open(path, "rb") as f:
            data = f.read()

        def one(n):
            cut = os.path.join(tmp, "%s-%d.pcap" % (name, n))
            with open(cut, "wb") as f:
                f.write(data[:n])
            reader = "direct" if n >= 24 else "auto"
            ok = same(cut, "%s[:%d]" % (name, n), reader,
                      records=count_records(cut) if n >= 24 else None)
            os.unlink(cut)
            return ok

        # The runs are independent: both cores, as the machine has them.
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as ex:
            oks = list(ex.map(one, range(len(data) + 1)))
        bad = [n for n, ok in enumerate(oks) if not ok]
        check(not bad, "%s: all %d truncation lengths same as libpcap "
              "(differ: %s)" % (name, len(data) + 1, bad[:10]))


def test_damaged(tmp, recs):
    """One record's caplen set to v in the middle of the file."""
    path = os.path.join(tmp, "mid.pcap")
    write_pcap(path, recs)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    off, i = 24, 0
    while i < len(recs) // 2:
        off += 16 + struct.unpack_from("<I", data, off + 8)[0]
        i += 1
    for v in (262145, 0xffffffff, 262144, 70000, 65536,
              len(data) - off - 16, len(data) - off - 15, 0):
        bad = bytearray(data)
        struct.pack_into("<I", bad, off + 8, v)
        with open(path, "wb") as f:
            f.write(bad)
        check(same(path, "caplen %d" % v),
              "record %d with caplen %d: same as libpcap" % (i, v))
        # The same record claiming a snapshot smaller than it.
        struct.pack_into("<I", bad, 16, 30)
        with open(path, "wb") as f:
            f.write(bad)
        check(same(path, "caplen %d snap 30" % v),
              "record %d with caplen %d, snaplen 30: same as libpcap" %
              (i, v))


def gencap(tmp, name, count, duration):
    path = os.path.join(tmp, name)
    subprocess.run([os.environ["TEITEN_GENCAP"], "-c", str(count), "-d",
                    str(duration), "-S", "7", "-o", path], check=True)
    return read_pcap(path)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # the sensor reads as its own user
        test_shared()
        test_generated(tmp, gencap(tmp, "gen.pcap", 3000, 3600))
        small = gencap(tmp, "small.pcap", 4, 600)
        test_truncated(tmp, small)
        test_damaged(tmp, gencap(tmp, "mid.pcap", 400, 600))
    print("%d failures" % len(T.FAILURES))
    return 1 if T.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
