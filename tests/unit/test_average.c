/*
 * Unit tests for average (aggregator/average.h, doc/CONTRACTS.md contract
 * 4): an interval's average per key is the sum of its sensors' packets
 * divided by the sensors that reported it, with each sensor's health
 * beside it.  Every expected value is worked out by hand below.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "average.h"
#include "record.h"
#include "rrdw.h"

#define LEN 60
#define T ((int64_t)1700000040)

/* Sensor id's record of T: tcp 22 and 80, udp 53 (0 leaves a key out). */
static void
add(struct average *a, const char *id, uint64_t tcp22, uint64_t tcp80,
    uint64_t udp53, uint64_t nonip, uint64_t cdrops, uint64_t sdrops)
{
	struct record r;

	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "%s", id);
	r.start = T;
	r.len = LEN;
	if (tcp22)
		record_add(&r, PROTO_TCP, 22, tcp22);
	if (tcp80)
		record_add(&r, PROTO_TCP, 80, tcp80);
	if (udp53)
		record_add(&r, PROTO_UDP, 53, udp53);
	r.totals[RT_TCP] = tcp22 + tcp80;
	r.totals[RT_UDP] = udp53;
	r.totals[RT_NONIP] = nonip;
	r.totals[RT_CAPTURE_DROPS] = cdrops;
	r.totals[RT_SPOOL_DROPS] = sdrops;
	average_add(a, &r, 0);
	record_clear(&r);
}

/*
 * a: tcp/22 10, tcp/80 5; b: tcp/22 3, udp/53 7; c: tcp/80 1.  Divided by
 * the 3 that reported: tcp/22 13/3, tcp/80 6/3 = 2, udp/53 7/3, in key
 * index order (tcp 22, tcp 80, then udp 53 at 65536 + 53).
 */
static void
test_divided_by_reporting(void **state)
{
	struct average a;
	struct rrd_job *j;

	(void)state;
	average_init(&a);
	add(&a, "a", 10, 5, 0, 2, 1, 2);
	add(&a, "b", 3, 0, 7, 0, 0, 0);
	add(&a, "c", 0, 1, 0, 0, 0, 0);
	j = average_job(&a, T, LEN);
	assert_int_equal(j->faults_only, 0);
	assert_int_equal(j->start, T);
	assert_int_equal(j->len, LEN);
	assert_int_equal(j->nsensors, 3);
	assert_int_equal(j->nvalues, 3);
	assert_int_equal(j->idx[0], 22);
	assert_int_equal(j->idx[1], 80);
	assert_int_equal(j->idx[2], 65536 + 53);
	assert_true(j->avg[0] == 13.0 / 3.0);
	assert_true(j->avg[1] == 2.0);
	assert_true(j->avg[2] == 7.0 / 3.0);
	/* Health in the order added: packets seen (tcp..unmonitored), drops. */
	assert_int_equal(j->nhealth, 3);
	assert_string_equal(j->health[0].id, "a");
	assert_int_equal(j->health[0].packets, 17); /* 15 tcp + 2 nonip */
	assert_int_equal(j->health[0].drops, 3); /* 1 capture + 2 spool */
	assert_string_equal(j->health[1].id, "b");
	assert_int_equal(j->health[1].packets, 10);
	assert_int_equal(j->health[1].drops, 0);
	assert_string_equal(j->health[2].id, "c");
	assert_int_equal(j->health[2].packets, 1);
	rrd_job_free(j);
	average_free(&a);
}

/* One sensor's record is its own average. */
static void
test_one_sensor(void **state)
{
	struct average a;
	struct rrd_job *j;

	(void)state;
	average_init(&a);
	add(&a, "s1", 7, 0, 0, 0, 0, 0);
	j = average_job(&a, T, LEN);
	assert_int_equal(j->nsensors, 1);
	assert_int_equal(j->nvalues, 1);
	assert_int_equal(j->idx[0], 22);
	assert_true(j->avg[0] == 7.0);
	rrd_job_free(j);
	average_free(&a);
}

/* Nothing added: an empty job, arrays still allocated. */
static void
test_empty(void **state)
{
	struct average a;
	struct rrd_job *j;

	(void)state;
	average_init(&a);
	j = average_job(&a, T, LEN);
	assert_int_equal(j->nsensors, 0);
	assert_int_equal(j->nvalues, 0);
	assert_int_equal(j->nhealth, 0);
	assert_non_null(j->avg);
	assert_non_null(j->health);
	rrd_job_free(j);
	average_free(&a);
}

/*
 * 2^64 - 1 and 1 more stop at 2^64 - 1; divided by 2 as a double that is
 * 2^63 (2^64 - 1 rounds to 2^64).
 */
static void
test_saturated(void **state)
{
	struct average a;
	struct rrd_job *j;

	(void)state;
	average_init(&a);
	add(&a, "a", UINT64_MAX, 0, 0, 0, 0, 0);
	add(&a, "b", 1, 0, 0, 0, 0, 0);
	assert_int_equal(sumtab_saturated(&a.sums), 1);
	j = average_job(&a, T, LEN);
	assert_int_equal(j->nvalues, 1);
	assert_true(j->avg[0] == 9223372036854775808.0);
	rrd_job_free(j);
	average_free(&a);
}

/* The memory counted grows with what is held: at least 8 health slots. */
static void
test_bytes(void **state)
{
	struct average a;
	size_t before;

	(void)state;
	average_init(&a);
	before = average_bytes(&a);
	add(&a, "a", 1, 1, 1, 0, 0, 0);
	assert_true(
	    average_bytes(&a) >= before + 8 * sizeof(struct rrd_health));
	average_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_divided_by_reporting),
	    cmocka_unit_test(test_one_sensor),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_saturated),
	    cmocka_unit_test(test_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
