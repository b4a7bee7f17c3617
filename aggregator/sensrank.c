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

/* 1 if x's score is better ranked than y's: more, then lower index. */
static int
better(double sx, uint32_t x, double sy, uint32_t y)
{
	return sx != sy ? sx > sy : x < y;
}

/*
 * The group of ids[0..nids) of b taken together, into g; the number of
 * sensors of b it holds.
 */
static size_t
gather(const struct sensbucket *b, const char *const *ids, size_t nids,
    struct sens_sensor *g)
{
	const struct sens_sensor *s;
	size_t i, k, ng = 0;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < nids; i++) {
		/* A sensor listed twice in a group counts once. */
		for (k = 0; k < i; k++)
			if (strcmp(ids[k], ids[i]) == 0)
				break;
		if (k < i || (s = sensbucket_find(b, ids[i])) == NULL)
			continue;
		g->reported += s->reported;
		sens_add_keys(g, s->n, s->idx, s->sum);
		ng++;
	}
	return ng;
}

/*
 * The top max of g's keys by score(mean, fleet mean), leaving out those
 * whose score is not above floor, into out.
 */
static void
rank_by(const struct sens_sensor *g, size_t ng, const struct sensbucket *b,
    const struct window *w, size_t max, int excess, struct sensrank *out)
{
	double top[SENSRANK_MAX], mean, fleet, score;
	size_t i, k;

	memset(out, 0, sizeof(*out));
	out->reported = g->reported;
	if (max > SENSRANK_MAX)
		max = SENSRANK_MAX;
	/* Insertion into the top max: a window's keys are few enough. */
	for (i = 0; i < g->n && g->reported > 0; i++) {
		mean = (double)g->sum[i] / (double)g->reported;
		fleet = excess ? window_mean(w, g->idx[i]) : 0;
		score = mean - fleet;
		if (excess && !(score > 0))
			continue;
		for (k = out->n; k > 0 &&
		     better(score, g->idx[i], top[k - 1], out->idx[k - 1]);
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
		out->idx[k] = g->idx[i];
		top[k] = score;
	}
	for (k = 0; k < out->n; k++) {
		out->mean[k] =
		    (double)sens_sum(g, out->idx[k]) / (double)g->reported;
		out->fleet[k] = window_mean(w, out->idx[k]);
		out->ratio[k] =
		    out->fleet[k] > 0 ? out->mean[k] / out->fleet[k] : NAN;
		out->only[k] = ng == 1 && key_sensors(b, out->idx[k]) == 1;
	}
}

void
sensrank(const struct sensbucket *b, const char *const *ids, size_t nids,
    const struct window *w, size_t max, struct sensrank *out)
{
	struct sens_sensor g;
	size_t ng = gather(b, ids, nids, &g);

	rank_by(&g, ng, b, w, max, 0, out);
	free(g.idx);
	free(g.sum);
}

void
sensrank_excess(const struct sensbucket *b, const char *id,
    const struct window *w, size_t max, struct sensrank *out)
{
	const char *ids[1] = {id};
	struct sens_sensor g;
	size_t ng = gather(b, ids, 1, &g);

	rank_by(&g, ng, b, w, max, 1, out);
	free(g.idx);
	free(g.sum);
}
