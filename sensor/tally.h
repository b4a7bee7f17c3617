/*
 * Assigns packets to intervals by their own timestamps (DESIGN.md,
 * contract 2) and hands each closed interval, empty ones included, to an
 * emit callback in time order.  A packet older than the open interval
 * (unsorted captures, clock steps) is counted in the open one and marked
 * late, never dropped.  The tally owns its counts; the emit callback may
 * read and annotate them but not keep the pointer.
 */
#ifndef TEITEN_TALLY_H
#define TEITEN_TALLY_H

#include <stdint.h>

#include "counts.h"
#include "prefix.h"

typedef void (*tally_emit_fn)(struct counts *, void *);
/* n empty intervals from start: a capture gap, reported in one call. */
typedef void (*tally_gap_fn)(int64_t start, uint64_t n, uint32_t len, void *);

struct tally {
	struct counts *cur;
	uint32_t len;
	int open;
	const struct prefixes *monitor; /* NULL: every address */
	tally_emit_fn emit;
	tally_gap_fn gap;
	void *arg;
};

void tally_init(struct tally *, uint32_t len, const struct prefixes *,
    tally_emit_fn, tally_gap_fn, void *);
void tally_free(struct tally *);
/* Open the interval containing sec if none is open yet. */
void tally_begin(struct tally *, int64_t sec);
/* Close every interval that ends at or before sec; open the one after. */
void tally_advance(struct tally *, int64_t sec);
/* Close the open interval, if any. */
void tally_finish(struct tally *);
void tally_slow(struct tally *, int64_t sec);
int tally_monitored(const struct tally *, const struct pkt *);

static inline void
tally_packet(struct tally *t, int64_t sec, struct pkt *pk)
{
	/* Unsigned compare: one branch for "inside the open interval". */
	if (!t->open || (uint64_t)(sec - t->cur->start) >= t->len)
		tally_slow(t, sec);
	if (t->monitor != NULL && pk->dst != NULL && !tally_monitored(t, pk))
		pk->cls = CLASS_UNMONITORED;
	counts_add(t->cur, pk);
}

#endif
