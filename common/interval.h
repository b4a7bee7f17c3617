/*
 * Interval arithmetic.  A timestamp belongs to the interval that starts at
 * floor(sec / len) * len, computed from whole seconds only
 * (doc/CONTRACTS.md contract 2), so that negative times also round down.
 */
#ifndef TEITEN_INTERVAL_H
#define TEITEN_INTERVAL_H

#include <stdint.h>

/*
 * Timestamps beyond +-2^40 s (35,000 years) come only from broken
 * captures; refusing them keeps all interval arithmetic free of overflow.
 */
#define INTERVAL_SEC_LIMIT ((int64_t)1 << 40)
#define INTERVAL_DEFAULT 60
#define INTERVAL_MAX 86400

static inline int64_t
interval_start(int64_t sec, uint32_t len)
{
	int64_t q = sec / (int64_t)len;

	if (sec % (int64_t)len < 0)
		q--;
	return q * (int64_t)len;
}

static inline int
interval_valid(int64_t sec)
{
	return sec > -INTERVAL_SEC_LIMIT && sec < INTERVAL_SEC_LIMIT;
}

/* Parse a length in seconds, 1..INTERVAL_MAX; returns -1 if invalid. */
int interval_parse(const char *, uint32_t *);

#endif
