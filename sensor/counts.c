/* Per-interval counters; see counts.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "counts.h"
#include "human.h"
#include "log.h"
#include "xmalloc.h"

/*
 * What a sketch costs beside hll_bytes(): its struct and malloc's header,
 * roughly, so that the budget also holds when every sketch is tiny.
 */
#define COUNTS_HLL_OVERHEAD 64
/* An emptied sketch holding more than this is freed, not kept. */
#define COUNTS_KEEP_MAX 64
#define COUNTS_NO_KEY UINT32_MAX

struct counts *
counts_new(void)
{
	return xcalloc(1, sizeof(struct counts));
}

void
counts_sketches(struct counts *c, struct sketch *sk)
{
	c->sk = sk;
	c->src = xcalloc(KEYIDX_COUNT, sizeof(*c->src));
	c->dst = xcalloc(KEYIDX_COUNT, sizeof(*c->dst));
	c->p = sk->p;
	c->last_i = COUNTS_NO_KEY;
}

static uint64_t
counts_hll_cost(const struct hll *h)
{
	return h != NULL ? hll_bytes(h) + COUNTS_HLL_OVERHEAD : 0;
}

/*
 * Empty every sketch for the next interval, at the configured precision.
 * One that grew large is freed rather than kept for a key that may not
 * come again.
 */
static void
counts_sketch_reset(struct counts *c)
{
	struct hll **v;
	uint32_t i;
	int r;

	c->sk_bytes = 0;
	c->p = c->sk->p;
	c->last_i = COUNTS_NO_KEY;
	/* Adds still in flight were the closed interval's. */
	c->ndone = c->npipe;
	for (r = 0; r < 2; r++) {
		v = r == 0 ? c->src : c->dst;
		for (i = 0; i < KEYIDX_COUNT; i++) {
			if (v[i] == NULL)
				continue;
			/* Dense, or a sparse table that stays when emptied. */
			if (hll_is_dense(v[i]) ||
			    hll_bytes(v[i]) > COUNTS_KEEP_MAX) {
				hll_free(v[i]);
				v[i] = NULL;
				continue;
			}
			hll_reset(v[i], c->p);
			c->sk_bytes += counts_hll_cost(v[i]);
		}
	}
}

static void
counts_sketch_free(struct counts *c)
{
	uint32_t i;

	for (i = 0; i < KEYIDX_COUNT; i++) {
		hll_free(c->src[i]);
		hll_free(c->dst[i]);
	}
	free(c->src);
	free(c->dst);
}

void
counts_free(struct counts *c)
{
	if (c == NULL)
		return;
	if (c->sk != NULL)
		counts_sketch_free(c);
	free(c);
}

void
counts_reset(struct counts *c, int64_t start, uint32_t len)
{
	size_t w;
	uint64_t bits;

	for (w = 0; counts_keyed(&c->t) != 0 && w < KEYIDX_COUNT / 64; w++) {
		for (bits = c->touched[w]; bits != 0; bits &= bits - 1)
			c->key[w * 64 + (unsigned)__builtin_ctzll(bits)] = 0;
		c->touched[w] = 0;
	}
	memset(&c->t, 0, sizeof(c->t));
	c->start = start;
	c->len = len;
	if (c->sk != NULL)
		counts_sketch_reset(c);
}

uint64_t
counts_seen(const struct totals *t)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < CLASS_COUNT; i++)
		n += t->classes[i];
	return n;
}

uint64_t
counts_keyed(const struct totals *t)
{
	return t->classes[CLASS_TCP] + t->classes[CLASS_UDP] +
	    t->classes[CLASS_ICMP] + t->classes[CLASS_ICMP6];
}

void
totals_add(struct totals *sum, const struct totals *t)
{
	int i;

	for (i = 0; i < CLASS_COUNT; i++)
		sum->classes[i] += t->classes[i];
	for (i = 0; i < TCPK_COUNT; i++)
		sum->tcpk[i] += t->tcpk[i];
	sum->late += t->late;
	sum->drops += t->drops;
	sum->outliers += t->outliers;
}

int
counts_empty(const struct counts *c)
{
	return counts_seen(&c->t) == 0 && c->t.drops == 0;
}

void
counts_foreach(const struct counts *c,
    void (*fn)(enum proto, unsigned, uint64_t, void *), void *arg)
{
	size_t w;
	uint64_t bits;
	uint32_t i;

	for (w = 0; w < KEYIDX_COUNT / 64; w++) {
		for (bits = c->touched[w]; bits != 0; bits &= bits - 1) {
			i = (uint32_t)(w * 64 +
			    (unsigned)__builtin_ctzll(bits));
			fn(keyidx_proto(i), keyidx_key(i), c->key[i], arg);
		}
	}
}

/*
 * Past the budget: fold every sketch of the interval one precision lower
 * until they fit or the precision is HLL_P_MIN.  There a sketch holds at
 * most 2 sparse words in a table of 16 (an emptied one keeps no more, see
 * counts_sketch_reset) or 16 registers: 128 bytes as counted here, 33 MiB
 * for every key (the floor teiten-sensor(8) states).
 */
static void
counts_fold(struct counts *c)
{
	uint32_t i;

	while (c->sk_bytes > c->sk->budget && c->p > HLL_P_MIN) {
		c->p--;
		c->sk_bytes = 0;
		for (i = 0; i < KEYIDX_COUNT; i++) {
			if (c->src[i] != NULL)
				hll_fold(c->src[i], c->p);
			if (c->dst[i] != NULL)
				hll_fold(c->dst[i], c->p);
			c->sk_bytes += counts_hll_cost(c->src[i]) +
			    counts_hll_cost(c->dst[i]);
		}
	}
}

