/*
 * Interval arithmetic.  A timestamp belongs to the interval that starts at
 * floor(sec / len) * len, computed from whole seconds only (DESIGN.md,
 * contract 2), so that negative times also round down.
 */
#ifndef TEITEN_INTERVAL_H
#define TEITEN_INTERVAL_H

#include <stdint.h>

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

/* Parse a length in seconds, 1..INTERVAL_MAX; returns -1 if invalid. */
int interval_parse(const char *, uint32_t *);

#endif
