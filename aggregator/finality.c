/* When an interval is final, and who reported the final ones; see finality.h. */
#include <stdlib.h>
#include <string.h>

#include "finality.h"
#include "xmalloc.h"

/* Final intervals whose reporting sensors stay in memory for dedupe. */
#define FINAL_KEEP 4096

/* What finality needs to know of a sensor. */
struct heard {
	int64_t last_start; /* newest interval reported */
	time_t last_seen; /* wall clock of its newest record */
};

struct final_set {
	int64_t start;
	struct sset seen;
};

struct finality {
	uint32_t len;
	unsigned grace, active;
	int64_t final_upto; /* intervals up to here are final */
	int has_final;
	finality_load_fn load;
	void *arg;
	struct heard *heard; /* by sensor index */
	size_t nheard, hcap;
	struct final_set *fin; /* sorted by start */
	size_t nfin, fcap;
};

int
sset_has(const struct sset *s, size_t i)
{
	return i / 8 < s->bytes && (s->bits[i / 8] >> (i % 8)) & 1;
}

void
sset_add(struct sset *s, size_t i)
{
	size_t need = i / 8 + 1;

	if (need > s->bytes) {
		size_t nb = need < 2 * s->bytes ? 2 * s->bytes : need;

		s->bits = xreallocarray(s->bits, nb, 1);
		memset(s->bits + s->bytes, 0, nb - s->bytes);
		s->bytes = nb;
	}
	s->bits[i / 8] |= (uint8_t)(1 << (i % 8));
}

struct finality *
finality_new(uint32_t len, unsigned grace, unsigned active, int64_t last_final,
    finality_load_fn load, void *arg)
{
	struct finality *f = xcalloc(1, sizeof(*f));

	f->len = len;
	f->grace = grace;
	f->active = active;
	f->final_upto = last_final;
	f->has_final = last_final != INT64_MIN;
	f->load = load;
	f->arg = arg;
	return f;
}

void
finality_free(struct finality *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nfin; i++)
		free(f->fin[i].seen.bits);
	free(f->fin);
	free(f->heard);
	free(f);
}

void
finality_track(struct finality *f, uint32_t idx)
{
	while (f->nheard <= idx) {
		if (f->nheard == f->hcap) {
			f->hcap = f->hcap ? f->hcap * 2 : 64;
			f->heard =
			    xreallocarray(f->heard, f->hcap, sizeof(*f->heard));
		}
		f->heard[f->nheard].last_start = INT64_MIN;
		f->heard[f->nheard].last_seen = 0;
		f->nheard++;
	}
}

void
finality_heard(struct finality *f, uint32_t idx, int64_t start, time_t now)
{
	finality_track(f, idx);
	if (f->heard[idx].last_start < start)
		f->heard[idx].last_start = start;
	f->heard[idx].last_seen = now;
}

/* Every sensor heard from recently has reported start or later. */
static int
finality_complete(const struct finality *f, int64_t start, time_t now)
{
	size_t i;

	for (i = 0; i < f->nheard; i++) {
		const struct heard *h = &f->heard[i];

		if (now - h->last_seen <= (time_t)f->active &&
		    h->last_start < start)
			return 0;
	}
	return 1;
}

/*
 * Final on the aggregator's clock only: an interval that has not ended
 * yet is never final, and its grace starts no earlier than its end, so a
 * sensor whose clock runs fast cannot make the others' records late.
 */
int
finality_due(const struct finality *f, int64_t start, time_t first, time_t now)
{
	int64_t end = start + (int64_t)f->len;
	int64_t due = first > end ? first : end;

	if ((int64_t)now < end)
		return 0;
	return (int64_t)now - due >= (int64_t)f->grace ||
	    finality_complete(f, start, now);
}

int
finality_is_final(const struct finality *f, int64_t start)
{
	return f->has_final && start <= f->final_upto;
}

int64_t
finality_last(const struct finality *f)
{
	return f->has_final ? f->final_upto : INT64_MIN;
}

struct sset *
finality_seen(struct finality *f, int64_t start)
{
	struct final_set *fs;
	size_t lo = 0, hi = f->nfin, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (f->fin[mid].start == start)
			return &f->fin[mid].seen;
		if (f->fin[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Forget the oldest; the archive can tell again. */
	if (f->nfin >= FINAL_KEEP) {
		free(f->fin[0].seen.bits);
		memmove(f->fin, f->fin + 1, (f->nfin - 1) * sizeof(*f->fin));
		f->nfin--;
		if (lo > 0)
			lo--;
	}
	if (f->nfin == f->fcap) {
		f->fcap = f->fcap ? f->fcap * 2 : 64;
		f->fin = xreallocarray(f->fin, f->fcap, sizeof(*f->fin));
	}
	memmove(f->fin + lo + 1, f->fin + lo, (f->nfin - lo) * sizeof(*f->fin));
	fs = &f->fin[lo];
	f->nfin++;
	fs->start = start;
	memset(&fs->seen, 0, sizeof(fs->seen));
	if (f->load != NULL)
		f->load(start, &fs->seen, f->arg);
	return &fs->seen;
}

void
finality_mark(struct finality *f, int64_t start, struct sset *seen)
{
	struct sset *s;

	f->final_upto = start;
	f->has_final = 1;
	s = finality_seen(f, start);
	free(s->bits);
	*s = *seen;
	memset(seen, 0, sizeof(*seen));
}
