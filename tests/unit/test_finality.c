/*
 * Unit tests for finality (aggregator/finality.h, doc/CONTRACTS.md
 * contract 7): an interval is never final before its end on this clock;
 * then once every sensor heard from within active seconds has reported it
 * or a later one, or grace seconds after the later of its end and its
 * first record.  The sensors of final intervals are kept for the 4096
 * newest and loaded again for older ones.  Every expected value is worked
 * out by hand below.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "finality.h"

#define LEN 60
#define GRACE 30
#define ACTIVE 300
/* A multiple of 60. */
#define T ((int64_t)1700000040)

struct loads {
	size_t n;
	int64_t last;
};

/* Stands for the archive: every interval was reported by sensor 5. */
static void
load(int64_t start, struct sset *seen, void *arg)
{
	struct loads *l = arg;

	assert_int_equal(seen->bytes, 0);
	l->n++;
	l->last = start;
	sset_add(seen, 5);
}

static void
test_sset(void **state)
{
	struct sset s = {NULL, 0};

	(void)state;
	assert_false(sset_has(&s, 0));
	sset_add(&s, 0);
	sset_add(&s, 9);
	sset_add(&s, 100);
	assert_true(sset_has(&s, 0));
	assert_true(sset_has(&s, 9));
	assert_true(sset_has(&s, 100));
	assert_false(sset_has(&s, 1));
	assert_false(sset_has(&s, 8));
	assert_false(sset_has(&s, 101));
	assert_false(sset_has(&s, 100000));
	assert_true(s.bytes >= 13); /* bit 100 is in byte 12 */
	free(s.bits);
}

/* No sensor known: final at its end, not one second before. */
static void
test_never_before_end(void **state)
{
	struct finality *f =
	    finality_new(LEN, GRACE, ACTIVE, INT64_MIN, NULL, NULL);

	(void)state;
	assert_false(finality_due(f, T, T, T + 59));
	assert_true(finality_due(f, T, T, T + 60));
	/* Even with a grace long past by a first record in the past. */
	assert_false(finality_due(f, T, T - 1000, T + 59));
	finality_free(f);
}

/*
 * Sensor 0 reported T, sensor 1 only T - 60, both heard at T + 10: T waits
 * for sensor 1 until grace has passed since its end, T + 60 + 30.
 */
static void
test_grace_from_end(void **state)
{
	struct finality *f =
	    finality_new(LEN, GRACE, ACTIVE, INT64_MIN, NULL, NULL);

	(void)state;
	finality_heard(f, 0, T, T + 10);
	finality_heard(f, 1, T - 60, T + 10);
	assert_false(finality_due(f, T, T + 10, T + 60));
	assert_false(finality_due(f, T, T + 10, T + 89));
	assert_true(finality_due(f, T, T + 10, T + 90));
	finality_free(f);
}

/* A first record after the end: grace runs from it, T + 100 + 30. */
static void
test_grace_from_first(void **state)
{
	struct finality *f =
	    finality_new(LEN, GRACE, ACTIVE, INT64_MIN, NULL, NULL);

	(void)state;
	finality_heard(f, 0, T, T + 100);
	finality_heard(f, 1, T - 60, T + 100);
	assert_false(finality_due(f, T, T + 100, T + 129));
	assert_true(finality_due(f, T, T + 100, T + 130));
	finality_free(f);
}

/* Sensor 1 reports T (or a later interval): nothing to wait for. */
static void
test_complete(void **state)
{
	struct finality *f =
	    finality_new(LEN, GRACE, ACTIVE, INT64_MIN, NULL, NULL);

	(void)state;
	finality_heard(f, 0, T, T + 10);
	finality_heard(f, 1, T - 60, T + 10);
	assert_false(finality_due(f, T, T + 10, T + 60));
	finality_heard(f, 1, T + 60, T + 61);
	assert_true(finality_due(f, T, T + 10, T + 61));
	/* An older interval reported after does not move it back. */
	finality_heard(f, 1, T - 120, T + 62);
	assert_true(finality_due(f, T, T + 10, T + 62));
	assert_false(finality_due(f, T + 60, T + 61, T + 120));
	finality_free(f);
}

