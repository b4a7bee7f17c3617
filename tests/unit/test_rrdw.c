/*
 * Unit tests for rrdw's first write of a key: a key seen for the first
 * time reads 0 in the intervals written earlier in the same UTC day (so
 * the hourly and daily rows it appears in hold its true mean), unknown in
 * a gap no sensor reported and before the day, and the same after the
 * writer is restarted (the day's intervals are then read back from
 * sensors.rrd); a file that could not be made is made on the retry,
 * zeros included, while the others are not written twice.  Fault rows
 * (DATADIR/faults/<id>.rrd): 0 in intervals without faults, and counts
 * that could not be written (a file that failed, a row written before a
 * restart) go to the next row, never twice.  Updates held and written
 * once per file (rrdw_hold) give every row, at every resolution, that
 * writing one interval at a time gives; a held write that fails is
 * written by the same jobs again, unheld.  A key first seen after a
 * restart reads 0 sources in the day's earlier intervals that sensors
 * sent sketches for, unknown in the others.  Files are read back with
 * librrd's rrd_fetch_r.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cmocka.h>
#include <rrd.h>

#include "keyidx.h"
#include "rrdw.h"
#include "tmpdir.h"

#define STEP 60
#define DAY0 1700006400 /* 2023-11-15 00:00 UTC */
#define T0 (DAY0 + 10 * 3600)

struct fixture {
	char dir[64];
	struct rrdw *w;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	assert_int_equal(tmpdir_make(f->dir, sizeof(f->dir), "rrdw"), 0);
	f->w = rrdw_new(f->dir, STEP, NULL, err, sizeof(err));
	assert_non_null(f->w);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rrdw_free(f->w);
	assert_int_equal(tmpdir_remove(f->dir), 0);
	free(f);
	return 0;
}

/* One interval with tcp/22 at 1 and, if campaign > 0, tcp/5168. */
static size_t
try_interval(struct rrdw *w, int64_t start, double campaign)
{
	uint32_t idx[2] = {keyidx(PROTO_TCP, 22), keyidx(PROTO_TCP, 5168)};
	double avg[2] = {1, campaign};
	struct rrd_job j = {.start = start,
	    .len = STEP,
	    .nsensors = 2,
	    .nvalues = campaign > 0 ? 2 : 1,
	    .idx = idx,
	    .avg = avg};

	return rrdw_write(w, &j);
}

static void
write_interval(struct rrdw *w, int64_t start, double campaign)
{
	assert_int_equal(try_interval(w, start, campaign), 0);
}

/* DS k of file (under dir) in the interval [t, t + STEP), NAN if unknown. */
static double
read_ds(const char *dir, const char *file, unsigned long k, int64_t t)
{
	char path[256], **names = NULL;
	time_t start = (time_t)t, end = (time_t)(t + STEP);
	unsigned long step = STEP, nds = 0, i;
	rrd_value_t *data = NULL;
	double v;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	rrd_clear_error();
	assert_int_equal(rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &nds,
			     &names, &data),
	    0);
	assert_int_equal(step, STEP);
	assert_true(k < nds);
	/* Rows are stamped start + (i + 1) * step. */
	v = data[(t - start) / STEP * nds + k];
	for (i = 0; i < nds; i++)
		free(names[i]);
	free(names);
	free(data);
	return v;
}

static double
read_at(const char *dir, int64_t t)
{
	return read_ds(dir, "rrd/tcp/5168.rrd", 0, t);
}

/* A faults-only job: sensor s1 with late records, s2 with refusals. */
static size_t
write_faults(struct rrdw *w, int64_t start, uint64_t late, uint64_t refused)
{
	struct rrd_fault fl[2] = {{.id = "s1", .late = late},
	    {.id = "s2", .refused = refused}};
	struct rrd_job j = {.faults_only = 1, .start = start, .len = STEP};

	/* Sorted by id; a sensor without faults is not in the job. */
	j.fault = late > 0 ? fl : fl + 1;
	j.nfault = (late > 0) + (refused > 0);
	if (late == 0 && refused == 0)
		j.fault = NULL;
	return rrdw_write(w, &j);
}

