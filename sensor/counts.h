/*
 * Packet counts of one interval: per class, per TCP flag kind, and per key
 * in one fixed array indexed as common/keyidx.h lays the keys out (65,536
 * ports for tcp and udp, 256 types for icmp and icmp6), in output order.
 * The struct is public because counts_add() runs once per packet and must
 * inline.  Owned by the caller; counts_free() accepts NULL.
 */
#ifndef TEITEN_COUNTS_H
#define TEITEN_COUNTS_H

#include <stdint.h>

#include "classify.h"
#include "keyidx.h"
#include "proto.h"
#include "record.h"

struct totals {
	uint64_t classes[CLASS_COUNT];
	uint64_t tcpk[TCPK_COUNT];
	uint64_t late; /* timestamp before the interval: counted here */
	uint64_t drops; /* capture drops while the interval was open */
	/* Stray timestamps set aside while the interval was open (tally.h). */
	uint64_t outliers;
};

struct counts {
	int64_t start;
	uint32_t len;
	struct totals t;
	uint64_t key[KEYIDX_COUNT];
	/* One bit per key that is non-zero, so closing costs what was seen. */
	uint64_t touched[KEYIDX_COUNT / 64];
};
_Static_assert(KEYIDX_COUNT % 64 == 0, "touched[] has a bit for every key");

struct counts *counts_new(void);
void counts_free(struct counts *);
/* Zero every count and start the interval [start, start + len). */
void counts_reset(struct counts *, int64_t start, uint32_t len);
uint64_t counts_seen(const struct totals *);
uint64_t counts_keyed(const struct totals *);
void totals_add(struct totals *, const struct totals *);
int counts_empty(const struct counts *);

/* Fill r (already initialised) with the counts of c. */
void counts_to_record(const struct counts *, struct record *r);

/* Calls fn for each non-zero key in output order (proto, then key). */
void counts_foreach(const struct counts *,
    void (*fn)(enum proto, unsigned key, uint64_t n, void *), void *arg);

static inline void
counts_add(struct counts *c, const struct pkt *pk)
{
	uint32_t i;

	c->t.classes[pk->cls]++;
	if (pk->cls > CLASS_ICMP6)
		return;
	i = keyidx((enum proto)pk->cls, pk->key);
	if (c->key[i]++ == 0)
		c->touched[i / 64] |= (uint64_t)1 << (i % 64);
	if (pk->cls == CLASS_TCP)
		c->t.tcpk[pk->tcpk]++;
}

#endif
