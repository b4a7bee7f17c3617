/*
 * Windows read from the summary buckets; see window.h.  This is the read
 * side: teiten-graph links it, never the writer (summary.c).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "datadir.h"
#include "hllbucket.h"
#include "interval.h"
#include "keyidx.h"
#include "window.h"
#include "xmalloc.h"
#include "zone.h"

static const double *window_means; /* for the sort below */

static int
window_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (window_means[x] != window_means[y])
		return window_means[x] > window_means[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* 1 if t is the first instant of a day in the zone in use. */
static int
is_day_start(int64_t t)
{
	return zone_day_start(zone_date(t, NULL)) == t;
}

/*
 * Hourly buckets are pruned SUMMARY_HOUR_KEEP behind the newest one added
 * (summary.c), which is never after DATADIR/last_final's hour; a day's
 * margin keeps clear of the edge.  Without final intervals nothing was
 * pruned.
 */
static int
hours_kept(const char *datadir, int64_t start)
{
	int64_t last = datadir_last_final(datadir);

	return last == INT64_MIN ||
	    start >= interval_start(last, SUMMARY_HOUR) - SUMMARY_HOUR_KEEP +
		SUMMARY_DAY;
}

int
window_hourly(const char *datadir, int64_t start, int64_t end)
{
	return start % SUMMARY_HOUR == 0 && end % SUMMARY_HOUR == 0 &&
	    end - start <= SUMMARY_HOUR_KEEP - SUMMARY_DAY &&
	    hours_kept(datadir, start);
}

/*
 * Which buckets answer [start, end) exactly: hourly ones when it is on
 * whole hours, at most 15 days long and not yet pruned; else daily ones
 * when it runs from midnight to midnight in DATADIR's zone, which must be
 * the zone in use.  -1 with the reason otherwise.
 */
static int
window_kind(const char *datadir, int64_t start, int64_t end,
    enum datadir_sum *kind, char *err, size_t errlen)
{
	char zone[ZONE_NAME_MAX];
	int hours;

	hours = start % SUMMARY_HOUR == 0 && end % SUMMARY_HOUR == 0;
	if (window_hourly(datadir, start, end)) {
		*kind = DATADIR_SUM_HOUR;
		return 0;
	}
	if (datadir_zone(datadir, zone, sizeof(zone)) == -1) {
		snprintf(err, errlen, "%s/timezone: %s", datadir,
		    strerror(errno));
		return -1;
	}
	if (strcmp(zone, zone_name()) != 0) {
		snprintf(err, errlen,
		    "the daily summaries are cut at %s midnights, not %s "
		    "(set timezone = %s and run teiten-aggregator rebuild)%s",
		    zone, zone_name(), zone_name(),
		    hours ? "; the hourly ones no longer reach back so far"
			  : "");
		return -1;
	}
	if (!is_day_start(start) || !is_day_start(end)) {
		snprintf(err, errlen,
		    "window must start and end on whole days in %s%s", zone,
		    hours ? " (the hourly summaries no longer reach back so "
			    "far, or it is longer than 15 days)"
			  : ", or on whole hours");
		return -1;
	}
	*kind = DATADIR_SUM_DAY;
	return 0;
}

/* The bucket of kind after the one starting at t. */
static int64_t
bucket_next(enum datadir_sum kind, int64_t t)
{
	if (kind == DATADIR_SUM_HOUR)
		return t + SUMMARY_HOUR;
	return zone_day_start(civil_add_days(zone_date(t, NULL), 1));
}

int
summary_window(const char *datadir, int64_t start, int64_t end,
    struct window *w, char *err, size_t errlen)
{
	struct bucket b;
	enum datadir_sum kind;
	const char *bad;
	char path[DATADIR_PATH_MAX], dir[DATADIR_PATH_MAX], why[128];
	int64_t t, next;
	uint32_t i;

	memset(w, 0, sizeof(*w));
	if (end <= start) {
		snprintf(err, errlen, "empty window");
		return -1;
	}
	if (window_kind(datadir, start, end, &kind, err, errlen) == -1)
		return -1;
	datadir_summary_dir(datadir, dir, sizeof(dir));
	memset(&b, 0, sizeof(b));
	b.sum = xcalloc(KEYIDX_COUNT, sizeof(double));
	for (t = start; t < end; t = next) {
		next = bucket_next(kind, t);
		datadir_sum_bucket(datadir, kind, t, path, sizeof(path));
		if (bucket_read(path, t, next, &b, why, sizeof(why)) == -1) {
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

int
window_sketches(const char *datadir, struct window *w, char *err, size_t errlen)
{
	struct hllbucket sb;
	enum datadir_sum kind;
	char path[DATADIR_PATH_MAX], why[128];
	int64_t t, next;
	size_t i;

	if (window_kind(datadir, w->start, w->end, &kind, err, errlen) == -1)
		return -1;
	hllbucket_init(&sb);
	for (t = w->start; t < w->end; t = next) {
		next = bucket_next(kind, t);
		datadir_sketch_bucket(datadir, kind, t, path, sizeof(path));
		if (hllbucket_read(path, t, next, &sb, why, sizeof(why)) ==
		    -1) {
			snprintf(err, errlen,
			    "summary sketches %s: %s (teiten-aggregator "
			    "rebuild makes them again)",
			    path, why);
			hllbucket_free(&sb);
			return -1;
		}
	}
	free(w->sources);
	free(w->targets);
	w->sources = xcalloc(w->n ? w->n : 1, sizeof(*w->sources));
	w->targets = xcalloc(w->n ? w->n : 1, sizeof(*w->targets));
	for (i = 0; i < w->n; i++) {
		const struct hll *s = sb.src[w->idx[i]];

		w->sources[i] = s != NULL ? hll_estimate(s) : NAN;
		s = sb.dst[w->idx[i]];
		w->targets[i] = s != NULL ? hll_estimate(s) : NAN;
	}
	w->all_sources = sb.all_src != NULL ? hll_estimate(sb.all_src) : NAN;
	w->all_targets = sb.all_dst != NULL ? hll_estimate(sb.all_dst) : NAN;
	w->nsketched = sb.nintervals;
	hllbucket_free(&sb);
	return 0;
}

int
window_sensors(const char *datadir, int64_t start, int64_t end,
    struct sensbucket *b, char *err, size_t errlen)
{
	enum datadir_sum kind;
	char path[DATADIR_PATH_MAX], why[128];
	int64_t t, next;

	if (end <= start) {
		snprintf(err, errlen, "empty window");
		return -1;
	}
	if (window_kind(datadir, start, end, &kind, err, errlen) == -1)
		return -1;
	for (t = start; t < end; t = next) {
		next = bucket_next(kind, t);
		datadir_sens_bucket(datadir, kind, t, path, sizeof(path));
		if (sensbucket_read(path, t, next, b, why, sizeof(why)) == -1) {
			snprintf(err, errlen,
			    "summary sensor sums %s: %s (teiten-aggregator "
			    "rebuild makes them again)",
			    path, why);
			return -1;
		}
	}
	return 0;
}

static const struct window *by_sources_w; /* for the sort below */

static int
by_sources_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	double sx = by_sources_w->sources[x], sy = by_sources_w->sources[y];

	if (isnan(sx) != isnan(sy))
		return isnan(sx) ? 1 : -1;
	if (!isnan(sx) && sx != sy)
		return sx > sy ? -1 : 1;
	return x < y ? -1 : x > y;
}

size_t *
window_by_sources(const struct window *w)
{
	size_t *order = xcalloc(w->n ? w->n : 1, sizeof(*order)), i;

	for (i = 0; i < w->n; i++)
		order[i] = i;
	if (w->sources != NULL) {
		by_sources_w = w;
		qsort(order, w->n, sizeof(*order), by_sources_cmp);
	}
	return order;
}

void
window_free(struct window *w)
{
	free(w->idx);
	free(w->mean);
	free(w->sources);
	free(w->targets);
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

/*
 * The oldest bucket's start: daily buckets outlive hourly ones, but a
 * DATADIR younger than a day may have hourly ones only.
 */
int64_t
summary_first(const char *datadir)
{
	char dir[DATADIR_PATH_MAX], *end;
	int64_t first = INT64_MAX, t;
	struct dirent *de;
	int k;
	DIR *d;

	for (k = 0; k < DATADIR_SUMS; k++) {
		datadir_sum_dir(datadir, k, dir, sizeof(dir));
		if ((d = opendir(dir)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			errno = 0;
			t = strtoll(de->d_name, &end, 10);
			/* Only names the writer makes: <start>.sum */
			if (errno == 0 && end != de->d_name && t >= 0 &&
			    strcmp(end, ".sum") == 0 && t < first)
				first = t;
		}
		closedir(d);
	}
	return first == INT64_MAX ? INT64_MIN : first;
}
