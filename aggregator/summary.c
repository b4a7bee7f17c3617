/*
 * Window sums; see summary.h.  A bucket file is, in native byte order:
 *
 *   "TSUM" | u32 version 1 | i64 start | i64 last interval added |
 *   u64 intervals | f64 sum of reporting sensors | u32 step | u32 n |
 *   n x (u32 key index, f64 sum of averages)      (key indices ascending)
 *
 * It is derived data: written to a temporary name and renamed, not
 * fsynced; `teiten-aggregator rebuild` makes it again from the archive.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datadir.h"
#include "keyidx.h"
#include "log.h"
#include "summary.h"
#include "xmalloc.h"

#define SUM_MAGIC "TSUM"
#define SUM_VERSION 1

struct bucket {
	int64_t start; /* INT64_MIN: none loaded */
	int64_t last; /* newest interval added */
	uint64_t nintervals;
	double sensors;
	uint32_t step;
	double *sum; /* KEYIDX_COUNT */
	int failing; /* the last write failed */
};

struct summary {
	char *datadir;
	char *dir; /* DATADIR/summary */
	struct bucket hour, day;
};

struct sum_head {
	char magic[4];
	uint32_t version;
	int64_t start, last;
	uint64_t nintervals;
	double sensors;
	uint32_t step, n;
};

struct sum_entry {
	uint32_t idx;
	uint32_t pad;
	double sum;
};

/*
 * The most intervals of length step that can start in [start, start +
 * len): intervals are aligned to their length (interval.h), so a bucket
 * shorter than a step holds at most one.
 */
static uint64_t
bucket_max_intervals(int64_t len, uint32_t step)
{
	return ((uint64_t)len + step - 1) / step;
}

/*
 * A bucket is derived data that a crash, a full disk or a stray write can
 * damage; read as it is, a zero interval count divides every sum into inf
 * and NaN.  So everything is checked against what bucket_write() makes:
 * the file's own start, whole entries and nothing after them, keys
 * ascending, sums finite, positive and at most nintervals x 2^64 (an
 * average never exceeds a 64-bit count).  Returns "" when sane, else
 * the reason.
 */
static const char *
bucket_check(const struct sum_head *h, const struct sum_entry *e, int64_t start,
    int64_t len)
{
	uint64_t maxn;
	uint32_t i;

	if (h->start != start)
		return "start differs from the file name";
	if (h->step == 0)
		return "step 0";
	maxn = bucket_max_intervals(len, h->step);
	if (h->nintervals == 0 || h->nintervals > maxn)
		return "impossible interval count";
	if (h->last < start || h->last >= start + len)
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

/*
 * Read the bucket [start, start + len) at path into b (sums added to
 * b->sum, which the caller zeroed).  An absent file is an empty bucket.
 * Returns 0, or -1 with the reason in why.
 */
static int
bucket_read(const char *path, int64_t start, int64_t len, struct bucket *b,
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
	if (*(bad = bucket_check(&h, e, start, len)) != '\0')
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

static int
bucket_write(const char *path, const struct bucket *b)
{
	struct sum_head h;
	struct sum_entry e;
	char tmp[4300];
	uint32_t i;
	FILE *f;
	int ok;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SUM_MAGIC, 4);
	h.version = SUM_VERSION;
	h.start = b->start;
	h.last = b->last;
	h.nintervals = b->nintervals;
	h.sensors = b->sensors;
	h.step = b->step;
	for (i = 0; i < KEYIDX_COUNT; i++)
		h.n += b->sum[i] != 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "wb")) == NULL)
		return -1;
	ok = fwrite(&h, sizeof(h), 1, f) == 1;
	memset(&e, 0, sizeof(e));
	for (i = 0; ok && i < KEYIDX_COUNT; i++) {
		if (b->sum[i] == 0)
			continue;
		e.idx = i;
		e.sum = b->sum[i];
		ok = fwrite(&e, sizeof(e), 1, f) == 1;
	}
	if (fclose(f) == EOF || !ok || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

struct summary *
summary_open(const char *datadir, char *err, size_t errlen)
{
	struct summary *s = xcalloc(1, sizeof(*s));
	char path[DATADIR_PATH_MAX];
	int i;

	s->datadir = xstrdup(datadir);
	datadir_summary_dir(datadir, path, sizeof(path));
	s->dir = xstrdup(path);
	/* The summary directory, then each kind's. */
	for (i = -1; i < DATADIR_SUMS; i++) {
		if (i >= 0)
			datadir_sum_dir(datadir, i, path, sizeof(path));
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			summary_free(s);
			return NULL;
		}
	}
	s->hour.sum = xcalloc(KEYIDX_COUNT, sizeof(double));
	s->day.sum = xcalloc(KEYIDX_COUNT, sizeof(double));
	s->hour.start = s->day.start = INT64_MIN;
	return s;
}

