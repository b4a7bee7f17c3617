"""Writes the seed corpora, one file per hand-built input: corpus/classify/
(frames, first byte = index of the link type in fuzz_classify.c's table),
corpus/record/ (encoded records of versions 1 and 2, per the layout in
common/record.c, sketches per common/hll.c), and
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


def record(sensor, start, length, naddrs, entries, extra=(0,) * 12,
           sketches=None):
    """entries: one sorted list of (key, packets) per protocol; the keyed
    totals are their sums, the other twelve totals come from extra.
    sketches, for version 2: (precision, key id, all_src, all_dst) with the
    encoded sketches, and then every entry is (key, packets, src, dst)."""
    totals = [sum(e[1] for e in es) for es in entries] + list(extra)
    assert len(totals) == NTOTALS
    out = bytes([2 if sketches else 1, len(sensor)]) + sensor
    out += varint(zigzag(start)) + varint(length) + varint(naddrs)
    out += b"".join(varint(t) for t in totals)
    if sketches:
        p, keyid, all_src, all_dst = sketches
        out += bytes([p]) + keyid + all_src + all_dst
    for es in entries:
        out += varint(len(es))
        prev = -1
        for e in es:
            out += varint(e[0] - prev - 1) + varint(e[1]) + b"".join(e[2:])
            prev = e[0]
    return out


# --- Sketches (common/hll.c) -------------------------------------------

M64 = (1 << 64) - 1
HLL_SP = 26


def item_hash(x):
    """splitmix64: distinct items, well-spread 64-bit hashes (the sensor's
    are SipHash-2-4 of addresses; any 64-bit values will do here)."""
    x = (x + 0x9e3779b97f4a7c15) & M64
    x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M64
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M64
    return x ^ (x >> 31)


def rank(x, none):
    """One more than the leading zeros of the 64-bit x; none if x is 0."""
    return 65 - x.bit_length() if x else none


def sketch(p, hashes):
    """hll_encode()'s bytes for the set of hashes at precision p: sparse
    (varint words + 1, the first word, then each gap less one; a word is
    26 index bits and a 6-bit rank) while at most 2^p / 8 indices, else
    dense (varint 0, 2^p registers of 6 bits packed little-endian)."""
    words = {}
    for h in hashes:
        idx = h >> (64 - HLL_SP)
        words[idx] = max(words.get(idx, 0),
                         rank((h << HLL_SP) & M64, 64 - HLL_SP + 1))
    if len(words) <= (1 << p) // 8:
        out, prev = varint(len(words) + 1), None
        for w in sorted(i << 6 | r for i, r in words.items()):
            out += varint(w if prev is None else w - prev - 1)
            prev = w
        return out
    reg = [0] * (1 << p)
    for h in hashes:
        i = h >> (64 - p)
        reg[i] = max(reg[i], rank((h << p) & M64, 65 - p))
    bits = sum(r << (6 * i) for i, r in enumerate(reg))
    return b"\x00" + bits.to_bytes(6 * len(reg) // 8, "little")


def sketched(p, keyid, entries, nsrc):
    """Version-2 record arguments for entries (as record() takes them):
    entry i of all gets sources i * 1000 .. + nsrc(i) - 1 and half as many
    targets, one at least; the interval's sketches are the unions."""
    out, srcs, dsts, i = [], set(), set(), 0
    for es in entries:
        out.append([])
        for key, n in es:
            src = {item_hash(i * 1000 + j) for j in range(nsrc(i))}
            dst = {item_hash((1 << 40) + i * 7 + j)
                   for j in range(nsrc(i) // 2 + 1)}
            out[-1].append((key, n, sketch(p, src), sketch(p, dst)))
            srcs |= src
            dsts |= dst
            i += 1
    return out, (p, keyid, sketch(p, srcs), sketch(p, dsts))


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

KEYID = bytes([0x5e, 0x1f, 0x00, 0xff, 0x01, 0x80, 0x7f, 0x42])
FIXTURE = [[(22, 3), (445, 1)], [(53, 2)], [], [(128, 1)]]


def v2(name, p, entries, nsrc, sensor=b"s1", length=60):
    es, sk = sketched(p, KEYID, entries, nsrc)
    RECORDS[name] = record(sensor, 1700000040, length, 256, es,
                           sketches=sk)


# Version 2: sparse sketches, dense ones (p = 4 and 10), every precision
# bound, an empty interval.
v2("v2-sparse", 14, FIXTURE, lambda i: (1, 3, 20, 2)[i])
v2("v2-dense-p4", 4, FIXTURE, lambda i: (1, 2, 40, 100)[i])
v2("v2-dense-p10", 10, FIXTURE, lambda i: (1, 300, 5, 2)[i])
v2("v2-p18", 18, FIXTURE, lambda i: 1 + i)
v2("v2-typical", 14, typical(100, 2), lambda i: 1 + i % 17)
RECORDS["v2-empty"] = record(b"x", 0, 1, 0, EMPTY,
                             sketches=(14, KEYID, b"\x01", b"\x01"))
# Refused forms of version 2, next to each check: tcp 22 with these src
# sketches (sparse words: 0x41 is index 1 rank 1).
_one = sketch(4, [item_hash(0)])


def v2_src(src, p=4):
    return record(b"s1", 1700000040, 60, 0, [[(22, 1, src, _one)], [], [],
                                              []],
                  sketches=(p, KEYID, _one, _one))


RECORDS.update({
    "v2-precision-3": v2_src(_one, p=3),
    "v2-precision-19": v2_src(_one, p=19),
    "v2-empty-src": v2_src(b"\x01"),
    "v2-index-twice": v2_src(b"\x03\x41\x00"),
    "v2-rank-40": v2_src(b"\x02\x68"),
    "v2-register-62": v2_src(b"\x00\x3e" + bytes(11)),
    "v2-too-sparse": v2_src(b"\x04\x41\x3f\x3f"),
    "v2-trailing": v2_src(_one) + b"\x00",
    "v2-cut": v2_src(_one)[:-5],
})

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
    "proof": frame(5, 1, b""),
    "bad-type": b"TT\x01\x06" + bytes(12) + bytes(32),
    "too-large": b"TT\x01\x03\xff\xff\xff\xff" + bytes(8),
    "over-32mib": b"TT\x01\x03\x02\x00\x00\x01" + bytes(8),
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
