/*
 * Unit tests for the per-sensor sums of the summary buckets
 * (aggregator/sensbucket.h, written by summary.c, read by window.h's
 * window_sensors() and ranked by sensrank.h): per sensor, the intervals
 * it reported, its packets and drops and its packets per key, summed over
 * a window; an interval added twice (a retry, a restart) counts once;
 * a sensor's mean is its sum over its reported intervals, a group's its
 * sensors' sums over their intervals summed; the ratio is to the fleet's
 * window mean; hourly files go with the hourly .sum; a damaged file is an
 * error naming it.  D is 2024-01-01T00:00:00Z; intervals are 60 s.
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

#include "datadir.h"
#include "keyidx.h"
#include "rrdw.h"
#include "sensbucket.h"
#include "sensrank.h"
#include "summary.h"
#include "tmpdir.h"
#include "window.h"

#define D ((int64_t)1704067200)
#define H 3600
#define DAY 86400
#define TCP22 22
#define TCP80 80
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
	if (tmpdir_make(f->dir, sizeof(f->dir), "sensbucket") == -1)
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

/* One sensor's record of an interval: up to 12 keys. */
struct rec {
	const char *id;
	uint64_t packets, drops;
	size_t n;
	uint32_t idx[12];
	uint64_t v[12];
};

/*
 * One interval from the sensors' records, with its averages as
 * average.c makes them (per key: the sum over the n records / n).
 */
static int
add(struct summary *s, int64_t start, size_t n, const struct rec *r)
{
	struct rrd_health h[8];
	struct rrd_sensor_keys k[8];
	uint32_t idx[64];
	double avg[64];
	struct rrd_job j;
	size_t i, m, x;

	memset(&j, 0, sizeof(j));
	j.start = start;
	j.len = 60;
	j.nsensors = (uint32_t)n;
	for (i = 0; i < n; i++) {
		snprintf(h[i].id, sizeof(h[i].id), "%s", r[i].id);
		h[i].packets = r[i].packets;
		h[i].drops = r[i].drops;
		memset(&k[i], 0, sizeof(k[i]));
		snprintf(k[i].id, sizeof(k[i].id), "%s", r[i].id);
		k[i].n = r[i].n;
		k[i].idx = (uint32_t *)(uintptr_t)r[i].idx;
		k[i].packets = (uint64_t *)(uintptr_t)r[i].v;
		for (m = 0; m < r[i].n; m++) {
			for (x = 0; x < j.nvalues; x++)
				if (idx[x] == r[i].idx[m])
					break;
			if (x == j.nvalues) {
				idx[j.nvalues++] = r[i].idx[m];
				avg[x] = 0;
			}
			avg[x] += (double)r[i].v[m] / (double)n;
		}
	}
	/* The summary wants key indices ascending. */
	for (i = 1; i < j.nvalues; i++)
		for (m = i; m > 0 && idx[m - 1] > idx[m]; m--) {
			uint32_t ti = idx[m];
			double ta = avg[m];

			idx[m] = idx[m - 1];
			avg[m] = avg[m - 1];
			idx[m - 1] = ti;
			avg[m - 1] = ta;
		}
	j.idx = idx;
	j.avg = avg;
	j.nhealth = j.nsens = n;
	j.health = h;
	j.sens = k;
	return summary_add(s, &j);
}

/*
 * D:       A tcp/22 10, tcp/80 4 (100 seen, 1 dropped); B tcp/22 2 (50)
 * D + 60:  A tcp/22 6 (30, 1 dropped); C udp/53 5 (5)   (added twice)
 * D + H:   B tcp/80 9 (9)
 * The fleet over the two hours, 3 intervals: tcp/22 (6 + 3) / 3,
 * tcp/80 (2 + 9) / 3, udp/53 2.5 / 3.
 */
static void
add_three(struct summary *s)
{
	const struct rec r1[] = {
	    {"A", 100, 1, 2, {TCP22, TCP80}, {10, 4}},
	    {"B", 50, 0, 1, {TCP22}, {2}},
	};
	const struct rec r2[] = {
	    {"C", 5, 0, 1, {UDP53}, {5}},
	    {"A", 30, 1, 1, {TCP22}, {6}},
	};
	const struct rec r3[] = {{"B", 9, 0, 1, {TCP80}, {9}}};

	assert_int_equal(add(s, D, 2, r1), 0);
	assert_int_equal(add(s, D + 60, 2, r2), 0);
	assert_int_equal(add(s, D + 60, 2, r2), 0);
	assert_int_equal(add(s, D + H, 1, r3), 0);
}

static void
sensors(const struct fixture *f, int64_t start, int64_t end,
    struct sensbucket *b)
{
	char err[512] = "";

	sensbucket_init(b);
	if (window_sensors(f->dir, start, end, b, err, sizeof(err)) == -1)
		fail_msg("window_sensors: %s", err);
}

