/*
 * Unit tests for human: ISO 8601 times at the epoch, before it, at a leap
 * day and at the ends of the years written with four digits (values
 * worked out by hand from days since 1970); lengths of time; plurals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "human.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

static void
test_iso8601(void **state)
{
	static const struct {
		int64_t t;
		const char *want;
	} cases[] = {
	    {0, "1970-01-01T00:00:00Z"},
	    {-1, "1969-12-31T23:59:59Z"},
	    {946684800, "2000-01-01T00:00:00Z"},
	    /* 2000-01-01 plus 31 + 28 days */
	    {951782400, "2000-02-29T00:00:00Z"},
	    {951782400 + 86399, "2000-02-29T23:59:59Z"},
	    {253402300799, "9999-12-31T23:59:59Z"},
	    {-62167219200, "0000-01-01T00:00:00Z"},
	    {253402300800, "253402300800"},
	    {INT64_MIN, "-9223372036854775808"},
	};
	char buf[ISO8601_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++)
		assert_string_equal(iso8601(cases[i].t, buf), cases[i].want);
}

static void
test_duration(void **state)
{
	static const struct {
		int64_t secs;
		const char *want;
	} cases[] = {
	    {0, "0 s"},
	    {45, "45 s"},
	    {300, "5 min"},
	    {330, "5 min 30 s"},
	    {7500, "2 h 5 min"},
	    {3 * 86400 + 4 * 3600 + 5, "3 d 4 h"},
	    {-5, "0 s"},
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++)
		assert_string_equal(human_duration(cases[i].secs, buf,
					sizeof(buf)),
		    cases[i].want);
}

static void
test_plural(void **state)
{
	(void)state;
	assert_string_equal(plural(0, "record", "records"), "records");
	assert_string_equal(plural(1, "record", "records"), "record");
	assert_string_equal(plural(2, "record", "records"), "records");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_iso8601),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_plural),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
