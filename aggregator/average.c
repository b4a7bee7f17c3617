/* An interval's sums and what its averages are; see average.h. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "human.h"
#include "average.h"
#include "keyidx.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

void
average_init(struct average *a)
{
	memset(a, 0, sizeof(*a));
	sumtab_init(&a->sums);
	sketchtab_init(&a->sk);
}

void
average_free(struct average *a)
{
	size_t i;

	sumtab_free(&a->sums);
	sketchtab_free(&a->sk);
	hll_free(a->all_src);
	hll_free(a->all_dst);
	for (i = 0; i < a->nhealth; i++) {
		free(a->sens[i].idx);
		free(a->sens[i].packets);
	}
	free(a->sens);
	free(a->health);
}

size_t
average_bytes(const struct average *a)
{
	return a->sums.cap * (sizeof(*a->sums.keys) + sizeof(*a->sums.sums)) +
	    sketchtab_bytes(&a->sk) + a->all_bytes +
	    a->hcap * (sizeof(*a->health) + sizeof(*a->sens)) + a->sens_bytes;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The record's own counts by key index, for the per-sensor sums: packed
 * as index << 32 | position to sort, then a key seen twice is summed.
 */
static void
sensor_keys(struct rrd_sensor_keys *k, const struct record *r)
{
	const struct record_entry *e;
	uint64_t *o = xcalloc(r->nentries ? r->nentries : 1, sizeof(*o));
	uint32_t idx;
	size_t i, n = 0;

	snprintf(k->id, sizeof(k->id), "%s", r->sensor);
	for (i = 0; i < r->nentries; i++)
		if (r->entries[i].packets > 0)
			o[n++] = (uint64_t)keyidx(r->entries[i].proto,
				     r->entries[i].key)
				<< 32 |
			    i;
	qsort(o, n, sizeof(*o), u64_cmp);
	k->idx = xcalloc(n ? n : 1, sizeof(*k->idx));
	k->packets = xcalloc(n ? n : 1, sizeof(*k->packets));
	k->n = 0;
	for (i = 0; i < n; i++) {
		e = &r->entries[o[i] & 0xffffffff];
		idx = (uint32_t)(o[i] >> 32);
		if (k->n > 0 && k->idx[k->n - 1] == idx) {
			k->packets[k->n - 1] =
			    k->packets[k->n - 1] > UINT64_MAX - e->packets
			    ? UINT64_MAX
			    : k->packets[k->n - 1] + e->packets;
			continue;
		}
		k->idx[k->n] = idx;
		k->packets[k->n++] = e->packets;
	}
	free(o);
}

/*
 * The union of the sensors' sketches, key by key: the fleet's distinct
 * sources of a key are those any sensor saw, never a sum of theirs.
 */
static void
average_sketches(struct average *a, const struct record *r)
{
	const struct record_entry *e;
	size_t i;

	a->sketched++;
	for (i = 0; i < r->nentries; i++) {
		e = &r->entries[i];
		sketchtab_merge(&a->sk, keyidx(e->proto, e->key), e->src,
		    e->dst);
	}
	sketch_union(&a->all_src, r->all_src, &a->all_bytes);
	sketch_union(&a->all_dst, r->all_dst, &a->all_bytes);
}

void
average_add(struct average *a, const struct record *r, int sketches)
{
	struct rrd_health *h;
	char ts[ISO8601_LEN];
	uint64_t seen = 0;
	size_t i;
	int t;

	a->n++;
	if (sketches && r->sketch_p != 0)
		average_sketches(a, r);
	for (i = 0; i < r->nentries; i++)
		if (sumtab_add(&a->sums,
			keyidx(r->entries[i].proto, r->entries[i].key),
			r->entries[i].packets) == 1)
			log_warnx("interval %s: sum of %s/%u across "
				  "sensors saturated at 2^64 - 1 with sensor "
				  "%s's record",
			    iso8601(r->start, ts),
			    proto_name((enum proto)r->entries[i].proto),
			    r->entries[i].key, r->sensor);
	if (a->nhealth == a->hcap) {
		a->hcap = a->hcap ? a->hcap * 2 : 8;
		a->health =
		    xreallocarray(a->health, a->hcap, sizeof(*a->health));
		a->sens = xreallocarray(a->sens, a->hcap, sizeof(*a->sens));
	}
	sensor_keys(&a->sens[a->nhealth], r);
	a->sens_bytes += a->sens[a->nhealth].n *
	    (sizeof(*a->sens->idx) + sizeof(*a->sens->packets));
	h = &a->health[a->nhealth++];
	snprintf(h->id, sizeof(h->id), "%s", r->sensor);
	for (t = RT_TCP; t <= RT_UNMONITORED; t++)
		seen += r->totals[t];
	h->packets = seen;
	h->drops = r->totals[RT_CAPTURE_DROPS] + r->totals[RT_SPOOL_DROPS];
}

