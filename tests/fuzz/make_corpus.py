"""Writes the seed corpora, one file per hand-built input: corpus/classify/
(frames, first byte = index of the link type in fuzz_classify.c's table),
corpus/record/ (encoded records, per the layout in common/record.c) and
corpus/frame/ (frames sealed with fuzz_frame.c's key), corpus/hello/ (HELLO
payloads, man/teiten-protocol.7) and corpus/pcapfile/ (classic pcap files:
the classify seeds in files of their link type, in both byte orders and
timestamp resolutions, old versions, and damaged records).  Run once; its output
is committed."""

import hashlib
import hmac
import os
import struct

EN10MB, SLL, SLL2, RAW, IPV4, IPV6, NULL, LOOP = range(8)
ETH = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"


def ipv4(proto, payload, frag=0, opts=b""):
    ihl = 5 + len(opts) // 4
    return struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload),
                       1, frag, 64, proto, 0, bytes([203, 0, 113, 9]),
                       bytes([198, 51, 100, 7])) + opts + payload


def ipv6(nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       bytes(15) + b"\x01", b"\x20\x01\x0d\xb8" + bytes(11) +
                       b"\x07") + payload


TCP_SYN = struct.pack("!HHIIBBHHH", 40000, 445, 1, 0, 0x50, 0x02, 1024, 0, 0)
UDP = struct.pack("!HHHH", 5353, 53, 8, 0)
ICMP = struct.pack("!BBHI", 8, 0, 0, 0)
HBH = bytes([6, 0, 1, 4, 0, 0, 0, 0])
FRAG0 = bytes([17, 0, 0, 1, 0, 0, 0, 9])
FRAGN = bytes([17, 0, 0, 0x10, 0, 0, 0, 9])

SEEDS = {
    "eth-syn": bytes([EN10MB]) + ETH + b"\x08\x00" + ipv4(6, TCP_SYN),
    "eth-vlan-udp": bytes([EN10MB]) + ETH + b"\x81\x00\x00\x05\x08\x00" +
    ipv4(17, UDP),
    "eth-qinq-icmp": bytes([EN10MB]) + ETH + b"\x88\xa8\x00\x01\x81\x00"
    b"\x00\x02\x08\x00" + ipv4(1, ICMP),
    "eth-v4opts-syn": bytes([EN10MB]) + ETH + b"\x08\x00" +
    ipv4(6, TCP_SYN, opts=b"\x01\x01\x01\x00"),
    "eth-v4frag": bytes([EN10MB]) + ETH + b"\x08\x00" + ipv4(6, b"x" * 8,
                                                            frag=0x0010),
    "eth-icmp-err": bytes([EN10MB]) + ETH + b"\x08\x00" +
    ipv4(1, struct.pack("!BBHI", 3, 3, 0, 0) + ipv4(17, UDP)),
    "eth-v6-hbh-syn": bytes([EN10MB]) + ETH + b"\x86\xdd" +
    ipv6(0, HBH + TCP_SYN),
    "eth-v6-frag0": bytes([EN10MB]) + ETH + b"\x86\xdd" + ipv6(44, FRAG0 +
                                                              UDP),
    "eth-v6-fragn": bytes([EN10MB]) + ETH + b"\x86\xdd" + ipv6(44, FRAGN +
                                                              b"y" * 8),
    "eth-arp": bytes([EN10MB]) + ETH + b"\x08\x06" + bytes(28),
    "sll-syn": bytes([SLL]) + bytes(14) + b"\x08\x00" + ipv4(6, TCP_SYN),
    "sll2-v6-icmp6": bytes([SLL2]) + b"\x86\xdd" + bytes(18) +
    ipv6(58, struct.pack("!BBHI", 128, 0, 0, 0)),
    "raw-gre": bytes([RAW]) + ipv4(47, b"\x00\x00\x08\x00"),
    "ipv6-dstopts-udp": bytes([IPV6]) + ipv6(60, bytes([17, 0]) + bytes(6) +
                                             UDP),
    "null-udp": bytes([NULL]) + b"\x02\x00\x00\x00" + ipv4(17, UDP),
    "loop-v6-syn": bytes([LOOP]) + b"\x00\x00\x00\x18" + ipv6(6, TCP_SYN),
}



