/*
 * Unit tests for average (aggregator/average.h, doc/CONTRACTS.md contract
 * 4): an interval's average per key is the sum of its sensors' packets
 * divided by the sensors that reported it, with each sensor's health
 * beside it, and the union of their sketches of distinct sources and
 * targets.  Every expected value is worked out by hand below.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * Each sensor's own counts move into the job for the per-sensor sums
 * (sensbucket.h): one per sensor, sorted by id, key indices ascending,
 * whatever order the records came and their entries were in; a key
 * listed twice in a record is summed.
 */
static void
test_sensor_keys(void **state)
{
	struct average a;
	struct rrd_job *j;
	struct record r;

	(void)state;
	average_init(&a);
	add(&a, "zeta", 0, 4, 6, 0, 0, 0);
	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "alpha");
	r.start = T;
	r.len = LEN;
	record_add(&r, PROTO_UDP, 53, 2);
	record_add(&r, PROTO_TCP, 80, 3);
	record_add(&r, PROTO_TCP, 22, 1);
	record_add(&r, PROTO_TCP, 80, 5);
	average_add(&a, &r, 0);
	record_clear(&r);
	add(&a, "mid", 0, 0, 0, 9, 0, 0); /* no key at all */
	j = average_job(&a, T, LEN);
	assert_int_equal(j->nsens, 3);
	assert_string_equal(j->sens[0].id, "alpha");
	assert_int_equal(j->sens[0].n, 3);
	assert_int_equal(j->sens[0].idx[0], 22);
	assert_int_equal(j->sens[0].packets[0], 1);
	assert_int_equal(j->sens[0].idx[1], 80);
	assert_int_equal(j->sens[0].packets[1], 8);
	assert_int_equal(j->sens[0].idx[2], 65536 + 53);
	assert_int_equal(j->sens[0].packets[2], 2);
	assert_string_equal(j->sens[1].id, "mid");
	assert_int_equal(j->sens[1].n, 0);
	assert_string_equal(j->sens[2].id, "zeta");
	assert_int_equal(j->sens[2].n, 2);
	assert_int_equal(j->sens[2].idx[0], 80);
	assert_int_equal(j->sens[2].packets[0], 4);
	assert_int_equal(j->sens[2].idx[1], 65536 + 53);
	assert_int_equal(j->sens[2].packets[1], 6);
	/* Moved: the average holds none after, and frees cleanly. */
	assert_int_equal(a.nhealth, 0);
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

/* A well-mixed 64-bit hash of item i (splitmix64's finaliser). */
static uint64_t
mix(uint64_t i)
{
	uint64_t z = i + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A sketch of precision p holding items lo..hi-1 (offset apart sets). */
static struct hll *
sketch(unsigned p, uint64_t lo, uint64_t hi)
{
	struct hll *h = hll_new(p);
	uint64_t i;

	for (i = lo; i < hi; i++)
		hll_add(h, mix(i));
	return h;
}

/*
 * A version-2 record of T: tcp/22 with sources [s22lo, s22hi) and targets
 * [1000000, 1000000 + t22), and, unless s53hi is 0, udp/53 with sources
 * [0, s53hi) and one target; all_src and all_dst the unions.  p: the
 * sketches' precision.
 */
static void
add_sketched(struct average *a, const char *id, unsigned p, uint64_t s22lo,
    uint64_t s22hi, uint64_t t22, uint64_t s53hi, int keep)
{
	struct record_entry *e;
	struct record r;
	size_t i;

	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "%s", id);
	r.start = T;
	r.len = LEN;
	r.sketch_p = p;
	memset(r.sketch_keyid, 7, sizeof(r.sketch_keyid));
	e = record_add(&r, PROTO_TCP, 22, 5);
	e->src = sketch(p, s22lo, s22hi);
	e->dst = sketch(p, 1000000, 1000000 + t22);
	r.all_src = sketch(p, s22lo, s22hi);
	r.all_dst = sketch(p, 1000000, 1000000 + t22);
	if (s53hi > 0) {
		e = record_add(&r, PROTO_UDP, 53, 2);
		e->src = sketch(p, 0, s53hi);
		e->dst = sketch(p, 2000000, 2000001);
		hll_merge(r.all_src, e->src);
		hll_merge(r.all_dst, e->dst);
	}
	r.totals[RT_TCP] = 5;
	r.totals[RT_UDP] = s53hi > 0 ? 2 : 0;
	average_add(a, &r, keep);
	/* Freed here, so that record_clear() finds none, whichever frees. */
	for (i = 0; i < r.nentries; i++) {
		hll_free(r.entries[i].src);
		hll_free(r.entries[i].dst);
		r.entries[i].src = r.entries[i].dst = NULL;
	}
	hll_free(r.all_src);
	hll_free(r.all_dst);
	r.all_src = r.all_dst = NULL;
	record_clear(&r);
}