void
summary_free(struct summary *s)
{
	if (s == NULL)
		return;
	free(s->hour.sum);
	free(s->day.sum);
	free(s->datadir);
	free(s->dir);
	free(s);
}

/* Hourly buckets are for the short windows only. */
static void
summary_prune(struct summary *s, int64_t now_hour)
{
	char path[DATADIR_PATH_MAX + 300], sub[DATADIR_PATH_MAX];
	struct dirent *de;
	long long start;
	DIR *d;

	datadir_sum_dir(s->datadir, DATADIR_SUM_HOUR, sub, sizeof(sub));
	if ((d = opendir(sub)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (sscanf(de->d_name, "%lld.sum", &start) == 1 &&
		    start < now_hour - SUMMARY_HOUR_KEEP) {
			snprintf(path, sizeof(path), "%s/%s", sub, de->d_name);
			unlink(path);
		}
	closedir(d);
}

static int
bucket_add(struct summary *s, struct bucket *b, enum datadir_sum kind,
    int64_t len, const struct rrd_job *j)
{
	int64_t start = j->start - ((j->start % len) + len) % len;
	char path[4200], why[128];
	size_t i;

	datadir_sum_bucket(s->datadir, kind, start, path, sizeof(path));
	if (b->start != start) {
		memset(b->sum, 0, KEYIDX_COUNT * sizeof(double));
		b->nintervals = 0;
		b->sensors = 0;
		b->last = INT64_MIN;
		b->start = start;
		if (bucket_read(path, start, len, b, why, sizeof(why)) == -1) {
			log_warnx("summary %s: %s; rebuild to repair it", path,
			    why);
			return -1;
		}
		if (len == SUMMARY_HOUR)
			summary_prune(s, start);
	}
	if (j->start <= b->last)
		return 0; /* added before a restart or a retry */
	for (i = 0; i < j->nvalues; i++)
		b->sum[j->idx[i]] += j->avg[i];
	b->nintervals++;
	b->sensors += j->nsensors;
	b->last = j->start;
	b->step = j->len;
	if (bucket_write(path, b) == -1) {
		if (!b->failing)
			log_warn("summary %s (interval %" PRId64 "; retried "
				 "until written)",
			    path, j->start);
		b->failing = 1;
		/* Read the file again: the retry must add the interval. */
		b->start = INT64_MIN;
		return -1;
	}
	if (b->failing)
		log_info("summary %s: caught up (interval %" PRId64 " written)",
		    path, j->start);
	b->failing = 0;
	return 0;
}

int
summary_add(struct summary *s, const struct rrd_job *j)
{
	int rc = 0;

	if (bucket_add(s, &s->hour, DATADIR_SUM_HOUR, SUMMARY_HOUR, j) == -1)
		rc = -1;
	if (bucket_add(s, &s->day, DATADIR_SUM_DAY, SUMMARY_DAY, j) == -1)
		rc = -1;
	return rc;
}

const char *
summary_dir(const struct summary *s)
{
	return s->dir;
}

void
summary_reload(struct summary *s)
{
	s->hour.start = s->day.start = INT64_MIN;
}

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
