/*
 * Unit tests for parse and interval_parse: the strict numbers and
 * booleans that every option and config value goes through.  A value that
 * strtoull would quietly accept in part must be refused whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "interval.h"
#include "parse.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

static void
test_u64_good(void **state)
{
	static const struct {
		const char *s;
		uint64_t min, max, v;
	} cases[] = {
	    {"0", 0, 10, 0},
	    {"10", 0, 10, 10},
	    {"1", 1, 1, 1},
	    {"60", 1, 86400, 60},
	    {"4294967296", 0, UINT64_MAX, 4294967296ULL},
	    {"18446744073709551615", 0, UINT64_MAX, UINT64_MAX},
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		v = 12345;
		if (parse_u64(cases[i].s, cases[i].min, cases[i].max, &v) != 0)
			fail_msg("refused %s", cases[i].s);
		assert_int_equal(v, cases[i].v);
	}
}

static void
test_u64_bad(void **state)
{
	static const char *bad[] = {
	    "", " ", "+1", "-1", "-0", " 1", "\t1", "\n1", "1 ", "1\n", "1x",
	    "x1", "1.0", "1e3", "0x10", "1,000", "1_000", "--1",
	    "18446744073709551616", /* 2^64 */
	    "99999999999999999999999999",
	    "-18446744073709551615", /* strtoull would make it 1 */
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(bad); i++)
		if (parse_u64(bad[i], 0, UINT64_MAX, &v) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(parse_u64(NULL, 0, UINT64_MAX, &v), -1);
}

static void
test_u64_range(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_u64("0", 1, 10, &v), -1);
	assert_int_equal(parse_u64("11", 1, 10, &v), -1);
	assert_int_equal(parse_u64("1", 1, 10, &v), 0);
	assert_int_equal(parse_u64("10", 1, 10, &v), 0);
	assert_int_equal(parse_u64("18446744073709551615", 0, UINT64_MAX - 1,
			     &v),
	    -1);
	assert_int_equal(parse_u64("5", 6, 4, &v), -1); /* empty range */
}

static void
test_bool(void **state)
{
	static const char *yes[] = {"yes", "true", "on", "1", "YES", "True",
	    "oN"};
	static const char *no[] = {"no", "false", "off", "0", "NO", "False",
	    "OFF"};
	static const char *bad[] = {"", "y", "n", "2", "yes ", " no", "enable",
	    "nope", "01", "-1"};
	size_t i;
	int v;

	(void)state;
	for (i = 0; i < NITEMS(yes); i++) {
		v = -1;
		assert_int_equal(parse_bool(yes[i], &v), 0);
		assert_int_equal(v, 1);
	}
	for (i = 0; i < NITEMS(no); i++) {
		v = -1;
		assert_int_equal(parse_bool(no[i], &v), 0);
		assert_int_equal(v, 0);
	}
	for (i = 0; i < NITEMS(bad); i++)
		if (parse_bool(bad[i], &v) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
}

/*
 * doc/CONTRACTS.md contract 2: a whole number of seconds, at least one, at
 * most a day.
 */
static void
test_interval_parse(void **state)
{
	uint32_t len;

	(void)state;
	assert_int_equal(interval_parse("60", &len), 0);
	assert_int_equal(len, 60);
	assert_int_equal(interval_parse("1", &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(interval_parse("86400", &len), 0);
	assert_int_equal(len, 86400);
	assert_int_equal(interval_parse("0", &len), -1);
	assert_int_equal(interval_parse("86401", &len), -1);
	assert_int_equal(interval_parse("4294967356", &len), -1); /* 2^32+60 */
	assert_int_equal(interval_parse("60s", &len), -1);
	assert_int_equal(interval_parse("1.5", &len), -1);
	assert_int_equal(interval_parse("-60", &len), -1);
	assert_int_equal(interval_parse("", &len), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_u64_good),
	    cmocka_unit_test(test_u64_bad),
	    cmocka_unit_test(test_u64_range),
	    cmocka_unit_test(test_bool),
	    cmocka_unit_test(test_interval_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
