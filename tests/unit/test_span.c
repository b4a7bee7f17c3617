/*
 * Unit tests for span (graph/span.h): each window's length, its end
 * rounded down to the hour (day, week) or the UTC day (month, quarter,
 * year), also before 1970, the window before it, and names both ways.
 * 1704067200 is 2024-01-01T00:00:00Z.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "span.h"
#include "zone.h"

#define JAN1 ((int64_t)1704067200)
/* 2024-01-01T05:59:59Z */
#define LATE (JAN1 + 5 * 3600 + 59 * 60 + 59)

static void
check(enum span_kind k, int64_t end, int64_t want_end, int64_t len,
    unsigned unit, const char *name)
{
	struct span s, p;

	span_make(k, end, &s);
	assert_int_equal(s.kind, k);
	assert_string_equal(s.name, name);
	assert_true(s.end == want_end);
	assert_true(s.start == want_end - len);
	assert_int_equal(s.unit, unit);
	span_previous(&s, &p);
	assert_int_equal(p.kind, k);
	assert_string_equal(p.name, name);
	assert_true(p.end == s.start);
	assert_true(p.start == s.start - len);
	assert_int_equal(p.unit, unit);
}

static void
test_make(void **state)
{
	(void)state;
	/* Hour-aligned: 05:59:59 ends at 05:00. */
	check(SPAN_DAY, LATE, JAN1 + 5 * 3600, 86400, 60, "day");
	check(SPAN_WEEK, LATE, JAN1 + 5 * 3600, 604800, 3600, "week");
	/* Day-aligned: at 00:00. */
	check(SPAN_MONTH, LATE, JAN1, 2592000, 3600, "month");
	check(SPAN_QUARTER, LATE, JAN1, 7862400, 3600, "quarter");
	check(SPAN_YEAR, LATE, JAN1, 31536000, 3600, "year");
	/* Already aligned: unchanged. */
	check(SPAN_DAY, JAN1, JAN1, 86400, 60, "day");
	check(SPAN_YEAR, JAN1, JAN1, 31536000, 3600, "year");
	/* One second before: the hour or the day before. */
	check(SPAN_WEEK, JAN1 - 1, JAN1 - 3600, 604800, 3600, "week");
	check(SPAN_MONTH, JAN1 - 1, JAN1 - 86400, 2592000, 3600, "month");
	/* Before 1970, rounding is still down. */
	check(SPAN_DAY, -1, -3600, 86400, 60, "day");
	check(SPAN_QUARTER, -1, -86400, 7862400, 3600, "quarter");
	check(SPAN_DAY, -3600, -3600, 86400, 60, "day");
}

/*
 * Day-aligned windows end at midnight in the zone in use and are made of
 * its days: in America/New_York the month before 2023-11-20 has an hour
 * more (the clocks went back on 11-05).  Instants from Python's zoneinfo.
 */
static void
test_zones(void **state)
{
	struct span s, p;
	char err[256];

	(void)state;
	assert_int_equal(zone_use("Asia/Tokyo", err, sizeof(err)), 0);
	span_make(SPAN_MONTH, LATE, &s); /* 2024-01-01 14:59 JST */
	assert_true(s.end == 1704034800);
	assert_true(s.start == 1701442800);
	span_make(SPAN_DAY, LATE, &s); /* hour-aligned: as in UTC */
	assert_true(s.end == JAN1 + 5 * 3600);
	assert_int_equal(zone_use("America/New_York", err, sizeof(err)), 0);
	span_make(SPAN_MONTH, 1700499600, &s); /* 2023-11-20 12:00 EST */
	assert_true(s.end == 1700456400);
	assert_true(s.start == 1697860800);
	span_previous(&s, &p);
	assert_true(p.end == s.start);
	assert_true(p.start == 1695268800);
	assert_int_equal(zone_use("UTC", err, sizeof(err)), 0);
}

static void
test_names(void **state)
{
	static const char *const names[SPAN_COUNT] = {"day", "week", "month",
	    "quarter", "year"};
	int k, minus1 = -1;

	(void)state;
	for (k = 0; k < SPAN_COUNT; k++) {
		assert_string_equal(span_name((enum span_kind)k), names[k]);
		assert_int_equal(span_from_name(names[k]), k);
	}
	assert_int_equal(span_from_name("Day"), -1);
	assert_int_equal(span_from_name(""), -1);
	assert_int_equal(span_from_name("days"), -1);
	assert_string_equal(span_name(SPAN_COUNT), "?");
	assert_string_equal(span_name((enum span_kind)minus1), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_make),
	    cmocka_unit_test(test_zones),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
