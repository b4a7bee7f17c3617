/*
 * The rankings the site shows: each window and the previous one of the
 * same length (through the cache in DIR/.cache, wincache.h), the keys
 * listed in some table, and how a key moved between the two windows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site_int.h"
#include "wincache.h"
#include "xmalloc.h"

size_t
top_n(const struct window *w)
{
	return w->n < SITE_TOP ? w->n : SITE_TOP;
}

/*
 * Against the previous window of the same length: places gained or lost,
 * "new" when the key was not in that window's top SITE_TOP, and no
 * change at all when that window has no reported interval (nothing to
 * compare with, rather than every key being new).
 */
void
rank_change(const struct window *prev, uint32_t idx, size_t rank,
    struct change *c)
{
	size_t r = window_rank(prev, idx);

	memset(c, 0, sizeof(*c));
	if (prev->nintervals == 0)
		c->move = MOVE_NONE;
	else if (r == 0 || r > SITE_TOP)
		c->move = MOVE_NEW;
	else {
		c->move = MOVE_RANK;
		c->prev_rank = r;
		c->delta = (long)r - (long)rank;
	}
}

static int
idx_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Every key listed in some window's table, once. */
static void
collect_keys(struct site *st)
{
	size_t i, n = 0;
	int k;

	st->keys = xcalloc(SPAN_COUNT * SITE_TOP + st->opts->nwatch,
	    sizeof(*st->keys));
	for (k = 0; k < SPAN_COUNT; k++)
		for (i = 0; i < top_n(&st->win[k]); i++)
			st->keys[n++] = st->win[k].idx[i];
	for (i = 0; i < st->opts->nwatch; i++)
		st->keys[n++] = st->opts->watch[i];
	if (n > 0)
		qsort(st->keys, n, sizeof(*st->keys), idx_cmp);
	for (i = 0; i < n; i++)
		if (st->nkeys == 0 || st->keys[st->nkeys - 1] != st->keys[i])
			st->keys[st->nkeys++] = st->keys[i];
}

int
site_window(struct site *st, int64_t start, int64_t end, struct window *w)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/" CACHE_DIR, st->outdir);
	if (wincache_window(st->datadir, dir, st->generation, st->last_final,
		start, end, w, st->err, st->errlen) == -1)
		return -1;
	/* The tables' keys only: a busy year's sketches are gigabytes. */
	if (window_sketches(st->datadir, w, SITE_TOP, st->err, st->errlen) ==
	    -1) {
		window_free(w);
		return -1;
	}
	return 0;
}

int
load_windows(struct site *st)
{
	int k;

	for (k = 0; k < SPAN_COUNT; k++) {
		span_make(k, st->end, &st->span[k]);
		span_previous(&st->span[k], &st->prev[k]);
		if (site_window(st, st->span[k].start, st->span[k].end,
			&st->win[k]) == -1 ||
		    site_window(st, st->prev[k].start, st->prev[k].end,
			&st->pwin[k]) == -1)
			return -1;
	}
	collect_keys(st);
	return 0;
}
