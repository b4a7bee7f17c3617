/*
 * The key space, written once: one number per (proto, key), tcp ports
 * 0-65535, then udp ports, icmp types and icmp6 types, 131,584 in all.
 * The sensor's count arrays, the records' entries (one per key at most)
 * and the aggregator's tables and RRD bookkeeping all use this layout.
 */
#ifndef TEITEN_KEYIDX_H
#define TEITEN_KEYIDX_H

#include <stdint.h>

#include "proto.h"

/* Keys per protocol, as proto_nkeys() gives them. */
#define KEYIDX_PORTS 65536
#define KEYIDX_TYPES 256

/* Where each protocol's keys start, in enum proto order. */
#define KEYIDX_BASE_TCP 0
#define KEYIDX_BASE_UDP (KEYIDX_BASE_TCP + KEYIDX_PORTS)
#define KEYIDX_BASE_ICMP (KEYIDX_BASE_UDP + KEYIDX_PORTS)
#define KEYIDX_BASE_ICMP6 (KEYIDX_BASE_ICMP + KEYIDX_TYPES)
#define KEYIDX_COUNT (KEYIDX_BASE_ICMP6 + KEYIDX_TYPES)

static inline uint32_t
keyidx_base(enum proto p)
{
	static const uint32_t base[PROTO_COUNT] = {
	    [PROTO_TCP] = KEYIDX_BASE_TCP,
	    [PROTO_UDP] = KEYIDX_BASE_UDP,
	    [PROTO_ICMP] = KEYIDX_BASE_ICMP,
	    [PROTO_ICMP6] = KEYIDX_BASE_ICMP6,
	};

	return base[p];
}

/* The index of key (below proto_nkeys(p)) of p. */
static inline uint32_t
keyidx(enum proto p, unsigned key)
{
	return keyidx_base(p) + key;
}

static inline enum proto
keyidx_proto(uint32_t i)
{
	return i < KEYIDX_BASE_UDP  ? PROTO_TCP
	    : i < KEYIDX_BASE_ICMP  ? PROTO_UDP
	    : i < KEYIDX_BASE_ICMP6 ? PROTO_ICMP
				    : PROTO_ICMP6;
}

static inline unsigned
keyidx_key(uint32_t i)
{
	return i - keyidx_base(keyidx_proto(i));
}

#endif
