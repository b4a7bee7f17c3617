/*
 * What the generators of synthetic DATADIRs (bench_site, bench_rebuild_gen)
 * share, so that their keys and values come from the same functions: a
 * monotonic clock, splitmix64's finalizer, a hash as a number in [0, 1),
 * the draw of a tail key, and a numeric option.  BENCH_PROG, the program's
 * name for messages, is defined before this header is included.
 */
#ifndef TEITEN_BENCHGEN_H
#define TEITEN_BENCHGEN_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "keyidx.h"

static inline double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64's finalizer: every input bit moves every output bit. */
static inline uint64_t
mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static inline double
unit(uint64_t h)
{
	return (double)(h >> 11) / 9007199254740992.0;
}

/* A tail key: mostly tcp and udp ports, one draw in 500 an ICMP type. */
static inline uint32_t
draw_key(uint64_t *state)
{
	uint64_t h = mix64((*state)++);

	if (h % 500 == 0)
		return keyidx((h >> 32) & 1 ? PROTO_ICMP6 : PROTO_ICMP,
		    (unsigned)(h >> 40) % 256);
	return keyidx((h >> 16) % 10 < 7 ? PROTO_TCP : PROTO_UDP,
	    (unsigned)(h >> 32) % 65536);
}

/* Option opt's value v, or exit 1 when it is not a number lo to hi. */
static inline long long
num(const char *opt, const char *v, long long lo, long long hi)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, BENCH_PROG ": %s must be %lld to %lld\n", opt,
		    lo, hi);
		exit(1);
	}
	return n;
}

#endif
