/*
 * Packet counts of one interval: per class, per TCP flag kind, and per key
 * in one fixed array indexed as common/keyidx.h lays the keys out (65,536
 * ports for tcp and udp, 256 types for icmp and icmp6), in output order.
 * The struct is public because counts_add() runs once per packet and must
 * inline.  Owned by the caller; counts_free() accepts NULL.
 *
 * With sketches on (counts_sketches), every touched key also has a sketch
 * of its distinct sources and one of its distinct targets, made when the
 * key is first seen.  Their bytes are held under the sketch budget of
 * sketch.h: past it, every sketch of the interval is folded one precision
 * lower (down to HLL_P_MIN) and counting goes on; counts_note_fold() logs
 * it once the interval closes.  counts_reset() empties them for reuse.
 */
#ifndef TEITEN_COUNTS_H
#define TEITEN_COUNTS_H

#include <stdint.h>

#include "classify.h"
#include "keyidx.h"
#include "proto.h"
#include "record.h"
#include "sketch.h"

struct totals {
	uint64_t classes[CLASS_COUNT];
	uint64_t tcpk[TCPK_COUNT];
	uint64_t late; /* timestamp before the interval: counted here */
	uint64_t drops; /* capture drops while the interval was open */
	/* Stray timestamps set aside while the interval was open (tally.h). */
	uint64_t outliers;
};

/*
 * Sketch adds in flight: each goes through COUNTS_PIPE later adds before
 * it is made, its memory fetched meanwhile (counts.c).
 */
#define COUNTS_PIPE 16
struct counts_add {
	struct hll **slot;
	uint64_t hash;
};

struct counts {
	int64_t start;
	uint32_t len;
	struct totals t;
	uint64_t key[KEYIDX_COUNT];
	/* One bit per key that is non-zero, so closing costs what was seen. */
	uint64_t touched[KEYIDX_COUNT / 64];
	/* Sketches, or sk NULL: none. */
	struct sketch *sk;
	struct hll **src, **dst; /* per key index, NULL until touched */
	unsigned p; /* this interval's precision */
	uint64_t sk_bytes; /* held by its sketches, as the budget counts */
	/* The last key and items added: repeats need no hll_add. */
	uint32_t last_i;
	uint64_t last_src, last_dst;
	struct counts_add pipe[COUNTS_PIPE];
	uint64_t npipe; /* adds ever queued; the last COUNTS_PIPE pending */
	uint64_t ndone; /* of which made */
};
_Static_assert(KEYIDX_COUNT % 64 == 0, "touched[] has a bit for every key");

struct counts *counts_new(void);
void counts_free(struct counts *);
/* Turn sketches on, with the settings and cache of sk (kept by the caller). */
void counts_sketches(struct counts *, struct sketch *sk);
/* Zero every count and start the interval [start, start + len). */
void counts_reset(struct counts *, int64_t start, uint32_t len);
uint64_t counts_seen(const struct totals *);
uint64_t counts_keyed(const struct totals *);
void totals_add(struct totals *, const struct totals *);
int counts_empty(const struct counts *);

/*
 * Fill r (already initialised) with the counts of c.  With sketches from
 * the fleet's key, r is a version-2 record: c's sketches move into it,
 * and its all_src and all_dst are the union of the keys' sketches.
 */
void counts_to_record(struct counts *, struct record *r);
/* Make the sketch adds still in flight; before reading the sketches. */
void counts_flush(struct counts *);
/* Estimated distinct sources and targets of key index i (0 without). */
void counts_distinct(struct counts *, uint32_t i, uint64_t *src, uint64_t *dst);
/* Log the interval's precision if its sketches passed the budget. */
void counts_note_fold(const struct counts *);
/* Out of line: counts_add()'s sketch part. */
void counts_add_sketch(struct counts *, uint32_t i, const struct pkt *);

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
	if (c->sk != NULL && pk->src != NULL)
		counts_add_sketch(c, i, pk);
}

#endif
