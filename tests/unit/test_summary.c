/*
 * Unit tests for summary (aggregator/summary.h, window.h): a window's mean for a key
 * is the sum of its per-interval averages over the window's reported
 * intervals divided by their number; an interval added twice (a retry, a
 * restart) counts once; hourly buckets older than 16 days go; damaged
 * buckets are errors naming the file; window_check() refuses impossible
 * windows; daily buckets follow DATADIR's zone, and a window is read from
 * buckets that still hold it or refused with the reason.  D is
 * 2024-01-01T00:00:00Z; intervals are 60 s.
 */
#define _XOPEN_SOURCE 700
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bucket.h"
#include "datadir.h"
#include "hll.h"
#include "keyidx.h"
#include "rrdw.h"
#include "summary.h"
#include "window.h"
#include "tmpdir.h"
#include "zone.h"

#define D ((int64_t)1704067200)
#define H 3600
#define DAY 86400
#define TCP22 22
#define TCP80 80
#define TCP443 443
#define UDP53 (65536 + 53)

struct fixture {
	char dir[64];
	struct summary *s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256] = "";

	if (f == NULL)
		return -1;
	if (tmpdir_make(f->dir, sizeof(f->dir), "summary") == -1)
		return -1;
	if ((f->s = summary_open(f->dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "summary_open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	summary_free(f->s);
	rc = tmpdir_remove(f->dir);
	free(f);
	return rc;
}

static int
close_to(double a, double b)
{
	double d = a - b;

	return d < 1e-12 && d > -1e-12;
}

/* Add one interval: n keys with their averages. */
static int
add(struct summary *s, int64_t start, uint32_t nsensors, size_t n,
    const uint32_t *idx, const double *avg)
{
	struct rrd_job j;

	memset(&j, 0, sizeof(j));
	j.start = start;
	j.len = 60;
	j.nsensors = nsensors;
	j.nvalues = n;
	j.idx = (uint32_t *)(uintptr_t)idx;
	j.avg = (double *)(uintptr_t)avg;
	return summary_add(s, &j);
}

/*
 * D:        2 sensors, tcp/22 3.0, udp/53 1.0
 * D + 60:   4 sensors, tcp/22 1.0
 * D + 3600: 3 sensors, tcp/80 6.0
 */
static void
add_three(struct summary *s)
{
	static const uint32_t i1[] = {TCP22, UDP53}, i2[] = {TCP22},
			      i3[] = {TCP80};
	static const double a1[] = {3.0, 1.0}, a2[] = {1.0}, a3[] = {6.0};

	assert_int_equal(add(s, D, 2, 2, i1, a1), 0);
	assert_int_equal(add(s, D + 60, 4, 1, i2, a2), 0);
	assert_int_equal(add(s, D + H, 3, 1, i3, a3), 0);
}

static struct window
window(const struct fixture *f, int64_t start, int64_t end)
{
	struct window w;
	char err[512] = "";

	if (summary_window(f->dir, start, end, &w, err, sizeof(err)) == -1)
		fail_msg("summary_window: %s", err);
	assert_null(window_check(&w));
	return w;
}

/*
 * Two hours: 3 intervals; tcp/80 6 / 3 = 2, tcp/22 (3 + 1) / 3 = 4/3,
 * udp/53 1/3; total 11/3; sensors (2 + 4 + 3) / 3 = 3.
 */
static void
check_three(const struct window *w, int64_t start, int64_t end)
{
	assert_true(w->start == start);
	assert_true(w->end == end);
	assert_int_equal(w->nintervals, 3);
	assert_true(close_to(w->sensors, 3.0));
	assert_int_equal(w->n, 3);
	assert_int_equal(w->idx[0], TCP80);
	assert_int_equal(w->idx[1], TCP22);
	assert_int_equal(w->idx[2], UDP53);
	assert_true(close_to(w->mean[0], 2.0));
	assert_true(close_to(w->mean[1], 4.0 / 3.0));
	assert_true(close_to(w->mean[2], 1.0 / 3.0));
	assert_true(close_to(w->total, 11.0 / 3.0));
	assert_int_equal(window_rank(w, TCP80), 1);
	assert_int_equal(window_rank(w, UDP53), 3);
	assert_int_equal(window_rank(w, TCP443), 0);
	assert_true(close_to(window_mean(w, TCP22), 4.0 / 3.0));
	assert_true(window_mean(w, TCP443) == 0);
	assert_true(close_to(window_share(w, 0), 6.0 / 11.0));
	assert_true(close_to(window_share(w, 2), 1.0 / 11.0));
}

static void
test_means(void **state)
{
	struct fixture *f = *state;
	struct window w;

	add_three(f->s);
	w = window(f, D, D + 2 * H);
	check_three(&w, D, D + 2 * H);
	window_free(&w);
	/* The same from the daily bucket. */
	w = window(f, D, D + DAY);
	check_three(&w, D, D + DAY);
	window_free(&w);
	/* The first hour alone: 2 intervals, tcp/22 2, udp/53 0.5. */
	w = window(f, D, D + H);
	assert_int_equal(w.nintervals, 2);
	assert_true(close_to(w.sensors, 3.0));
	assert_int_equal(w.n, 2);
	assert_int_equal(w.idx[0], TCP22);
	assert_true(close_to(w.mean[0], 2.0));
	assert_true(close_to(w.mean[1], 0.5));
	window_free(&w);
	/* Nothing reported: an empty window, not an error. */
	w = window(f, D + 2 * H, D + 3 * H);
	assert_int_equal(w.nintervals, 0);
	assert_int_equal(w.n, 0);
	assert_true(w.sensors == 0 && w.total == 0);
	assert_true(window_share(&w, 0) == 0);
	window_free(&w);
}

/* Added again, after a retry or a restart: counted once. */
static void
test_added_once(void **state)
{
	static const uint32_t i2[] = {TCP22}, i4[] = {TCP443};
	static const double a2[] = {1.0}, a4[] = {9.0};
	struct fixture *f = *state;
	struct window w;
	char err[256] = "";

	add_three(f->s);
	assert_int_equal(add(f->s, D + 60, 4, 1, i2, a2), 0);
	assert_int_equal(add(f->s, D + H, 4, 1, i2, a2), 0);
	w = window(f, D, D + 2 * H);
	check_three(&w, D, D + 2 * H);
	window_free(&w);
	summary_free(f->s);
	f->s = summary_open(f->dir, err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(add(f->s, D + H, 4, 1, i2, a2), 0);
	w = window(f, D, D + DAY);
	check_three(&w, D, D + DAY);
	window_free(&w);
	/* A new one after the restart counts: tcp/443 9 / 4. */
	assert_int_equal(add(f->s, D + H + 60, 1, 1, i4, a4), 0);
	w = window(f, D, D + DAY);
	assert_int_equal(w.nintervals, 4);
	assert_true(close_to(w.sensors, 10.0 / 4.0));
	assert_int_equal(w.idx[0], TCP443);
	assert_true(close_to(w.mean[0], 9.0 / 4.0));
	assert_true(close_to(window_mean(&w, TCP80), 6.0 / 4.0));
	window_free(&w);
}

static void
test_bad_windows(void **state)
{
	struct fixture *f = *state;
	struct window w;
	char err[256];

	err[0] = '\0';
	assert_int_equal(summary_window(f->dir, D, D, &w, err, sizeof(err)),
	    -1);
	assert_true(err[0] != '\0');
	err[0] = '\0';
	assert_int_equal(summary_window(f->dir, D, D + H + 1, &w, err,
			     sizeof(err)),
	    -1);
	assert_true(err[0] != '\0');
	/* Hour-aligned but 16 days long, not day-aligned: neither kind. */
	err[0] = '\0';
	assert_int_equal(summary_window(f->dir, D + H, D + H + 16 * DAY, &w,
			     err, sizeof(err)),
	    -1);
	assert_true(err[0] != '\0');
	/* 15 days on the hour is fine. */
	assert_int_equal(summary_window(f->dir, D + H, D + H + 15 * DAY, &w,
			     err, sizeof(err)),
	    0);
	window_free(&w);
}

/* Damage the hourly bucket of D; reading it names the file. */
static void
damage(const struct fixture *f, long off, const void *bytes, size_t n,
    int truncate_to)
{
	char path[160];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/summary/hour/%lld.sum", f->dir,
	    (long long)D);
	if (truncate_to >= 0) {
		assert_int_equal(truncate(path, truncate_to), 0);
		return;
	}
	fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	assert_int_equal(fwrite(bytes, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void
expect_damaged(const struct fixture *f, const char *why)
{
	struct window w;
	char err[512] = "", name[64];

	snprintf(name, sizeof(name), "hour/%lld.sum", (long long)D);
	assert_int_equal(summary_window(f->dir, D, D + H, &w, err, sizeof(err)),
	    -1);
	if (strstr(err, name) == NULL || strstr(err, why) == NULL)
		fail_msg("\"%s\" lacks \"%s\" or \"%s\"", err, name, why);
}

/*
 * The header in native order: magic 0-3, version 4-7, start 8-15, last
 * 16-23, intervals 24-31, sensors 32-39, step 40-43, n 44-47; entries of
 * 16 bytes follow.
 */
static void
test_damaged(void **state)
{
	struct fixture *f = *state;
	const uint64_t zero = 0;
	const uint32_t big = KEYIDX_COUNT;
	const double neg = -1.0;

	add_three(f->s);
	damage(f, 0, "XSUM", 4, -1);
	expect_damaged(f, "bad magic");
	damage(f, 0, "TSUM", 4, -1);
	damage(f, 24, &zero, 8, -1);
	expect_damaged(f, "impossible interval count");
	/* Two intervals: 2 entries (tcp/22, udp/53) = 48 + 32 bytes. */
	damage(f, 24, &(uint64_t){2}, 8, -1);
	damage(f, 48 + 16 + 8, &neg, 8, -1);
	expect_damaged(f, "not a possible number");
	damage(f, 48 + 16, &big, 4, -1);
	expect_damaged(f, "key indices");
	damage(f, 0, NULL, 0, 48 + 20);
	expect_damaged(f, "truncated");
	/* Adding to it fails too (and says so in the log). */
	summary_reload(f->s);
	{
		static const uint32_t i[] = {TCP22};
		static const double a[] = {1.0};

		assert_int_equal(add(f->s, D + 120, 1, 1, i, a), -1);
	}
}

/* A sketch of items [first, first + n), items hashed as a sensor would. */
static struct hll *
items(uint64_t first, uint64_t n)
{
	struct hll *h = hll_new(HLL_P_DEFAULT);
	uint64_t x;

	for (; n > 0; n--, first++) {
		x = first * 0x9e3779b97f4a7c15ULL;
		x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ULL;
		hll_add(h, x ^ (x >> 29));
	}
	return h;
}

/*
 * One interval whose tcp/22 saw sources [s0, s0 + ns) and targets
 * [100000, 100000 + nt), and udp/53 none (a key no sketch covers).
 */
static int
add_sketched(struct summary *s, int64_t start, uint64_t s0, uint64_t ns,
    uint64_t nt)
{
	static const uint32_t idx[] = {TCP22, UDP53};
	static const double avg[] = {1.0, 2.0};
	struct hll *src[2], *dst[2];
	struct rrd_job j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.start = start;
	j.len = 60;
	j.nsensors = 1;
	j.nvalues = 2;
	j.idx = (uint32_t *)(uintptr_t)idx;
	j.avg = (double *)(uintptr_t)avg;
	src[0] = items(s0, ns);
	dst[0] = items(100000, nt);
	src[1] = dst[1] = NULL;
	j.src = src;
	j.dst = dst;
	j.all_src = items(s0, ns);
	j.all_dst = items(100000, nt);
	rc = summary_add(s, &j);
	hll_free(src[0]);
	hll_free(dst[0]);
	hll_free(j.all_src);
	hll_free(j.all_dst);
	return rc;
}

/*
 * Distinct sources over a window are the union of its intervals' sets,
 * from the .hll beside each bucket: [0, 60) then [40, 90) in one hour,
 * [85, 5085) (dense) the next; an interval added twice counts once.
 */
static void
test_sketches(void **state)
{
	struct fixture *f = *state;
	struct window w;
	char err[512] = "", path[DATADIR_PATH_MAX];
	size_t *order;
	FILE *fp;

	assert_int_equal(add_sketched(f->s, D, 0, 60, 3), 0);
	assert_int_equal(add_sketched(f->s, D + 60, 40, 50, 3), 0);
	assert_int_equal(add_sketched(f->s, D + 60, 1000, 50, 3), 0);
	w = window(f, D, D + H);
	assert_int_equal(window_sketches(f->dir, &w, err, sizeof(err)), 0);
	assert_int_equal(w.nsketched, 2);
	assert_int_equal(window_rank(&w, UDP53), 1);
	assert_true(isnan(w.sources[0]) && isnan(w.targets[0]));
	assert_true(llround(w.sources[1]) == 90);
	assert_true(llround(w.targets[1]) == 3);
	assert_true(llround(w.all_sources) == 90);
	order = window_by_sources(&w);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 0);
	free(order);
	window_free(&w);

	assert_int_equal(add_sketched(f->s, D + H, 85, 5000, 3), 0);
	w = window(f, D, D + 2 * H);
	assert_int_equal(window_sketches(f->dir, &w, err, sizeof(err)), 0);
	assert_int_equal(w.nsketched, 3);
	/* 5,085 distinct: dense, within 4 standard errors (3.3%). */
	assert_true(
	    fabs(w.sources[window_rank(&w, TCP22) - 1] - 5085) < 0.033 * 5085);
	window_free(&w);

	/* A damaged sketch file is an error that names it. */
	datadir_sketch_bucket(f->dir, DATADIR_SUM_HOUR, D, path, sizeof(path));
	assert_non_null(fp = fopen(path, "r+b"));
	assert_int_equal(fseek(fp, -1, SEEK_END), 0);
	assert_int_equal(fputc(0xff, fp), 0xff);
	assert_int_equal(fclose(fp), 0);
	w = window(f, D, D + H);
	assert_int_equal(window_sketches(f->dir, &w, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	window_free(&w);
}

/*
 * An interval with no packet under any key has empty interval-wide
 * sketches: its bucket's .hll must still read, also after a restart.
 */
static void
test_sketches_empty(void **state)
{
	struct fixture *f = *state;
	struct rrd_job j;
	struct window w;
	char err[512] = "";

	memset(&j, 0, sizeof(j));
	j.start = D;
	j.len = 60;
	j.nsensors = 1;
	j.all_src = hll_new(HLL_P_DEFAULT);
	j.all_dst = hll_new(HLL_P_DEFAULT);
	assert_int_equal(summary_add(f->s, &j), 0);
	w = window(f, D, D + H);
	assert_int_equal(window_sketches(f->dir, &w, err, sizeof(err)), 0);
	assert_int_equal(w.nsketched, 1);
	assert_true(llround(w.all_sources) == 0);
	window_free(&w);
	/* A restart reads the file again before adding to it. */
	summary_reload(f->s);
	assert_int_equal(add_sketched(f->s, D + 60, 0, 5, 2), 0);
	w = window(f, D, D + H);
	assert_int_equal(window_sketches(f->dir, &w, err, sizeof(err)), 0);
	assert_int_equal(w.nsketched, 2);
	assert_true(llround(w.all_sources) == 5);
	window_free(&w);
	hll_free(j.all_src);
	hll_free(j.all_dst);
}

/* Hourly buckets 16 days older than the newest go; daily ones stay. */
static void
test_prune(void **state)
{
	static const uint32_t i[] = {TCP22};
	static const double a[] = {1.0};
	struct fixture *f = *state;
	char path[160];

	assert_int_equal(add(f->s, D, 1, 1, i, a), 0);
	assert_int_equal(add(f->s, D + 15 * DAY, 1, 1, i, a), 0);
	snprintf(path, sizeof(path), "%s/summary/hour/%lld.sum", f->dir,
	    (long long)D);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(add(f->s, D + 16 * DAY + H, 1, 1, i, a), 0);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/summary/hour/%lld.sum", f->dir,
	    (long long)(D + 15 * DAY));
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/summary/day/%lld.sum", f->dir,
	    (long long)D);
	assert_int_equal(access(path, F_OK), 0);
}

/*
 * Daily buckets are cut at the midnights of DATADIR's zone.  In Asia/Tokyo
 * 2024-01-01 starts at D - 9 h, so the interval a minute before (tcp/22
 * 5.0) is in 2023-12-31's bucket, not in the 16-day window from then:
 * 2 intervals, tcp/22 1 / 2, tcp/80 (2 + 4) / 2.  In UTC both would share
 * 2023-12-31's bucket.  Asked in UTC, the daily buckets cannot answer.
 */
static void
test_zone_days(void **state)
{
	static const uint32_t i1[] = {TCP22}, i2[] = {TCP22, TCP80},
			      i3[] = {TCP80};
	static const double a1[] = {5.0}, a2[] = {1.0, 2.0}, a3[] = {4.0};
	const int64_t jd = D - 9 * H; /* 2024-01-01T00:00+09:00 */
	struct fixture *f = *state;
	struct window w;
	char err[512] = "";

	assert_int_equal(zone_use("Asia/Tokyo", err, sizeof(err)), 0);
	assert_int_equal(datadir_save_zone(f->dir, "Asia/Tokyo"), 0);
	assert_int_equal(add(f->s, jd - 60, 2, 1, i1, a1), 0);
	assert_int_equal(add(f->s, jd, 2, 2, i2, a2), 0);
	assert_int_equal(add(f->s, jd + DAY - 60, 2, 1, i3, a3), 0);
	w = window(f, jd, jd + 16 * DAY);
	assert_true(w.nintervals == 2);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.idx[0], TCP80);
	assert_true(close_to(w.mean[0], 3.0));
	assert_true(close_to(window_mean(&w, TCP22), 0.5));
	window_free(&w);
	assert_int_equal(zone_use("UTC", err, sizeof(err)), 0);
	assert_int_equal(summary_window(f->dir, D, D + 16 * DAY, &w, err,
			     sizeof(err)),
	    -1);
	if (strstr(err, "Asia/Tokyo") == NULL || strstr(err, "rebuild") == NULL)
		fail_msg("\"%s\" does not say why", err);
}

/*
 * America/New_York's 2023-11-05 has 25 hours: its bucket holds the
 * intervals from 04:00Z to 05:00Z the next day, the last one 23:59 EST,
 * which a UTC day would put in 2023-11-06.
 */
static void
test_long_day(void **state)
{
	static const uint32_t i[] = {TCP22};
	static const double a1[] = {1.0}, a2[] = {3.0}, a3[] = {100.0};
	const int64_t start = 1699156800, end = 1699246800;
	struct fixture *f = *state;
	struct bucket b;
	char err[256] = "", path[160];

	assert_int_equal(zone_use("America/New_York", err, sizeof(err)), 0);
	assert_int_equal(add(f->s, start, 1, 1, i, a1), 0);
	assert_int_equal(add(f->s, end - 60, 1, 1, i, a2), 0);
	assert_int_equal(add(f->s, end, 1, 1, i, a3), 0);
	memset(&b, 0, sizeof(b));
	b.sum = calloc(KEYIDX_COUNT, sizeof(double));
	assert_non_null(b.sum);
	snprintf(path, sizeof(path), "%s/summary/day/%lld.sum", f->dir,
	    (long long)start);
	if (bucket_read(path, start, end, &b, err, sizeof(err)) == -1)
		fail_msg("%s: %s", path, err);
	assert_true(b.nintervals == 2);
	assert_true(close_to(b.sum[TCP22], 4.0));
	free(b.sum);
	assert_int_equal(zone_use("UTC", err, sizeof(err)), 0);
}

/*
 * A past day whose hourly buckets were pruned is read from its daily
 * bucket, not answered as empty; a past hour cannot be, and says so.
 */
static void
test_pruned_day(void **state)
{
	static const uint32_t i[] = {TCP22};
	static const double a1[] = {2.0}, a2[] = {7.0};
	struct fixture *f = *state;
	struct window w;
	char err[512] = "";

	assert_int_equal(add(f->s, D + H, 1, 1, i, a1), 0);
	assert_int_equal(add(f->s, D + 20 * DAY, 1, 1, i, a2), 0);
	assert_int_equal(datadir_save_last_final(f->dir, D + 20 * DAY), 0);
	w = window(f, D, D + DAY);
	assert_true(w.nintervals == 1);
	assert_true(close_to(window_mean(&w, TCP22), 2.0));
	window_free(&w);
	assert_int_equal(summary_window(f->dir, D + H, D + 2 * H, &w, err,
			     sizeof(err)),
	    -1);
	if (strstr(err, "hourly") == NULL)
		fail_msg("\"%s\" does not say why", err);
	/* The last 15 days are still read by the hour. */
	w = window(f, D + 20 * DAY - 14 * DAY, D + 20 * DAY + H);
	assert_true(w.nintervals == 1);
	window_free(&w);
}

static void
test_window_check(void **state)
{
	uint32_t idx[2] = {TCP22, TCP80};
	double mean[2] = {2.0, 1.0};
	struct window w;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.nintervals = 1;
	w.sensors = 1;
	w.n = 2;
	w.idx = idx;
	w.mean = mean;
	w.total = 3.0;
	assert_null(window_check(&w));
	mean[1] = 3.0; /* out of rank order */
	w.total = 5.0;
	assert_non_null(window_check(&w));
	mean[1] = 2.0; /* a tie: ranked by index, 22 before 80 */
	w.total = 4.0;
	assert_null(window_check(&w));
	idx[0] = TCP80;
	idx[1] = TCP22;
	assert_non_null(window_check(&w));
	idx[0] = TCP22;
	idx[1] = TCP80;
	mean[1] = 0; /* a mean must be positive */
	w.total = 2.0;
	assert_non_null(window_check(&w));
	mean[1] = 1.0;
	w.total = 3.5; /* total not the sum */
	assert_non_null(window_check(&w));
	w.total = 3.0;
	w.nintervals = 0; /* keys without intervals */
	assert_non_null(window_check(&w));
	w.nintervals = 1;
	w.sensors = -1;
	assert_non_null(window_check(&w));
	w.sensors = 1;
	idx[1] = KEYIDX_COUNT;
	assert_non_null(window_check(&w));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_means, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_added_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_windows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sketches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sketches_empty, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zone_days, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_day, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pruned_day, setup, teardown),
	    cmocka_unit_test(test_window_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