static void
test_fault_rows(void **state)
{
	struct fixture *f = *state;
	char err[256], path[128];

	assert_int_equal(write_faults(f->w, T0, 2, 0), 0);
	assert_int_equal(write_faults(f->w, T0 + STEP, 0, 3), 0);
	assert_int_equal(write_faults(f->w, T0 + 2 * STEP, 0, 0), 0);
	assert_true(read_ds(f->dir, "faults/s1.rrd", 0, T0) == 2);
	assert_true(read_ds(f->dir, "faults/s1.rrd", 0, T0 + STEP) == 0);
	assert_true(read_ds(f->dir, "faults/s1.rrd", 1, T0 + STEP) == 0);
	assert_true(read_ds(f->dir, "faults/s2.rrd", 1, T0 + STEP) == 3);
	assert_true(read_ds(f->dir, "faults/s2.rrd", 1, T0 + 2 * STEP) == 0);
	/* Restarted within an interval already written: into the next row. */
	rrdw_free(f->w);
	f->w = rrdw_new(f->dir, STEP, NULL, err, sizeof(err));
	assert_non_null(f->w);
	assert_int_equal(write_faults(f->w, T0 + 2 * STEP, 5, 0), 0);
	assert_int_equal(write_faults(f->w, T0 + 3 * STEP, 1, 0), 0);
	assert_true(read_ds(f->dir, "faults/s1.rrd", 0, T0 + 2 * STEP) == 0);
	assert_true(read_ds(f->dir, "faults/s1.rrd", 0, T0 + 3 * STEP) == 6);
	/* s2 was found on disk after the restart: it gets its 0 too. */
	assert_true(read_ds(f->dir, "faults/s2.rrd", 1, T0 + 3 * STEP) == 0);
	/* A file that cannot be written: its counts wait for the next row. */
	snprintf(path, sizeof(path), "%s/faults/s1.rrd", f->dir);
	assert_int_equal(truncate(path, 0), 0); /* unreadable as an RRD */
	assert_int_equal(write_faults(f->w, T0 + 4 * STEP, 4, 0), 1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(write_faults(f->w, T0 + 5 * STEP, 1, 0), 0);
	assert_true(read_ds(f->dir, "faults/s1.rrd", 0, T0 + 5 * STEP) == 5);
}

static void
check_zeros_then(const char *dir, int64_t from, int64_t first, int64_t gap)
{
	int64_t t;

	for (t = from; t < first; t += STEP) {
		double v = read_at(dir, t);

		if (t == gap)
			assert_true(v != v);
		else
			assert_true(v == 0);
	}
	assert_true(read_at(dir, first) == 7);
	assert_true(read_at(dir, from - STEP) != read_at(dir, from - STEP));
}

static void
test_new_key_reads_zero_earlier_that_day(void **state)
{
	struct fixture *f = *state;
	int64_t t;

	for (t = T0; t < T0 + 10 * STEP; t += STEP)
		if (t != T0 + 5 * STEP) /* no sensor reported it */
			write_interval(f->w, t, 0);
	write_interval(f->w, T0 + 10 * STEP, 7);
	check_zeros_then(f->dir, T0, T0 + 10 * STEP, T0 + 5 * STEP);
}

static void
test_new_key_after_restart(void **state)
{
	struct fixture *f = *state;
	char err[256];
	int64_t t;

	for (t = T0; t < T0 + 10 * STEP; t += STEP)
		if (t != T0 + 3 * STEP)
			write_interval(f->w, t, 0);
	rrdw_free(f->w);
	f->w = rrdw_new(f->dir, STEP, NULL, err, sizeof(err));
	assert_non_null(f->w);
	/* The aggregator may hand the last interval over again. */
	write_interval(f->w, T0 + 9 * STEP, 0);
	write_interval(f->w, T0 + 10 * STEP, 7);
	check_zeros_then(f->dir, T0, T0 + 10 * STEP, T0 + 3 * STEP);
}

/* As try_interval, sketched: tcp/22 with sources and targets when told. */
static void
write_sketched(struct rrdw *w, int64_t start, uint32_t nsketched,
    double campaign)
{
	uint32_t idx[2] = {keyidx(PROTO_TCP, 22), keyidx(PROTO_TCP, 5168)};
	double avg[2] = {1, campaign}, src[2] = {3, 40}, dst[2] = {1, 2};
	struct rrd_job j = {.start = start,
	    .len = STEP,
	    .nsensors = 2,
	    .nsketched = nsketched,
	    .all_sources = nsketched ? 41 : NAN,
	    .nvalues = campaign > 0 ? 2 : 1,
	    .idx = idx,
	    .avg = avg,
	    .sources = src,
	    .targets = dst};

	if (nsketched == 0)
		src[0] = src[1] = dst[0] = dst[1] = NAN;
	assert_int_equal(rrdw_write(w, &j), 0);
}

/*
 * A key first seen after a restart reads 0 sources in the day's earlier
 * intervals that some sensor sent sketches for (sensors.rrd's sketched,
 * read back), unknown in those none did; sensors.rrd has the fleet's.
 */
static void
test_new_key_sources_after_restart(void **state)
{
	struct fixture *f = *state;
	char err[256];
	int64_t t;

	for (t = T0; t < T0 + 6 * STEP; t += STEP)
		write_sketched(f->w, t, t < T0 + 3 * STEP ? 0 : 2, 0);
	rrdw_free(f->w);
	f->w = rrdw_new(f->dir, STEP, NULL, err, sizeof(err));
	assert_non_null(f->w);
	write_sketched(f->w, T0 + 6 * STEP, 2, 7);
	for (t = T0; t < T0 + 6 * STEP; t += STEP) {
		double s = read_ds(f->dir, "rrd/tcp/5168.rrd", 1, t);
		double d = read_ds(f->dir, "rrd/tcp/5168.rrd", 2, t);

		assert_true(read_at(f->dir, t) == 0);
		if (t < T0 + 3 * STEP)
			assert_true(isnan(s) && isnan(d));
		else
			assert_true(s == 0 && d == 0);
	}
	assert_true(
	    read_ds(f->dir, "rrd/tcp/5168.rrd", 1, T0 + 6 * STEP) == 40);
	assert_true(read_ds(f->dir, "rrd/tcp/5168.rrd", 2, T0 + 6 * STEP) == 2);
	assert_true(isnan(read_ds(f->dir, "rrd/tcp/22.rrd", 1, T0)));
	assert_true(read_ds(f->dir, "rrd/tcp/22.rrd", 1, T0 + 3 * STEP) == 3);
	assert_true(isnan(read_ds(f->dir, "rrd/sensors.rrd", 1, T0)));
	assert_true(read_ds(f->dir, "rrd/sensors.rrd", 2, T0) == 0);
	assert_true(read_ds(f->dir, "rrd/sensors.rrd", 1, T0 + 3 * STEP) == 41);
	assert_true(read_ds(f->dir, "rrd/sensors.rrd", 2, T0 + 3 * STEP) == 2);
}

static void
test_not_filled_across_days(void **state)
{
	struct fixture *f = *state;
	int64_t day1 = DAY0 + 86400, t;

	for (t = day1 - 3 * STEP; t < day1 + 2 * STEP; t += STEP)
		write_interval(f->w, t, 0);
	write_interval(f->w, day1 + 2 * STEP, 7);
	check_zeros_then(f->dir, day1, day1 + 2 * STEP, -1);
}

/*
 * A file that cannot be made (here a directory in its place, as a full
 * disk would) fails the interval; written again, only that file is
 * written, with its zeros, and the others are not written twice.
 */
static void
test_failed_file_retried(void **state)
{
	struct fixture *f = *state;
	char path[128];
	int64_t t;

	for (t = T0; t < T0 + 3 * STEP; t += STEP)
		write_interval(f->w, t, 0);
	snprintf(path, sizeof(path), "%s/rrd/tcp/5168.rrd", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(try_interval(f->w, T0 + 3 * STEP, 7), 1);
	assert_int_equal(try_interval(f->w, T0 + 3 * STEP, 7), 1);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(try_interval(f->w, T0 + 3 * STEP, 7), 0);
	write_interval(f->w, T0 + 4 * STEP, 7);
	check_zeros_then(f->dir, T0, T0 + 3 * STEP, -1);
	assert_true(read_at(f->dir, T0 + 4 * STEP) == 7);
}

/*
 * Four hours across a UTC midnight: tcp/22 throughout, udp/53 for half an
 * hour, tcp/5168 new in the afternoon (its earlier zeros back-filled),
 * two intervals no sensor reported, two sensors' health.
 */
#define HELD_FROM (DAY0 + 86400 - 2 * 3600)
#define HELD_N 240

static int
held_skipped(int i)
{
	return i == 30 || i == 150;
}

static void
held_job(struct rrd_job *j, int i, uint32_t *idx, double *avg,
    struct rrd_health *h)
{
	size_t n = 0;

	memset(j, 0, sizeof(*j));
	j->start = HELD_FROM + (int64_t)i * STEP;
	j->len = STEP;
	j->nsensors = 1 + (i % 3 != 0);
	idx[n] = keyidx(PROTO_TCP, 22);
	avg[n++] = 1 + (i % 7) / 4.0;
	if (i >= 100) {
		idx[n] = keyidx(PROTO_TCP, 5168);
		avg[n++] = i / 10.0;
	}
	if (i >= 50 && i < 80) {
		idx[n] = keyidx(PROTO_UDP, 53);
		avg[n++] = 3.5;
	}
	j->nvalues = n;
	j->idx = idx;
	j->avg = avg;
	snprintf(h[0].id, sizeof(h[0].id), "s1");
	snprintf(h[1].id, sizeof(h[1].id), "s2");
	h[0].packets = (uint64_t)i * 3;
	h[1].packets = (uint64_t)i * 5;
	h[0].drops = h[1].drops = (uint64_t)(i % 2);
	j->nhealth = j->nsensors;
	j->health = h;
}

/* Every job, in order; the faults of s1 half-way. */
static size_t
held_write_all(struct rrdw *w)
{
	struct rrd_health h[2];
	struct rrd_job j;
	uint32_t idx[3];
	double avg[3];
	size_t failed = 0;
	int i;

	for (i = 0; i < HELD_N; i++) {
		if (held_skipped(i))
			continue;
		held_job(&j, i, idx, avg, h);
		failed += rrdw_write(w, &j);
		if (i == HELD_N / 2)
			failed += write_faults(w, j.start, 4, 0);
	}
	return failed;
}

static const char *const held_files[] = {"rrd/tcp/22.rrd", "rrd/tcp/5168.rrd",
    "rrd/udp/53.rrd", "rrd/sensors.rrd", "rrd/sensor/s1.rrd",
    "rrd/sensor/s2.rrd", "faults/s1.rrd"};

/* Every row of every file at every resolution: the same in a and b. */
static void
held_compare(const char *a, const char *b)
{
	static const unsigned long res[] = {STEP, 3600, 86400};
	char pa[256], pb[256], **na = NULL, **nb = NULL;
	unsigned long ra, rb, da, db, i, k, r;
	rrd_value_t *va = NULL, *vb = NULL;
	time_t s0, e0, s1, e1;
	size_t f;

	for (f = 0; f < sizeof(held_files) / sizeof(*held_files); f++)
		for (r = 0; r < 3; r++) {
			snprintf(pa, sizeof(pa), "%s/%s", a, held_files[f]);
			snprintf(pb, sizeof(pb), "%s/%s", b, held_files[f]);
			s0 = s1 = (time_t)(HELD_FROM - 86400);
			e0 = e1 = (time_t)(HELD_FROM + 2 * 86400);
			ra = rb = res[r];
			assert_int_equal(rrd_fetch_r(pa, "AVERAGE", &s0, &e0,
					     &ra, &da, &na, &va),
			    0);
			assert_int_equal(rrd_fetch_r(pb, "AVERAGE", &s1, &e1,
					     &rb, &db, &nb, &vb),
			    0);
			assert_int_equal(ra, rb);
			assert_int_equal(s0, s1);
			assert_int_equal(e0, e1);
			assert_int_equal(da, db);
			for (i = 0; i < (unsigned long)(e0 - s0) / ra * da;
			     i++) {
				if (va[i] != va[i]) {
					assert_true(vb[i] != vb[i]);
					continue;
				}
				if (va[i] != vb[i])
					fail_msg("%s row %lu (step %lu): %g "
						 "unheld, %g held",
					    held_files[f], i, ra, va[i], vb[i]);
			}
			for (k = 0; k < da; k++) {
				free(na[k]);
				free(nb[k]);
			}
			free(na);
			free(nb);
			free(va);
			free(vb);
		}
}

static void
test_held_equals_unheld(void **state)
{
	struct fixture *f = *state;
	char held[64], err[256], file[128];
	struct rrdw *w;

	assert_int_equal(held_write_all(f->w), 0);
	assert_int_equal(tmpdir_make(held, sizeof(held), "rrdw-held"), 0);
	assert_non_null(w = rrdw_new(held, STEP, NULL, err, sizeof(err)));
	assert_int_equal(rrdw_hold(w, 1), 0);
	assert_int_equal(held_write_all(w), 0);
	/* Held indeed: the file has only what the faults job flushed. */
	snprintf(file, sizeof(file), "%s/rrd/tcp/22.rrd", held);
	assert_int_equal(rrd_last_r(file), HELD_FROM + (HELD_N / 2 + 1) * STEP);
	assert_int_equal(rrdw_hold(w, 0), 0);
	assert_int_equal(rrd_last_r(file), HELD_FROM + HELD_N * STEP);
	held_compare(f->dir, held);
	rrdw_free(w);
	assert_int_equal(tmpdir_remove(held), 0);
}

/*
 * A file that cannot take its held updates (a directory in its place
 * when they are written) fails the flush; the same jobs written again
 * unheld, as the writer thread does then, write what is missing.
 */
static void
test_held_failure_rewritten(void **state)
{
	struct fixture *f = *state;
	char held[64], err[256], file[128], aside[128];
	struct rrdw *w;

	assert_int_equal(held_write_all(f->w), 0);
	assert_int_equal(tmpdir_make(held, sizeof(held), "rrdw-held"), 0);
	assert_non_null(w = rrdw_new(held, STEP, NULL, err, sizeof(err)));
	assert_int_equal(rrdw_hold(w, 1), 0);
	assert_int_equal(held_write_all(w), 0);
	snprintf(file, sizeof(file), "%s/rrd/tcp/5168.rrd", held);
	snprintf(aside, sizeof(aside), "%s/rrd/tcp/5168.aside", held);
	assert_int_equal(rename(file, aside), 0);
	assert_int_equal(mkdir(file, 0755), 0);
	assert_int_equal(rrdw_hold(w, 0), 1);
	assert_int_equal(rmdir(file), 0);
	assert_int_equal(rename(aside, file), 0);
	assert_int_equal(held_write_all(w), 0);
	held_compare(f->dir, held);
	rrdw_free(w);
	assert_int_equal(tmpdir_remove(held), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_new_key_reads_zero_earlier_that_day, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_key_after_restart, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_not_filled_across_days, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_new_key_sources_after_restart,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_file_retried, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_fault_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held_equals_unheld, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_held_failure_rewritten, setup,
		teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