void
counts_note_fold(const struct counts *c)
{
	char t[ISO8601_LEN];

	if (c->sk == NULL || c->p == c->sk->p)
		return;
	log_info("interval %s: its sketches passed %llu bytes; precision "
		 "lowered from %u to %u",
	    iso8601(c->start, t), (unsigned long long)c->sk->budget, c->sk->p,
	    c->p);
}

/* Add h to the sketch in *slot, made at the interval's precision if new. */
static void
counts_sketch_one(struct counts *c, struct hll **slot, uint64_t h)
{
	uint64_t before;

	if (*slot == NULL) {
		*slot = hll_new(c->p);
		c->sk_bytes += counts_hll_cost(*slot);
	}
	before = hll_bytes(*slot);
	hll_add(*slot, h);
	c->sk_bytes += hll_bytes(*slot) - before;
	if (c->sk_bytes > c->sk->budget)
		counts_fold(c);
}

/*
 * An add reaches its sketch through three dependent loads (the key's
 * pointer, the sketch, the word or register), and with many keys each is
 * a cache miss: 100 ns or more per packet, three times the rest of the
 * counting.  So adds wait in a pipe of COUNTS_PIPE: the pointer is
 * prefetched as an add enters, the sketch a third of the way through,
 * the word two thirds, and the add is made as it leaves, its memory in
 * cache by then.  Pending adds hold the slot, not the sketch, which may
 * not exist yet.
 */
static void
counts_queue(struct counts *c, struct hll **slot, uint64_t h)
{
	const struct counts_add *a;
	uint64_t k = c->npipe;

	if (k - c->ndone == COUNTS_PIPE) {
		a = &c->pipe[c->ndone++ % COUNTS_PIPE];
		counts_sketch_one(c, a->slot, a->hash);
	}
	c->pipe[k % COUNTS_PIPE].slot = slot;
	c->pipe[k % COUNTS_PIPE].hash = h;
	c->npipe = k + 1;
	__builtin_prefetch(slot);
	if (k >= c->ndone + COUNTS_PIPE / 3) {
		a = &c->pipe[(k - COUNTS_PIPE / 3) % COUNTS_PIPE];
		if (*a->slot != NULL)
			__builtin_prefetch(*a->slot);
	}
	if (k >= c->ndone + 2 * COUNTS_PIPE / 3) {
		a = &c->pipe[(k - 2 * COUNTS_PIPE / 3) % COUNTS_PIPE];
		if (*a->slot != NULL)
			hll_prefetch(*a->slot, a->hash);
	}
}

void
counts_flush(struct counts *c)
{
	const struct counts_add *a;

	while (c->ndone < c->npipe) {
		a = &c->pipe[c->ndone++ % COUNTS_PIPE];
		counts_sketch_one(c, a->slot, a->hash);
	}
}

void
counts_add_sketch(struct counts *c, uint32_t i, const struct pkt *pk)
{
	uint64_t hs, hd;

	hs = sketch_hash(c->sk, &c->sk->src, pk->src, pk->family);
	hd = sketch_hash(c->sk, &c->sk->dst, pk->dst, pk->family);
	if (i == c->last_i && hs == c->last_src && hd == c->last_dst)
		return;
	if (i != c->last_i || hs != c->last_src)
		counts_queue(c, &c->src[i], hs);
	if (i != c->last_i || hd != c->last_dst)
		counts_queue(c, &c->dst[i], hd);
	c->last_i = i;
	c->last_src = hs;
	c->last_dst = hd;
}

void
counts_distinct(struct counts *c, uint32_t i, uint64_t *src, uint64_t *dst)
{
	*src = *dst = 0;
	if (c->sk == NULL)
		return;
	counts_flush(c);
	if (c->src[i] != NULL)
		*src = (uint64_t)llround(hll_estimate(c->src[i]));
	if (c->dst[i] != NULL)
		*dst = (uint64_t)llround(hll_estimate(c->dst[i]));
}

struct counts_fill {
	struct counts *c;
	struct record *r;
};

static void
counts_add_entry(enum proto p, unsigned key, uint64_t n, void *arg)
{
	struct counts_fill *f = arg;
	struct record_entry *e = record_add(f->r, p, (uint16_t)key, n);
	struct counts *c = f->c;
	uint32_t i = keyidx(p, (uint16_t)key);

	if (f->r->sketch_p == 0)
		return;
	/* A key counted without addresses (never from classify) has none. */
	e->src = c->src[i] != NULL ? c->src[i] : hll_new(c->p);
	e->dst = c->dst[i] != NULL ? c->dst[i] : hll_new(c->p);
	c->src[i] = c->dst[i] = NULL;
	hll_merge(f->r->all_src, e->src);
	hll_merge(f->r->all_dst, e->dst);
}

void
counts_to_record(struct counts *c, struct record *r)
{
	struct counts_fill f = {c, r};
	int i;

	r->start = c->start;
	r->len = c->len;
	for (i = 0; i < CLASS_COUNT; i++)
		r->totals[RT_TCP + i] = c->t.classes[i];
	for (i = 0; i < TCPK_COUNT; i++)
		r->totals[RT_TCP_SYN + i] = c->t.tcpk[i];
	r->totals[RT_LATE] = c->t.late;
	r->totals[RT_CAPTURE_DROPS] = c->t.drops;
	if (c->sk != NULL)
		counts_flush(c);
	if (c->sk != NULL && c->sk->send) {
		r->sketch_p = c->p;
		memcpy(r->sketch_keyid, c->sk->key.id, RECORD_KEYID);
		r->all_src = hll_new(c->p);
		r->all_dst = hll_new(c->p);
		/* A repeat must not skip the sketches that move out. */
		c->last_i = COUNTS_NO_KEY;
	}
	counts_foreach(c, counts_add_entry, &f);
}