def varint(v):
    """LEB128: 7 bits a byte, low group first, high bit = more follow."""
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7f | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zigzag(v):
    return v * 2 if v >= 0 else -v * 2 - 1


NTOTALS = 16
TCP, UDP, ICMP, ICMP6 = range(4)


def record(sensor, start, length, naddrs, entries, extra=(0,) * 12):
    """entries: one sorted list of (key, packets) per protocol; the keyed
    totals are their sums, the other twelve totals come from extra."""
    totals = [sum(n for _, n in e) for e in entries] + list(extra)
    assert len(totals) == NTOTALS
    out = bytes([1, len(sensor)]) + sensor
    out += varint(zigzag(start)) + varint(length) + varint(naddrs)
    out += b"".join(varint(t) for t in totals)
    for e in entries:
        out += varint(len(e))
        prev = -1
        for key, n in e:
            out += varint(key - prev - 1) + varint(n)
            prev = key
    return out


def typical(nkeys, seed):
    """A few hundred keys with falling counts, deterministic."""
    x = seed
    lists = []
    for proto, want in ((TCP, nkeys * 7 // 10), (UDP, nkeys // 4),
                        (ICMP, 8), (ICMP6, 12)):
        space = 256 if proto >= ICMP else 65536
        keys = set()
        while len(keys) < min(want, space):
            x = (x * 1103515245 + 12345) & 0xffffffff
            keys.add((x >> 8) % space)
        lists.append([(k, 1 + 50000 // (1 + i)) for i, k in
                      enumerate(sorted(keys))])
    return lists


EMPTY = [[], [], [], []]
RECORDS = {
    "fixture": record(b"s1", 1700000040, 60, 256,
                      [[(22, 3), (445, 1)], [(53, 2)], [], [(128, 1)]],
                      (5, 6, 7, 0, 9, 10, 11, 12, 13, 0, 300, 1)),
    "empty": record(b"x", 0, 1, 0, EMPTY),
    "negative-start": record(b"past", -3600, 60, 1, [[(80, 9)], [], [], []]),
    "day": record(b"daily.host_1", 1700006400, 86400, 2 ** 32,
                  [[], [(123, 2 ** 40)], [(0, 1), (255, 2)], []]),
    "id-64": record(b"a" * 64, 1700000040, 60, 0, EMPTY),
    "key-bounds": record(b"edge", 1700000040, 60, 0,
                         [[(0, 1), (65535, 1)], [(65535, 2 ** 64 - 2)],
                          [(255, 1)], [(0, 1), (255, 1)]],
                         (2 ** 64 - 1,) * 12),
    "typical": record(b"tokyo-1", 1700000040, 60, 65536, typical(400, 1)),
    # Refused forms, so that the fuzzer starts next to each check.
    "trailing": record(b"s1", 1700000040, 60, 0, EMPTY) + b"\x00",
    "bad-total": record(b"s1", 1700000040, 60, 0, EMPTY)[:-4] +
    b"\x01\x16\x01\x00\x00\x00",
    "not-multiple": record(b"s1", 1700000041, 60, 0, EMPTY),
    "overlong": bytes([1, 2]) + b"s1" + b"\x80\x00",
}

# fuzz_frame.c's key: 00 01 02 ... 1f.
FRAME_KEY = bytes(range(32))


def frame(ftype, seq, payload, key=FRAME_KEY):
    head = b"TT" + bytes([1, ftype]) + struct.pack("!IQ", len(payload), seq)
    return head + payload + hmac.new(key, head + payload,
                                     hashlib.sha256).digest()


FRAMES = {
    "hello": frame(1, 0, b"\x02s1" + bytes(range(16))),
    "challenge": frame(2, 0, bytes(range(0x40, 0x50))),
    "record": frame(3, 1, RECORDS["fixture"]),
    "ack": frame(4, 1, b"\x00" + varint(zigzag(1700000040))),
    "empty": frame(1, 2 ** 64 - 1, b""),
    "wrong-key": frame(3, 7, RECORDS["empty"], key=bytes(32)),
    "header-only": frame(3, 0, b"")[:16],
    "bad-type": b"TT\x01\x05" + bytes(12) + bytes(32),
    "too-large": b"TT\x01\x03\xff\xff\xff\xff" + bytes(8),
}

NONCE = bytes(range(0xa0, 0xb0))
HELLOS = {
    "hello": b"\x02s1" + NONCE,
    "id-64": b"\x40" + b"a" * 64 + NONCE,
    "id-chars": b"\x0dAz09._-tokyo1" + NONCE,
    # Refused forms, next to each check.
    "empty": b"",
    "id-0": b"\x00" + NONCE,
    "id-65": b"\x41" + b"a" * 65 + NONCE,
    "short-nonce": b"\x02s1" + NONCE[:-1],
    "trailing": b"\x02s1" + NONCE + b"\x00",
    "nul-in-id": b"\x03a\x00c" + NONCE,
    "slash-in-id": b"\x03a/c" + NONCE,
}


# The pcap LINKTYPE_ value of each link type index of SEEDS.
LINKTYPES = [1, 113, 276, 101, 228, 229, 0, 108]


def pcap(linktype, frames, e="<", nsec=False, snaplen=65535, version=(2, 4),
         caplens=None):
    """A classic pcap file; caplens, when given, overrides each record's."""
    magic = 0xa1b23c4d if nsec else 0xa1b2c3d4
    out = struct.pack(e + "IHHiIII", magic, version[0], version[1], 0, 0,
                      snaplen, linktype)
    for i, f in enumerate(frames):
        caplen = caplens[i] if caplens else len(f)
        out += struct.pack(e + "IIII", 1700000000 + i * 30,
                           i * (999 if nsec else 1), caplen, len(f)) + f
    return out


def pcap_seeds():
    seeds = {}
    for name, data in SEEDS.items():
        seeds[name] = pcap(LINKTYPES[data[0]], [data[1:]] * 3)
    frames = [SEEDS[n][1:] for n in ("eth-syn", "eth-vlan-udp", "eth-arp",
                                     "eth-v6-hbh-syn")]
    seeds["eth-be-ns"] = pcap(1, frames, e=">", nsec=True)
    seeds["eth-le-ns"] = pcap(1, frames, nsec=True)
    seeds["eth-be-us"] = pcap(1, frames, e=">")
    seeds["eth-v2.3"] = pcap(1, frames, version=(2, 3))
    seeds["eth-snap40"] = pcap(1, frames, snaplen=40)
    seeds["eth-cut"] = pcap(1, frames)[:-7]
    seeds["eth-cut-hdr"] = pcap(1, frames)[:24 + 16 + 54 + 9]
    seeds["eth-caplen-huge"] = pcap(1, frames, caplens=[54, 300000, 54, 54])
    seeds["eth-caplen-past-end"] = pcap(1, frames, caplens=[54, 60, 9999, 1])
    seeds["header-only"] = pcap(1, [])
    return seeds


def write(name, seeds):
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                       name)
    os.makedirs(out, exist_ok=True)
    for seed, data in seeds.items():
        with open(os.path.join(out, seed), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    # The fixture is the one test_record.c spells out byte by byte.
    assert RECORDS["fixture"].hex() == (
        "010273 31d0c49fd50c3c8002040200010506070009 0a0b0c0d00ac02010216"
        "03a60301 01350200 01800101").replace(" ", "")
    write("classify", SEEDS)
    write("record", RECORDS)
    write("frame", FRAMES)
    write("hello", HELLOS)
    write("pcapfile", pcap_seeds())
