/*
 * Unit tests for period (graph/period.h) with civil and zone
 * (common/civil.h, common/zone.h): every way of naming a period, its
 * dates, the period before it, and its bounds in zones with odd days.
 * Expected instants were worked out by hand from the zones' offsets and
 * checked with Python's zoneinfo; e.g. 2008-01-01T00:00+09:00 is
 * 1199145600 - 9 h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "civil.h"
#include "period.h"
#include "zone.h"

static void
parse_ok(const char *s, enum period_kind kind, struct civil first,
    struct civil last)
{
	struct period p;
	char err[256], name[PERIOD_NAME_MAX];

	if (period_parse(s, PERIOD_FY_MONTH, &p, err, sizeof(err)) == -1)
		fail_msg("%s: %s", s, err);
	assert_int_equal(p.kind, kind);
	assert_int_equal(civil_cmp(p.first, first), 0);
	assert_int_equal(civil_cmp(p.last, last), 0);
	period_name(&p, name, sizeof(name));
	assert_string_equal(name, s);
}

static void
parse_bad(const char *s)
{
	struct period p;
	char err[256];

	assert_int_equal(period_parse(s, PERIOD_FY_MONTH, &p, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, s));
}

static void
test_parse(void **state)
{
	(void)state;
	parse_ok("2008", PERIOD_YEAR, (struct civil){2008, 1, 1},
	    (struct civil){2008, 12, 31});
	parse_ok("2008-02", PERIOD_MONTH, (struct civil){2008, 2, 1},
	    (struct civil){2008, 2, 29});
	parse_ok("2007-02", PERIOD_MONTH, (struct civil){2007, 2, 1},
	    (struct civil){2007, 2, 28});
	parse_ok("2008Q1", PERIOD_QUARTER, (struct civil){2008, 1, 1},
	    (struct civil){2008, 3, 31});
	parse_ok("2008Q4", PERIOD_QUARTER, (struct civil){2008, 10, 1},
	    (struct civil){2008, 12, 31});
	parse_ok("FY2007", PERIOD_FY, (struct civil){2007, 4, 1},
	    (struct civil){2008, 3, 31});
	parse_ok("2008-03-31", PERIOD_DAY, (struct civil){2008, 3, 31},
	    (struct civil){2008, 3, 31});
	parse_ok("2006-11-01..2008-03-31", PERIOD_RANGE,
	    (struct civil){2006, 11, 1}, (struct civil){2008, 3, 31});
	parse_bad("2008Q5");
	parse_bad("2008-13");
	parse_bad("2007-02-29");
	parse_bad("2008-03-31..2008-03-30");
	parse_bad("2008-01-01..");
	parse_bad("08Q1");
	parse_bad("FY");
	parse_bad("FY9999");
	parse_bad("last week");
	parse_bad("");
}

static void
test_fiscal_month(void **state)
{
	struct period p;
	char err[256];

	(void)state;
	assert_int_equal(period_parse("fy2007", 1, &p, err, sizeof(err)), 0);
	assert_int_equal(civil_cmp(p.first, (struct civil){2007, 1, 1}), 0);
	assert_int_equal(civil_cmp(p.last, (struct civil){2007, 12, 31}), 0);
	assert_int_equal(period_parse("FY2007", 10, &p, err, sizeof(err)), 0);
	assert_int_equal(civil_cmp(p.first, (struct civil){2007, 10, 1}), 0);
	assert_int_equal(civil_cmp(p.last, (struct civil){2008, 9, 30}), 0);
}

static void
prev_is(const char *s, const char *want)
{
	struct period p, q;
	char err[256], name[PERIOD_NAME_MAX];

	assert_int_equal(period_parse(s, PERIOD_FY_MONTH, &p, err, sizeof(err)),
	    0);
	q = period_previous(&p);
	period_name(&q, name, sizeof(name));
	assert_string_equal(name, want);
}

static void
test_previous(void **state)
{
	(void)state;
	prev_is("2008Q1", "2007Q4");
	prev_is("2008-03", "2008-02");
	prev_is("2008-01", "2007-12");
	prev_is("FY2007", "FY2006");
	prev_is("2008", "2007");
	prev_is("2008-03-01", "2008-02-29");
	prev_is("2008-03-01..2008-03-10", "2008-02-20..2008-02-29");
}

static void
bounds_are(const char *zone, const char *s, int64_t start, int64_t end)
{
	struct period p;
	char err[256];
	int64_t a, b;

	if (zone_use(zone, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_string_equal(zone_name(), zone);
	assert_int_equal(period_parse(s, PERIOD_FY_MONTH, &p, err, sizeof(err)),
	    0);
	period_bounds(&p, &a, &b);
	assert_true(a == start);
	assert_true(b == end);
}

static void
test_bounds(void **state)
{
	(void)state;
	bounds_are("UTC", "2008Q1", 1199145600, 1207008000);
	bounds_are("Asia/Tokyo", "2008Q1", 1199113200, 1206975600);
	bounds_are("Asia/Tokyo", "FY2007", 1175353200, 1206975600);
	/* Half-hour offset: 2024-01-01T00:00+05:30. */
	bounds_are("Asia/Kolkata", "2024-01-01", 1704047400,
	    1704047400 + 86400);
	/* Days of 23 and 25 hours. */
	bounds_are("America/New_York", "2023-03-12", 1678597200, 1678680000);
	bounds_are("America/New_York", "2023-11-05", 1699156800, 1699246800);
	bounds_are("Europe/Berlin", "2023-03-26", 1679785200, 1679868000);
	/* Clocks skip midnight: the day starts at 01:00 -03 (04:00Z). */
	bounds_are("America/Santiago", "2022-09-11", 1662868800, 1662951600);
	zone_use("UTC", NULL, 0);
}

