/*
 * Windows read from the summary buckets; see window.h.  This is the read
 * side: teiten-graph links it, never the writer (summary.c).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "datadir.h"
#include "keyidx.h"
#include "window.h"
#include "xmalloc.h"

static const double *window_means; /* for the sort below */

static int
window_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (window_means[x] != window_means[y])
		return window_means[x] > window_means[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

int
summary_window(const char *datadir, int64_t start, int64_t end,
    struct window *w, char *err, size_t errlen)
{
	struct bucket b;
	enum datadir_sum kind;
	const char *bad;
	char path[DATADIR_PATH_MAX], dir[DATADIR_PATH_MAX], why[128];
	int64_t len, t;
	uint32_t i;

	memset(w, 0, sizeof(*w));
	if (end <= start) {
		snprintf(err, errlen, "empty window");
		return -1;
	}
	if (end - start <= SUMMARY_HOUR_KEEP - SUMMARY_DAY &&
	    start % SUMMARY_HOUR == 0 && end % SUMMARY_HOUR == 0) {
		kind = DATADIR_SUM_HOUR;
		len = SUMMARY_HOUR;
	} else if (start % SUMMARY_DAY == 0 && end % SUMMARY_DAY == 0) {
		kind = DATADIR_SUM_DAY;
		len = SUMMARY_DAY;
	} else {
		snprintf(err, errlen,
		    "window must start and end on whole hours (up to 15 "
		    "days long) or whole UTC days");
		return -1;
	}
	datadir_summary_dir(datadir, dir, sizeof(dir));
	memset(&b, 0, sizeof(b));
	b.sum = xcalloc(KEYIDX_COUNT, sizeof(double));
	for (t = start; t < end; t += len) {
		datadir_sum_bucket(datadir, kind, t, path, sizeof(path));
		if (bucket_read(path, t, len, &b, why, sizeof(why)) == -1) {
			snprintf(err, errlen,
			    "summary bucket %s: %s (teiten-aggregator rebuild "
			    "makes it again)",
			    path, why);
			free(b.sum);
			return -1;
		}
	}
	w->start = start;
	w->end = end;
	w->nintervals = b.nintervals;
	w->sensors = b.nintervals ? b.sensors / (double)b.nintervals : 0;
	w->idx = xcalloc(KEYIDX_COUNT, sizeof(*w->idx));
	for (i = 0; i < KEYIDX_COUNT; i++) {
		if (b.sum[i] == 0)
			continue;
		b.sum[i] /= (double)b.nintervals;
		w->idx[w->n++] = i;
		w->total += b.sum[i];
	}
	window_means = b.sum;
	qsort(w->idx, w->n, sizeof(*w->idx), window_cmp);
	w->mean = xcalloc(w->n ? w->n : 1, sizeof(*w->mean));
	for (i = 0; i < w->n; i++)
		w->mean[i] = b.sum[w->idx[i]];
	free(b.sum);
	/* Checked buckets make a sane window; this only guards the sums. */
	if ((bad = window_check(w)) != NULL) {
		snprintf(err, errlen,
		    "summary %s, window %" PRId64 "-%" PRId64 ": %s", dir,
		    start, end, bad);
		window_free(w);
		return -1;
	}
	return 0;
}

const char *
window_check(const struct window *w)
{
	double sum = 0;
	size_t i;

	if (w->n > KEYIDX_COUNT || (w->n > 0 && w->nintervals == 0))
		return "impossible key or interval count";
	if (!isfinite(w->sensors) || w->sensors < 0 || !isfinite(w->total) ||
	    w->total < 0)
		return "sensor count or total not a non-negative number";
	for (i = 0; i < w->n; i++) {
		if (w->idx[i] >= KEYIDX_COUNT)
			return "key index out of range";
		if (!isfinite(w->mean[i]) || w->mean[i] <= 0)
			return "a mean is not a positive number";
		/* Ranked as window_cmp() sorts: no key twice, none lost. */
		if (i > 0 &&
		    (w->mean[i] > w->mean[i - 1] ||
			(w->mean[i] == w->mean[i - 1] &&
			    w->idx[i] <= w->idx[i - 1])))
			return "keys out of rank order";
		sum += w->mean[i];
	}
	/* Summed in another order than summary_window() did: rounding only. */
	if (w->total - sum > 1e-9 * sum || sum - w->total > 1e-9 * sum)
		return "total differs from the sum of the means";
	return NULL;
}

void
window_free(struct window *w)
{
	free(w->idx);
	free(w->mean);
	memset(w, 0, sizeof(*w));
}

double
window_mean(const struct window *w, uint32_t idx)
{
	size_t r = window_rank(w, idx);

	return r ? w->mean[r - 1] : 0;
}

double
window_share(const struct window *w, size_t i)
{
	return w->total > 0 ? w->mean[i] / w->total : 0;
}

size_t
window_rank(const struct window *w, uint32_t idx)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (w->idx[i] == idx)
			return i + 1;
	return 0;
}