static void
test_sums(void **state)
{
	struct fixture *f = *state;
	const struct sens_sensor *a, *b, *c;
	struct sensbucket sb;

	add_three(f->s);
	sensors(f, D, D + 2 * H, &sb);
	assert_int_equal(sb.nintervals, 3);
	assert_int_equal(sb.n, 3);
	assert_non_null(a = sensbucket_find(&sb, "A"));
	assert_non_null(b = sensbucket_find(&sb, "B"));
	assert_non_null(c = sensbucket_find(&sb, "C"));
	assert_null(sensbucket_find(&sb, "D"));
	assert_int_equal(a->reported, 2);
	assert_int_equal(a->packets, 130);
	assert_int_equal(a->drops, 2);
	assert_int_equal(a->n, 2);
	assert_int_equal(sens_sum(a, TCP22), 16);
	assert_int_equal(sens_sum(a, TCP80), 4);
	assert_int_equal(sens_sum(a, UDP53), 0);
	assert_int_equal(b->reported, 2);
	assert_int_equal(sens_sum(b, TCP22), 2);
	assert_int_equal(sens_sum(b, TCP80), 9);
	assert_int_equal(c->reported, 1);
	assert_int_equal(sens_sum(c, UDP53), 5);
	sensbucket_free(&sb);

	/* The first hour alone; the daily bucket gives the same day. */
	sensors(f, D, D + H, &sb);
	assert_int_equal(sb.nintervals, 2);
	assert_int_equal(sensbucket_find(&sb, "B")->reported, 1);
	assert_int_equal(sens_sum(sensbucket_find(&sb, "B"), TCP80), 0);
	sensbucket_free(&sb);
	sensors(f, D, D + DAY, &sb);
	assert_int_equal(sb.nintervals, 3);
	assert_int_equal(sens_sum(sensbucket_find(&sb, "A"), TCP22), 16);
	sensbucket_free(&sb);

	/* A restart reads the files back and adds nothing twice. */
	summary_reload(f->s);
	add_three(f->s);
	sensors(f, D, D + 2 * H, &sb);
	assert_int_equal(sb.nintervals, 3);
	assert_int_equal(sensbucket_find(&sb, "A")->reported, 2);
	assert_int_equal(sens_sum(sensbucket_find(&sb, "A"), TCP22), 16);
	sensbucket_free(&sb);
}

static void
test_rank(void **state)
{
	struct fixture *f = *state;
	const char *a[] = {"A"}, *c[] = {"C"}, *g[] = {"A", "C", "X", "A"};
	struct sensbucket sb;
	struct sensrank r;
	struct window w;
	char err[512] = "";

	add_three(f->s);
	sensors(f, D, D + 2 * H, &sb);
	assert_int_equal(summary_window(f->dir, D, D + 2 * H, &w, err,
			     sizeof(err)),
	    0);
	sensrank(&sb, a, 1, &w, 10, &r);
	assert_int_equal(r.reported, 2);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.idx[0], TCP22);
	assert_true(close_to(r.mean[0], 8));
	assert_true(close_to(r.fleet[0], 3));
	assert_true(close_to(r.ratio[0], 8.0 / 3));
	assert_false(r.only[0]);
	assert_int_equal(r.idx[1], TCP80);
	assert_true(close_to(r.mean[1], 2));
	assert_true(close_to(r.ratio[1], 2 / (11.0 / 3)));
	sensrank(&sb, c, 1, &w, 10, &r);
	assert_int_equal(r.n, 1);
	assert_true(close_to(r.mean[0], 5));
	assert_true(close_to(r.fleet[0], 2.5 / 3));
	assert_true(r.only[0]);
	/* A group: (16 + 0) / 3, 5 / 3, 4 / 3; an unknown id adds nothing. */
	sensrank(&sb, g, 4, &w, 10, &r);
	assert_int_equal(r.reported, 3);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.idx[0], TCP22);
	assert_int_equal(r.idx[1], UDP53);
	assert_int_equal(r.idx[2], TCP80);
	assert_true(close_to(r.mean[0], 16.0 / 3));
	assert_true(close_to(r.mean[1], 5.0 / 3));
	assert_true(close_to(r.mean[2], 4.0 / 3));
	assert_false(r.only[1]);
	/* Top 2 only. */
	sensrank(&sb, g, 4, &w, 2, &r);
	assert_int_equal(r.n, 2);
	window_free(&w);
	sensbucket_free(&sb);
}

