/* Summary bucket files; see bucket.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "keyidx.h"
#include "xmalloc.h"

/*
 * The most intervals of length step that can start in [start, end):
 * intervals are aligned to their length (interval.h), so a bucket shorter
 * than a step holds at most one.
 */
static uint64_t
bucket_max_intervals(int64_t start, int64_t end, uint32_t step)
{
	return ((uint64_t)(end - start) + step - 1) / step;
}

/*
 * A bucket is derived data that a crash, a full disk or a stray write can
 * damage; read as it is, a zero interval count divides every sum into inf
 * and NaN.  So everything is checked against what bucket_write() (summary.c) makes:
 * the file's own start, whole entries and nothing after them, keys
 * ascending, sums finite, positive and at most nintervals x 2^64 (an
 * average never exceeds a 64-bit count).  Returns "" when sane, else
 * the reason.
 */
static const char *
bucket_check(const struct sum_head *h, const struct sum_entry *e, int64_t start,
    int64_t end)
{
	uint64_t maxn;
	uint32_t i;

	if (h->start != start)
		return "start differs from the file name";
	if (h->step == 0)
		return "step 0";
	maxn = bucket_max_intervals(start, end, h->step);
	if (h->nintervals == 0 || h->nintervals > maxn)
		return "impossible interval count";
	if (h->last < start || h->last >= end)
		return "last interval outside the bucket";
	if (!isfinite(h->sensors) || h->sensors < 0)
		return "sensor sum not a non-negative number";
	for (i = 0; i < h->n; i++) {
		if (e[i].idx >= KEYIDX_COUNT ||
		    (i > 0 && e[i].idx <= e[i - 1].idx))
			return "key indices out of range or order";
		if (!isfinite(e[i].sum) || e[i].sum <= 0 ||
		    e[i].sum > (double)h->nintervals * 0x1p64)
			return "a key's sum is not a possible number";
	}
	return "";
}

int
bucket_read(const char *path, int64_t start, int64_t end, struct bucket *b,
    char *why, size_t whylen)
{
	struct sum_head h;
	struct sum_entry *e = NULL;
	const char *bad = "truncated";
	FILE *f;
	uint32_t i;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	/* One read for all entries: a year window reads ~20M of them. */
	if (fread(&h, sizeof(h), 1, f) != 1)
		goto out;
	bad = "not a summary bucket (bad magic or version)";
	if (memcmp(h.magic, SUM_MAGIC, 4) != 0 || h.version != SUM_VERSION)
		goto out;
	bad = "impossible entry count";
	if (h.n > KEYIDX_COUNT)
		goto out;
	e = xreallocarray(NULL, h.n ? h.n : 1, sizeof(*e));
	bad = "truncated";
	if (fread(e, sizeof(*e), h.n, f) != h.n)
		goto out;
	bad = "bytes after the last entry";
	if (fgetc(f) != EOF)
		goto out;
	if (*(bad = bucket_check(&h, e, start, end)) != '\0')
		goto out;
	for (i = 0; i < h.n; i++)
		b->sum[e[i].idx] += e[i].sum;
	b->start = h.start;
	b->last = h.last;
	b->nintervals += h.nintervals;
	b->sensors += h.sensors;
	b->step = h.step;
	rc = 0;
out:
	if (rc == -1)
		snprintf(why, whylen, "%s", ferror(f) ? strerror(errno) : bad);
	free(e);
	fclose(f);
	return rc;
}
