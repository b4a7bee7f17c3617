/* An interval's sums and what its averages are; see average.h. */
#include <inttypes.h>
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
}

void
average_free(struct average *a)
{
	sumtab_free(&a->sums);
	free(a->health);
}

size_t
average_bytes(const struct average *a)
{
	return a->sums.cap * (sizeof(*a->sums.keys) + sizeof(*a->sums.sums)) +
	    a->hcap * sizeof(*a->health);
}

void
average_add(struct average *a, const struct record *r)
{
	struct rrd_health *h;
	char ts[ISO8601_LEN];
	uint64_t seen = 0;
	size_t i;
	int t;

	a->n++;
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
	}
	h = &a->health[a->nhealth++];
	snprintf(h->id, sizeof(h->id), "%s", r->sensor);
	for (t = RT_TCP; t <= RT_UNMONITORED; t++)
		seen += r->totals[t];
	h->packets = seen;
	h->drops = r->totals[RT_CAPTURE_DROPS] + r->totals[RT_SPOOL_DROPS];
}

struct rrd_job *
average_job(const struct average *a, int64_t start, uint32_t len)
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
	j->nhealth = a->nhealth;
	j->health = xcalloc(a->nhealth ? a->nhealth : 1, sizeof(*j->health));
	if (a->nhealth > 0)
		memcpy(j->health, a->health, a->nhealth * sizeof(*j->health));
	return j;
}
