/*
 * Packet sums of one interval per key, across sensors: an open-addressing
 * hash table from key index (proto base + key, as in keyidx.h) to a 64-bit
 * sum, sized to what was seen rather than to all 131,584 keys, since many
 * intervals can be open at once during a replay.
 */
#ifndef TEITEN_SUMTAB_H
#define TEITEN_SUMTAB_H

#include <stddef.h>
#include <stdint.h>

struct sumtab {
	uint32_t *keys; /* key index + 1; 0 = empty slot */
	uint64_t *sums;
	size_t cap, n;
	size_t saturated; /* additions that stopped at UINT64_MAX */
};

void sumtab_init(struct sumtab *);
void sumtab_free(struct sumtab *);
/*
 * Add n to the key's sum.  A sum never wraps: it stops at UINT64_MAX, and
 * then this returns 1 (else 0) and counts it, so that the caller can say
 * which key saturated.
 */
int sumtab_add(struct sumtab *, uint32_t idx, uint64_t n);
/* Additions that saturated since sumtab_init(). */
size_t sumtab_saturated(const struct sumtab *);
/* The used key indices in ascending order, in a new array (caller frees). */
uint32_t *sumtab_sorted(const struct sumtab *, size_t *n);
uint64_t sumtab_get(const struct sumtab *, uint32_t idx);

#endif
