/* Sensor and group rankings over a window; see sensrank.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sensrank.h"
#include "xmalloc.h"

/* How many sensors of b counted key idx in the window. */
static size_t
key_sensors(const struct sensbucket *b, uint32_t idx)
{
	size_t i, n = 0;

	for (i = 0; i < b->n; i++)
		n += sens_sum(&b->s[i], idx) > 0;
	return n;
}

/* 1 if x's sum is better ranked than y's: more, then lower index. */
static int
better(uint64_t sx, uint32_t x, uint64_t sy, uint32_t y)
{
	return sx != sy ? sx > sy : x < y;
}

void
sensrank(const struct sensbucket *b, const char *const *ids, size_t nids,
    const struct window *w, size_t max, struct sensrank *out)
{
	struct sens_sensor g;
	const struct sens_sensor *s;
	uint64_t top[SENSRANK_MAX];
	size_t i, k, ng = 0;

	memset(out, 0, sizeof(*out));
	memset(&g, 0, sizeof(g));
	if (max > SENSRANK_MAX)
		max = SENSRANK_MAX;
	for (i = 0; i < nids; i++) {
		/* A sensor listed twice in a group counts once. */
		for (k = 0; k < i; k++)
			if (strcmp(ids[k], ids[i]) == 0)
				break;
		if (k < i || (s = sensbucket_find(b, ids[i])) == NULL)
			continue;
		g.reported += s->reported;
		sens_add_keys(&g, s->n, s->idx, s->sum);
		ng++;
	}
	out->reported = g.reported;
	/* Insertion into the top max: a window's keys are few enough. */
	for (i = 0; i < g.n; i++) {
		for (k = out->n; k > 0 &&
		     better(g.sum[i], g.idx[i], top[k - 1], out->idx[k - 1]);
		     k--)
			;
		if (k >= max)
			continue;
		if (out->n < max)
			out->n++;
		memmove(&out->idx[k + 1], &out->idx[k],
		    (out->n - k - 1) * sizeof(out->idx[0]));
		memmove(&top[k + 1], &top[k],
		    (out->n - k - 1) * sizeof(top[0]));
		out->idx[k] = g.idx[i];
		top[k] = g.sum[i];
	}
	for (k = 0; k < out->n; k++) {
		out->mean[k] = (double)top[k] / (double)g.reported;
		out->fleet[k] = window_mean(w, out->idx[k]);
		out->ratio[k] =
		    out->fleet[k] > 0 ? out->mean[k] / out->fleet[k] : NAN;
		out->only[k] =
		    ng == 1 && nids >= 1 && key_sensors(b, out->idx[k]) == 1;
	}
	free(g.idx);
	free(g.sum);
}
