/*
 * Assigns packets to intervals by their own timestamps (DESIGN.md,
 * contract 2) and hands each closed interval, empty ones included, to an
 * emit callback in time order.  When packets move on to the next interval
 * the previous one stays open for stragglers (captures merged from several
 * interfaces are slightly out of order) until packets move on again or
 * tally_advance() closes it.  A packet older than that, or with an
 * impossible timestamp, is counted in the oldest open interval and marked
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
	struct counts *prev; /* the interval before cur, if prev_open */
	uint32_t len;
	int open;
	int prev_open;
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
/* Close the open intervals, if any. */
void tally_finish(struct tally *);
/* Start of the oldest open interval (only while one is open). */
int64_t tally_oldest(const struct tally *);
struct counts *tally_slow(struct tally *, int64_t sec);
int tally_monitored(const struct tally *, const struct pkt *);

static inline void
tally_packet(struct tally *t, int64_t sec, struct pkt *pk)
{
	struct counts *c = t->cur;

	/* Unsigned compare: one branch for "inside the newest interval". */
	if (!t->open || (uint64_t)sec - (uint64_t)c->start >= t->len)
		c = tally_slow(t, sec);
	if (t->monitor != NULL && pk->dst != NULL && !tally_monitored(t, pk))
		pk->cls = CLASS_UNMONITORED;
	counts_add(c, pk);
}

#endif