/*
 * A distinct count is whole: the estimate rounded, so that a small set,
 * which the sparse sketch counts exactly, reads exactly.
 */
static double
distinct(const struct hll *h)
{
	return h != NULL ? round(hll_estimate(h)) : NAN;
}

/*
 * Unknown when no sensor sent sketches; a key whose packets came from
 * sensors without sketches alone is unknown too (its sources are not 0).
 */
static void
average_distinct(const struct average *a, struct rrd_job *j)
{
	const struct sketchtab_entry *e;
	size_t i;

	j->nsketched = a->sketched;
	j->all_sources = a->sketched > 0 ? distinct(a->all_src) : NAN;
	if (a->sketched > 0 && isnan(j->all_sources))
		j->all_sources = 0;
	j->sources = xcalloc(j->nvalues ? j->nvalues : 1, sizeof(double));
	j->targets = xcalloc(j->nvalues ? j->nvalues : 1, sizeof(double));
	for (i = 0; i < j->nvalues; i++) {
		e = a->sketched > 0 ? sketchtab_get(&a->sk, j->idx[i]) : NULL;
		j->sources[i] = e != NULL ? distinct(e->src) : NAN;
		j->targets[i] = e != NULL ? distinct(e->dst) : NAN;
	}
}

/*
 * The sketches move into the job, for the summary's unions (hllbucket.h):
 * the average is freed next, and a copy of every dense sketch would
 * double what the interval holds at its end.
 */
static void
average_move_sketches(struct average *a, struct rrd_job *j)
{
	size_t i;

	if (a->sketched == 0)
		return;
	j->src = xcalloc(j->nvalues ? j->nvalues : 1, sizeof(*j->src));
	j->dst = xcalloc(j->nvalues ? j->nvalues : 1, sizeof(*j->dst));
	for (i = 0; i < j->nvalues; i++)
		sketchtab_take(&a->sk, j->idx[i], &j->src[i], &j->dst[i]);
	j->all_src = a->all_src;
	j->all_dst = a->all_dst;
	a->all_src = a->all_dst = NULL;
	a->all_bytes = 0;
}

static int
sens_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rrd_sensor_keys *)a)->id,
	    ((const struct rrd_sensor_keys *)b)->id);
}

struct rrd_job *
average_job(struct average *a, int64_t start, uint32_t len)
{
	struct rrd_job *j = xcalloc(1, sizeof(*j));
	size_t i;

	j->start = start;
	j->len = len;
	j->nsensors = a->n;
	j->idx = sumtab_sorted(&a->sums, &j->nvalues);
	j->avg = xcalloc(j->nvalues ? j->nvalues : 1, sizeof(*j->avg));
	/* Divided by the reporting sensors, not by those known. */
	for (i = 0; i < j->nvalues; i++)
		j->avg[i] =
		    (double)sumtab_get(&a->sums, j->idx[i]) / (double)a->n;
	average_distinct(a, j);
	average_move_sketches(a, j);
	j->nhealth = a->nhealth;
	j->health = xcalloc(a->nhealth ? a->nhealth : 1, sizeof(*j->health));
	if (a->nhealth > 0)
		memcpy(j->health, a->health, a->nhealth * sizeof(*j->health));
	/* Moved, not copied: the average is freed next. */
	j->nsens = a->nhealth;
	j->sens = a->sens;
	a->sens = NULL;
	free(a->health);
	a->health = NULL;
	a->nhealth = a->hcap = 0;
	a->sens_bytes = 0;
	if (j->nsens > 1)
		qsort(j->sens, j->nsens, sizeof(*j->sens), sens_cmp);
	return j;
}
