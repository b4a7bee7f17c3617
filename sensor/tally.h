/*
 * Assigns packets to intervals by their own timestamps (doc/CONTRACTS.md
 * contract 2) and hands each closed interval, empty ones included, to an emit
 * callback in time order, unless time went back (below).  When packets move on
 * to the next interval the previous one stays open for stragglers (captures
 * merged from several interfaces are slightly out of order) until packets move
 * on again or tally_advance() closes it.  A packet older than that, or with an
 * impossible timestamp, is counted in the oldest open interval and marked
 * late, never dropped.  The tally owns its counts; the emit callback may read
 * and annotate them but not keep the pointer.
 *
 * With a maximum gap set, a timestamp more than that gap beyond the open
 * intervals (ahead or behind) is a suspect: the tally holds that one
 * packet, and the next timestamp decides.  If it lies within the gap of
 * the suspect, the jump was real (a capture with a gap, a clock that was
 * set) and the suspect is counted as any packet would be (behind, the open
 * intervals close and counting starts again there); otherwise the
 * suspect was a stray timestamp, an outlier, counted only in the open
 * interval's outlier total: it opens no interval and reports no gap.  So
 * one packet stamped years ahead costs nothing.  With nothing after it, a
 * suspect is an outlier.
 *
 * The first packets, before any interval is open, have nothing to be
 * measured against, so the first interval waits for a packet that the
 * next one, or the one after it, confirms (lies within the gap of): the
 * packets before it are outliers, counted in the first interval.  The
 * tally holds up to two of them: the first, and if the next lies beyond
 * the gap, that one too.  A third packet near the first opens it, and the
 * second goes on as a suspect that this third one decides; near the
 * second only, the first was an outlier and the second opens; near
 * neither, the first was an outlier and the third is held in its place.
 * With nothing after them the oldest held packet opens (a capture of one
 * packet is counted), and the other is a suspect with nothing after it.
 * So a capture whose first packet is stamped years off counts as without
 * it, and a real jump that two packets confirm is followed; a single
 * first packet before a real jump looks the same as a stray one and is
 * an outlier too.  Live, the
 * intervals open on the clock before any packet (tally_begin), so a first
 * packet is a suspect as any other and the clock decides it on the next
 * tick; a clock reading decides held first packets too (the first within
 * the gap of it opens, those before it are outliers).  At most two
 * packets are ever held, both before the first interval opens, one after.
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
	/*
	 * len while packets inside cur can be counted at once; 0 (so that
	 * every packet takes the slow path) while nothing is open or a
	 * suspect is held.
	 */
	uint32_t fast_len;
	int open;
	int prev_open;
	int64_t max_gap; /* 0: no outlier rule */
	int suspect; /* held is a packet at held_sec, not yet counted */
	int64_t held_sec;
	struct pkt held;
	uint8_t held_addr[2][16]; /* held's addresses: the frame is gone */
	/* Nothing open yet: up to two first packets wait (see above). */
	int nfirst;
	int64_t first_sec[2];
	struct pkt first[2];
	uint8_t first_addr[2][2][16];
	uint64_t first_outliers; /* counted when the first interval opens */
	const struct prefixes *monitor; /* NULL: every address */
	tally_emit_fn emit;
	tally_gap_fn gap;
	void *arg;
};

void tally_init(struct tally *, uint32_t len, const struct prefixes *,
    tally_emit_fn, tally_gap_fn, void *);
void tally_free(struct tally *);
/* Seconds beyond the open intervals that make a timestamp a suspect. */
void tally_set_max_gap(struct tally *, int64_t gap);
/*
 * Open the interval containing sec if none is open yet, after the clock
 * reading sec decided any first packets held.
 */
void tally_begin(struct tally *, int64_t sec);
/* Close every interval that ends at or before sec; open the one after. */
void tally_advance(struct tally *, int64_t sec);
/*
 * Close the open intervals, if any; a suspect still held is an outlier,
 * and of first packets still held the oldest opens.
 */
void tally_finish(struct tally *);
/*
 * The live clock reads now: decide a held suspect by it, and if the open
 * interval starts after now + slack (the clock was set back, or a
 * timestamp ahead went unnoticed) close the open intervals and open the
 * one holding now, returning 1; else close what ended by now - slack and
 * return 0.
 */
int tally_tick(struct tally *, int64_t now, int64_t slack);
/* Start of the oldest open interval (only while one is open). */
int64_t tally_oldest(const struct tally *);
/* NULL when the packet is held as a suspect or was an outlier. */
struct counts *tally_slow(struct tally *, int64_t sec, const struct pkt *);
int tally_monitored(const struct tally *, const struct pkt *);

static inline void
tally_packet(struct tally *t, int64_t sec, struct pkt *pk)
{
	struct counts *c = t->cur;

	if (t->monitor != NULL && pk->dst != NULL && !tally_monitored(t, pk))
		pk->cls = CLASS_UNMONITORED;
	/* Unsigned compare: one branch for "inside the newest interval". */
	if ((uint64_t)sec - (uint64_t)c->start >= t->fast_len &&
	    (c = tally_slow(t, sec, pk)) == NULL)
		return;
	counts_add(c, pk);
}

#endif
