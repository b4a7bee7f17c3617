#!/usr/bin/env python3
"""The expected bytes of test_sketchkey.c, computed without libsodium:
hashlib's BLAKE2b for the derived keys, and SipHash-2-4 as the paper
(Aumasson, Bernstein 2012) defines it, checked against its reference
vectors, for the address hashes."""
import hashlib

M = (1 << 64) - 1


def rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M


def siphash24(key, msg):
    k0 = int.from_bytes(key[:8], 'little')
    k1 = int.from_bytes(key[8:], 'little')
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
         k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]

    def rnd():
        v[0] = (v[0] + v[1]) & M
        v[1] = rotl(v[1], 13) ^ v[0]
        v[0] = rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & M
        v[3] = rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & M
        v[3] = rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & M
        v[1] = rotl(v[1], 17) ^ v[2]
        v[2] = rotl(v[2], 32)

    n = len(msg) // 8 * 8
    words = [int.from_bytes(msg[i:i + 8], 'little') for i in range(0, n, 8)]
    words.append(len(msg) << 56 & M | int.from_bytes(msg[n:], 'little'))
    for w in words:
        v[3] ^= w
        rnd()
        rnd()
        v[0] ^= w
    v[2] ^= 0xff
    for _ in range(4):
        rnd()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def derive(filekey):
    hk = hashlib.blake2b(b'teiten sketch hash' + filekey,
                         digest_size=16).digest()
    kid = hashlib.blake2b(b'teiten sketch id' + filekey,
                          digest_size=16).digest()[:8]
    return hk, kid


def main():
    ref = bytes(range(16))
    assert siphash24(ref, b'') == 0x726fdb47dd0e0e31
    assert siphash24(ref, bytes(range(15))) == 0xa129ca6149be45e5
    for filekey in (bytes(32), bytes(range(32))):
        hk, kid = derive(filekey)
        print('file key', filekey.hex())
        print('  hash key', hk.hex(), 'id', kid.hex())
        for a in (bytes([198, 51, 100, 7]),
                  bytes.fromhex('20010db8000000000000000000000007')):
            print('  %s %016x' % (a.hex(), siphash24(hk, a)))


if __name__ == '__main__':
    main()
