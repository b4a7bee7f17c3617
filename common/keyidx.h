/*
 * One number per (proto, key): tcp ports 0-65535, then udp ports, icmp
 * types and icmp6 types, 131,584 in all.  The sensor's count arrays and
 * the aggregator's tables and RRD bookkeeping share this layout.
 */
#ifndef TEITEN_KEYIDX_H
#define TEITEN_KEYIDX_H

#include <stdint.h>

#include "proto.h"

#define KEYIDX_COUNT (65536 * 2 + 256 * 2)

static inline uint32_t
keyidx_base(enum proto p)
{
	static const uint32_t base[PROTO_COUNT] = {0, 65536, 131072, 131328};

	return base[p];
}

static inline uint32_t
keyidx(enum proto p, unsigned key)
{
	return keyidx_base(p) + key;
}

static inline enum proto
keyidx_proto(uint32_t i)
{
	return i < 65536 ? PROTO_TCP
	    : i < 131072 ? PROTO_UDP
	    : i < 131328 ? PROTO_ICMP
			 : PROTO_ICMP6;
}

static inline unsigned
keyidx_key(uint32_t i)
{
	return i - keyidx_base(keyidx_proto(i));
}

#endif