/*
 * a sees sources 0-99 of tcp/22, b 50-149 and udp/53's 0-29, c sends no
 * sketches (version 1): the fleet's sources of tcp/22 are the 150 of the
 * union, not 200, its targets the 40 both saw; udp/53 has 30 (b alone);
 * tcp/80, whose packets came from c alone, is unknown.  Over all keys:
 * 0-149.
 */
static void
test_sketches_union(void **state)
{
	struct average a;
	struct rrd_job *j;

	(void)state;
	average_init(&a);
	add_sketched(&a, "a", 14, 0, 100, 40, 0, 1);
	add_sketched(&a, "b", 14, 50, 150, 40, 30, 1);
	add(&a, "c", 1, 4, 0, 0, 0, 0);
	j = average_job(&a, T, LEN);
	assert_int_equal(j->nsensors, 3);
	assert_int_equal(j->nsketched, 2);
	assert_int_equal(j->nvalues, 3);
	assert_int_equal(j->idx[0], 22);
	assert_true(j->avg[0] == 11.0 / 3.0);
	assert_true(j->sources[0] == 150);
	assert_true(j->targets[0] == 40);
	assert_int_equal(j->idx[1], 80);
	assert_true(isnan(j->sources[1]) && isnan(j->targets[1]));
	assert_int_equal(j->idx[2], 65536 + 53);
	assert_true(j->sources[2] == 30);
	assert_true(j->targets[2] == 1);
	assert_true(j->all_sources == 150);
	/* The sketches themselves, moved into the job for the summary. */
	assert_non_null(j->src);
	assert_true(round(hll_estimate(j->src[0])) == 150);
	assert_true(round(hll_estimate(j->dst[0])) == 40);
	assert_null(j->src[1]);
	assert_null(j->dst[1]);
	assert_true(round(hll_estimate(j->src[2])) == 30);
	assert_true(round(hll_estimate(j->all_src)) == 150);
	assert_true(round(hll_estimate(j->all_dst)) == 41);
	assert_true(a.sk.bytes == 0 && a.all_bytes == 0); /* none held */
	rrd_job_free(j);
	average_free(&a);
}

/* No sketches kept (no key, or all version 1): every count unknown. */
static void
test_sketches_none(void **state)
{
	struct average a;
	struct rrd_job *j;

	(void)state;
	average_init(&a);
	add_sketched(&a, "a", 14, 0, 100, 40, 0, 0);
	add(&a, "c", 1, 0, 0, 0, 0, 0);
	j = average_job(&a, T, LEN);
	assert_int_equal(j->nsensors, 2);
	assert_int_equal(j->nsketched, 0);
	assert_int_equal(j->nvalues, 1);
	assert_true(j->avg[0] == 3.0);
	assert_true(isnan(j->sources[0]) && isnan(j->targets[0]));
	assert_true(isnan(j->all_sources));
	assert_null(j->src);
	assert_null(j->dst);
	assert_null(j->all_src);
	assert_null(j->all_dst);
	rrd_job_free(j);
	average_free(&a);
}

/*
 * Large sets turn dense; a sketch of precision 12 folds the union down to
 * it.  40,000 and 30,000 sources overlapping in 10,000: 60,000, within 5%,
 * three standard errors at p = 12 (1.04 / 64 = 1.6%).  A dense sketch
 * counts in the memory held: 2^14 bytes at least.
 */
static void
test_sketches_dense(void **state)
{
	struct average a;
	struct rrd_job *j;
	size_t before;

	(void)state;
	average_init(&a);
	add_sketched(&a, "a", 14, 0, 40000, 1, 0, 1);
	before = average_bytes(&a);
	assert_true(before >= ((size_t)1 << 14));
	add_sketched(&a, "b", 12, 30000, 60000, 1, 0, 1);
	j = average_job(&a, T, LEN);
	assert_int_equal(j->nsketched, 2);
	assert_true(fabs(j->sources[0] - 60000) < 0.05 * 60000);
	assert_true(fabs(j->all_sources - 60000) < 0.05 * 60000);
	assert_true(j->targets[0] == 1);
	rrd_job_free(j);
	average_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_divided_by_reporting),
	    cmocka_unit_test(test_sensor_keys),
	    cmocka_unit_test(test_one_sensor),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_saturated),
	    cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_sketches_union),
	    cmocka_unit_test(test_sketches_none),
	    cmocka_unit_test(test_sketches_dense),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
