/* Key-to-sum hash table; see sumtab.h. */
#include <stdlib.h>
#include <string.h>

#include "sumtab.h"
#include "xmalloc.h"

void
sumtab_init(struct sumtab *t)
{
	memset(t, 0, sizeof(*t));
}

void
sumtab_free(struct sumtab *t)
{
	free(t->keys);
	free(t->sums);
	sumtab_init(t);
}

static size_t
sumtab_slot(const struct sumtab *t, uint32_t idx)
{
	/* Fibonacci hashing spreads the dense low key indices. */
	size_t i = (size_t)((idx * 2654435761u) & (t->cap - 1));

	while (t->keys[i] != 0 && t->keys[i] != idx + 1)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static void
sumtab_grow(struct sumtab *t)
{
	struct sumtab old = *t;
	size_t i, j;

	t->cap = old.cap ? old.cap * 2 : 1024;
	t->keys = xcalloc(t->cap, sizeof(*t->keys));
	t->sums = xcalloc(t->cap, sizeof(*t->sums));
	for (i = 0; i < old.cap; i++) {
		if (old.keys[i] == 0)
			continue;
		j = sumtab_slot(t, old.keys[i] - 1);
		t->keys[j] = old.keys[i];
		t->sums[j] = old.sums[i];
	}
	free(old.keys);
	free(old.sums);
}

int
sumtab_add(struct sumtab *t, uint32_t idx, uint64_t n)
{
	size_t i;

	if ((t->n + 1) * 10 > t->cap * 7)
		sumtab_grow(t);
	i = sumtab_slot(t, idx);
	if (t->keys[i] == 0) {
		t->keys[i] = idx + 1;
		t->n++;
	}
	/*
	 * Two sensors reporting 2^63 packets would wrap to 0: an average
	 * of 0 for the busiest key.  Saturated, the average is at worst low.
	 */
	if (n > UINT64_MAX - t->sums[i]) {
		t->sums[i] = UINT64_MAX;
		t->saturated++;
		return 1;
	}
	t->sums[i] += n;
	return 0;
}

size_t
sumtab_saturated(const struct sumtab *t)
{
	return t->saturated;
}

uint64_t
sumtab_get(const struct sumtab *t, uint32_t idx)
{
	size_t i;

	if (t->cap == 0)
		return 0;
	i = sumtab_slot(t, idx);
	return t->keys[i] == 0 ? 0 : t->sums[i];
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t *
sumtab_sorted(const struct sumtab *t, size_t *n)
{
	uint32_t *v;
	size_t i, k = 0;

	*n = t->n;
	v = xcalloc(t->n ? t->n : 1, sizeof(*v));
	for (i = 0; i < t->cap; i++)
		if (t->keys[i] != 0)
			v[k++] = t->keys[i] - 1;
	qsort(v, k, sizeof(*v), cmp_u32);
	return v;
}