static void
test_zone(void **state)
{
	char err[256], buf[64];
	int secs;
	struct civil c;

	(void)state;
	assert_int_equal(zone_use("Asia/Kolkata", err, sizeof(err)), 0);
	zone_iso(1199145600 + 5 * 3600 + 1800, buf, sizeof(buf));
	assert_string_equal(buf, "2008-01-01T11:00:00+05:30");
	assert_int_equal(zone_offset(1199145600), 19800);
	assert_int_equal(zone_use("America/New_York", err, sizeof(err)), 0);
	zone_iso(1678597200, buf, sizeof(buf));
	assert_string_equal(buf, "2023-03-12T00:00:00-05:00");
	c = zone_date(1678680000 - 1, &secs);
	assert_int_equal(civil_cmp(c, (struct civil){2023, 3, 12}), 0);
	assert_int_equal(secs, 86399);
	/* Unknown or unsafe names are refused and leave the zone alone. */
	assert_int_equal(zone_use("Mars/Olympus_Mons", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Mars/Olympus_Mons"));
	assert_int_equal(zone_use("../../etc/passwd", err, sizeof(err)), -1);
	assert_int_equal(zone_use("/etc/localtime", err, sizeof(err)), -1);
	assert_int_equal(zone_use("", err, sizeof(err)), -1);
	assert_string_equal(zone_name(), "America/New_York");
	assert_int_equal(zone_use("UTC", err, sizeof(err)), 0);
	zone_iso(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00+00:00");
}

/* Days from 1970 both ways, over leap years and centuries. */
static void
test_civil(void **state)
{
	int64_t n;

	(void)state;
	assert_true(civil_days((struct civil){1970, 1, 1}) == 0);
	assert_true(civil_days((struct civil){2000, 3, 1}) == 11017);
	assert_true(civil_days((struct civil){1969, 12, 31}) == -1);
	assert_true(
	    civil_days((struct civil){2008, 1, 1}) * 86400 == 1199145600);
	for (n = -800000; n <= 800000; n += 7)
		assert_true(civil_days(civil_from_days(n)) == n);
	assert_int_equal(civil_month_days(1900, 2), 28);
	assert_int_equal(civil_month_days(2000, 2), 29);
	assert_false(civil_valid((struct civil){2023, 2, 29}));
	assert_int_equal(civil_add_months((struct civil){2008, 1, 15}, -1).y,
	    2007);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_fiscal_month),
	    cmocka_unit_test(test_previous),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_zone),
	    cmocka_unit_test(test_civil),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