/* Twelve keys, 12 down to 1 packets: the top 10, most first. */
static void
test_top_ten(void **state)
{
	struct fixture *f = *state;
	struct rec r = {"S", 0, 0, 12, {0}, {0}};
	const char *id[] = {"S"};
	struct sensbucket sb;
	struct sensrank k;
	struct window w;
	char err[512] = "";
	size_t i;

	for (i = 0; i < 12; i++) {
		r.idx[i] = 1000 + (uint32_t)i;
		r.v[i] = i < 6 ? 12 - i : 3; /* ties rank by key index */
	}
	assert_int_equal(add(f->s, D, 1, &r), 0);
	sensors(f, D, D + H, &sb);
	assert_int_equal(summary_window(f->dir, D, D + H, &w, err, sizeof(err)),
	    0);
	sensrank(&sb, id, 1, &w, 10, &k);
	assert_int_equal(k.n, 10);
	for (i = 0; i < 10; i++) {
		assert_int_equal(k.idx[i], 1000 + i);
		assert_true(close_to(k.ratio[i], 1));
		assert_true(k.only[i]);
	}
	window_free(&w);
	sensbucket_free(&sb);
}

static void
sens_path(const struct fixture *f, int64_t t, char *path, size_t len)
{
	datadir_sens_bucket(f->dir, DATADIR_SUM_HOUR, t, path, len);
}

static void
damage(const char *path, long off, const void *bytes, size_t n)
{
	FILE *fp;

	fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	assert_int_equal(fwrite(bytes, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void
expect_damaged(const struct fixture *f, const char *path, const char *why)
{
	struct sensbucket sb;
	char err[512] = "";

	sensbucket_init(&sb);
	assert_int_equal(window_sensors(f->dir, D, D + H, &sb, err,
			     sizeof(err)),
	    -1);
	if (strstr(err, path) == NULL || strstr(err, why) == NULL)
		fail_msg("\"%s\" lacks \"%s\" or \"%s\"", err, path, why);
	sensbucket_free(&sb);
}

/*
 * The header: magic 0-3, version 4-7, start 8-15, last 16-23, intervals
 * 24-31, sensors 32-35, 0 36-39; then sensor A at 40: id length, "A",
 * reported (42), packets, drops, n (66), keys at 70.
 */
static void
test_damaged(void **state)
{
	struct fixture *f = *state;
	char path[200];
	struct stat st;
	const uint32_t big = KEYIDX_COUNT, k80 = TCP80;
	const uint64_t zero = 0, many = 9;

	add_three(f->s);
	sens_path(f, D, path, sizeof(path));
	damage(path, 0, "XSNS", 4);
	expect_damaged(f, path, "bad magic");
	damage(path, 0, "TSNS", 4);
	damage(path, 24, &zero, 8);
	expect_damaged(f, path, "impossible interval count");
	damage(path, 24, &(uint64_t){2}, 8);
	damage(path, 41, "B", 1);
	expect_damaged(f, path, "sensors out of order");
	damage(path, 41, "?", 1);
	expect_damaged(f, path, "not a sensor id");
	damage(path, 41, "A", 1);
	damage(path, 42, &many, 8);
	expect_damaged(f, path, "intervals reported");
	damage(path, 42, &(uint64_t){2}, 8);
	damage(path, 70, &big, 4);
	expect_damaged(f, path, "key indices");
	damage(path, 70, &k80, 4); /* tcp/80 before tcp/80 */
	expect_damaged(f, path, "key indices");
	damage(path, 70, &(uint32_t){TCP22}, 4);
	damage(path, 74, &zero, 8);
	expect_damaged(f, path, "sum of 0");
	damage(path, 74, &(uint64_t){16}, 8);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 1), 0);
	expect_damaged(f, path, "truncated");
	assert_int_equal(truncate(path, st.st_size + 1), 0);
	expect_damaged(f, path, "bytes after");
	/* Adding to it fails too (and says so in the log). */
	summary_reload(f->s);
	{
		const struct rec r = {"A", 1, 0, 1, {TCP22}, {1}};

		assert_int_equal(add(f->s, D + 120, 1, &r), -1);
	}
}

/* Hourly .sens files go with the hourly .sum; daily ones stay. */
static void
test_prune(void **state)
{
	struct fixture *f = *state;
	const struct rec r = {"A", 1, 0, 1, {TCP22}, {1}};
	char path[200];

	assert_int_equal(add(f->s, D, 1, &r), 0);
	sens_path(f, D, path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(add(f->s, D + 16 * DAY + H, 1, &r), 0);
	assert_int_equal(access(path, F_OK), -1);
	datadir_sens_bucket(f->dir, DATADIR_SUM_DAY, D, path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);
}

/* Turned off (sensor_sums = no), the .sum is written, no .sens. */
static void
test_off(void **state)
{
	struct fixture *f = *state;
	const struct rec r = {"A", 1, 0, 1, {TCP22}, {1}};
	char path[200];

	summary_sensor_sums(f->s, 0);
	assert_int_equal(add(f->s, D, 1, &r), 0);
	sens_path(f, D, path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	datadir_sum_bucket(f->dir, DATADIR_SUM_HOUR, D, path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sums, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rank, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_top_ten, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_off, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
