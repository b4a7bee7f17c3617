"""Writes the seed corpus of fuzz_classify: one file per hand-built frame,
first byte = index of the link type in fuzz_classify.c's table.  Run once;
its output is committed under corpus/classify/."""

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

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                       "classify")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
