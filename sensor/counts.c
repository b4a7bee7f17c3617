/* Per-interval counters; see counts.h. */
#include <stdlib.h>
#include <string.h>

#include "counts.h"
#include "xmalloc.h"

struct counts *
counts_new(void)
{
	return xcalloc(1, sizeof(struct counts));
}

void
counts_free(struct counts *c)
{
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

static void
counts_add_entry(enum proto p, unsigned key, uint64_t n, void *arg)
{
	record_add(arg, p, (uint16_t)key, n);
}

void
counts_to_record(const struct counts *c, struct record *r)
{
	int i;

	r->start = c->start;
	r->len = c->len;
	for (i = 0; i < CLASS_COUNT; i++)
		r->totals[RT_TCP + i] = c->t.classes[i];
	for (i = 0; i < TCPK_COUNT; i++)
		r->totals[RT_TCP_SYN + i] = c->t.tcpk[i];
	r->totals[RT_LATE] = c->t.late;
	r->totals[RT_CAPTURE_DROPS] = c->t.drops;
	counts_foreach(c, counts_add_entry, r);
}
