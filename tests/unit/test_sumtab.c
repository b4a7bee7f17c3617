/*
 * Unit tests for sumtab: sums per key across sensors, kept apart for
 * keys that collide in the table and across its growth, and saturating
 * at UINT64_MAX instead of wrapping (two sensors' 2^63 packets read 0
 * otherwise), with every saturation counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "keyidx.h"
#include "sumtab.h"

static void
test_sums(void **state)
{
	struct sumtab t;
	uint32_t *v;
	size_t n, i;

	(void)state;
	sumtab_init(&t);
	assert_true(sumtab_get(&t, 5) == 0);
	/* Every key of every protocol, twice: the table grows many times. */
	for (i = 0; i < KEYIDX_COUNT; i++)
		assert_int_equal(sumtab_add(&t, (uint32_t)i, i + 1), 0);
	for (i = KEYIDX_COUNT; i-- > 0;)
		assert_int_equal(sumtab_add(&t, (uint32_t)i, 2), 0);
	for (i = 0; i < KEYIDX_COUNT; i++)
		assert_true(sumtab_get(&t, (uint32_t)i) == i + 3);
	v = sumtab_sorted(&t, &n);
	assert_int_equal(n, KEYIDX_COUNT);
	for (i = 0; i < n; i++)
		assert_int_equal(v[i], i);
	free(v);
	assert_int_equal(sumtab_saturated(&t), 0);
	sumtab_free(&t);
}

static void
test_saturates(void **state)
{
	const uint64_t half = (uint64_t)1 << 63;
	struct sumtab t;

	(void)state;
	sumtab_init(&t);
	/* Just fits: 2^63 + (2^63 - 1) = UINT64_MAX. */
	assert_int_equal(sumtab_add(&t, 445, half), 0);
	assert_int_equal(sumtab_add(&t, 445, half - 1), 0);
	assert_true(sumtab_get(&t, 445) == UINT64_MAX);
	assert_int_equal(sumtab_saturated(&t), 0);
	/* Two sensors with 2^63 each: 2^64 would read 0. */
	assert_int_equal(sumtab_add(&t, 23, half), 0);
	assert_int_equal(sumtab_add(&t, 23, half), 1);
	assert_true(sumtab_get(&t, 23) == UINT64_MAX);
	assert_int_equal(sumtab_saturated(&t), 1);
	/* Stays there, counted again; other keys are not touched. */
	assert_int_equal(sumtab_add(&t, 23, 1), 1);
	assert_int_equal(sumtab_add(&t, 23, UINT64_MAX), 1);
	assert_true(sumtab_get(&t, 23) == UINT64_MAX);
	assert_int_equal(sumtab_saturated(&t), 3);
	assert_int_equal(sumtab_add(&t, 22, 7), 0);
	assert_true(sumtab_get(&t, 22) == 7);
	assert_true(sumtab_get(&t, 445) == UINT64_MAX);
	/* Adding 0 to a full sum is no saturation. */
	assert_int_equal(sumtab_add(&t, 445, 0), 0);
	assert_int_equal(sumtab_saturated(&t), 3);
	sumtab_free(&t);
	assert_int_equal(sumtab_saturated(&t), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sums),
	    cmocka_unit_test(test_saturates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