/*
 * With a grace of 1000 s: sensor 1, last heard at T + 10, is waited for
 * while T + 10 + 300 >= now, and not after.  A sensor only tracked (never
 * heard) is not waited for.
 */
static void
test_inactive(void **state)
{
	struct finality *f =
	    finality_new(LEN, 1000, ACTIVE, INT64_MIN, NULL, NULL);

	(void)state;
	finality_track(f, 3);
	finality_heard(f, 0, T, T + 10);
	finality_heard(f, 1, T - 60, T + 10);
	assert_false(finality_due(f, T, T + 10, T + 310));
	assert_true(finality_due(f, T, T + 10, T + 311));
	finality_free(f);
}

static void
test_mark(void **state)
{
	struct loads l = {0, 0};
	struct finality *f =
	    finality_new(LEN, GRACE, ACTIVE, INT64_MIN, load, &l);
	struct sset seen = {NULL, 0}, *s;

	(void)state;
	assert_int_equal(finality_last(f), INT64_MIN);
	assert_false(finality_is_final(f, T));
	sset_add(&seen, 0);
	sset_add(&seen, 2);
	finality_mark(f, T, &seen);
	assert_null(seen.bits);
	assert_int_equal(seen.bytes, 0);
	assert_int_equal(finality_last(f), T);
	assert_true(finality_is_final(f, T));
	assert_true(finality_is_final(f, T - 60));
	assert_false(finality_is_final(f, T + 60));
	/* The set given replaced what the archive said. */
	s = finality_seen(f, T);
	assert_true(sset_has(s, 0));
	assert_true(sset_has(s, 2));
	assert_false(sset_has(s, 1));
	assert_false(sset_has(s, 5));
	/* Not in memory: loaded, once. */
	l.n = 0;
	s = finality_seen(f, T - 60);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.last, T - 60);
	assert_true(sset_has(s, 5));
	sset_add(s, 7);
	s = finality_seen(f, T - 60);
	assert_int_equal(l.n, 1);
	assert_true(sset_has(s, 7));
	finality_free(f);
}

static void
test_last_final_given(void **state)
{
	struct finality *f = finality_new(LEN, GRACE, ACTIVE, T, NULL, NULL);

	(void)state;
	assert_int_equal(finality_last(f), T);
	assert_true(finality_is_final(f, T));
	assert_false(finality_is_final(f, T + 60));
	finality_free(f);
}

/*
 * 4097 intervals marked: the oldest, T, is forgotten and loaded again
 * when asked for; T + 120 (T + 60 goes to make room for T) is kept.
 */
static void
test_keep(void **state)
{
	struct loads l = {0, 0};
	struct finality *f =
	    finality_new(LEN, GRACE, ACTIVE, INT64_MIN, load, &l);
	struct sset seen;
	int64_t i;

	(void)state;
	for (i = 0; i < 4097; i++) {
		memset(&seen, 0, sizeof(seen));
		sset_add(&seen, 1);
		finality_mark(f, T + i * LEN, &seen);
	}
	l.n = 0;
	assert_false(sset_has(finality_seen(f, T), 1));
	assert_int_equal(l.n, 1);
	assert_true(sset_has(finality_seen(f, T + 2 * LEN), 1));
	assert_true(sset_has(finality_seen(f, T + 4096 * LEN), 1));
	assert_int_equal(l.n, 1);
	assert_int_equal(finality_last(f), T + 4096 * LEN);
	finality_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sset),
	    cmocka_unit_test(test_never_before_end),
	    cmocka_unit_test(test_grace_from_end),
	    cmocka_unit_test(test_grace_from_first),
	    cmocka_unit_test(test_complete),
	    cmocka_unit_test(test_inactive),
	    cmocka_unit_test(test_mark),
	    cmocka_unit_test(test_last_final_given),
	    cmocka_unit_test(test_keep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
