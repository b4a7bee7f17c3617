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
 * restart) go to the next row, never twice.  Files are read back with
 * librrd's rrd_fetch_r.
 */
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
	    cmocka_unit_test_setup_teardown(test_failed_file_retried, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_fault_rows, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
