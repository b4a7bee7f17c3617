/* Key-to-sketches hash table; see sketchtab.h. */
#include <stdlib.h>
#include <string.h>

#include "sketchtab.h"
#include "xmalloc.h"

/*
 * What a struct hll itself takes beside hll_bytes(): opaque here, so a
 * generous guess (a pointer, counts and the precision).
 */
#define HLL_STRUCT_BYTES 64

void
sketchtab_init(struct sketchtab *t)
{
	memset(t, 0, sizeof(*t));
}

void
sketchtab_free(struct sketchtab *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++) {
		hll_free(t->v[i].src);
		hll_free(t->v[i].dst);
	}
	free(t->v);
	sketchtab_init(t);
}

static size_t
sketchtab_slot(const struct sketchtab *t, uint32_t idx)
{
	/* Fibonacci hashing spreads the dense low key indices. */
	size_t i = (size_t)((idx * 2654435761u) & (t->cap - 1));

	while (t->v[i].key != 0 && t->v[i].key != idx + 1)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static void
sketchtab_grow(struct sketchtab *t)
{
	struct sketchtab old = *t;
	size_t i;

	t->cap = old.cap ? old.cap * 2 : 256;
	t->v = xcalloc(t->cap, sizeof(*t->v));
	for (i = 0; i < old.cap; i++)
		if (old.v[i].key != 0)
			t->v[sketchtab_slot(t, old.v[i].key - 1)] = old.v[i];
	free(old.v);
}

void
sketch_union(struct hll **dst, const struct hll *src, size_t *acct)
{
	size_t before;

	if (src == NULL)
		return;
	if (*dst == NULL) {
		/* A new sketch at src's precision: the union is src's copy. */
		*dst = hll_new(hll_precision(src));
		*acct += HLL_STRUCT_BYTES;
	}
	before = hll_bytes(*dst);
	hll_merge(*dst, src);
	*acct = *acct - before + hll_bytes(*dst);
}

void
sketchtab_merge(struct sketchtab *t, uint32_t idx, const struct hll *src,
    const struct hll *dst)
{
	struct sketchtab_entry *e;

	if (src == NULL && dst == NULL)
		return;
	if ((t->n + 1) * 10 > t->cap * 7)
		sketchtab_grow(t);
	e = &t->v[sketchtab_slot(t, idx)];
	if (e->key == 0) {
		e->key = idx + 1;
		t->n++;
	}
	sketch_union(&e->src, src, &t->bytes);
	sketch_union(&e->dst, dst, &t->bytes);
}

const struct sketchtab_entry *
sketchtab_get(const struct sketchtab *t, uint32_t idx)
{
	const struct sketchtab_entry *e;

	if (t->cap == 0)
		return NULL;
	e = &t->v[sketchtab_slot(t, idx)];
	return e->key == 0 ? NULL : e;
}

void
sketchtab_take(struct sketchtab *t, uint32_t idx, struct hll **src,
    struct hll **dst)
{
	struct sketchtab_entry *e;
	size_t held;

	*src = *dst = NULL;
	if (t->cap == 0 || (e = &t->v[sketchtab_slot(t, idx)])->key == 0)
		return;
	*src = e->src;
	*dst = e->dst;
	held = (e->src ? hll_bytes(e->src) + HLL_STRUCT_BYTES : 0) +
	    (e->dst ? hll_bytes(e->dst) + HLL_STRUCT_BYTES : 0);
	t->bytes = held < t->bytes ? t->bytes - held : 0;
	e->src = e->dst = NULL;
}

size_t
sketchtab_bytes(const struct sketchtab *t)
{
	return t->cap * sizeof(*t->v) + t->bytes;
}
