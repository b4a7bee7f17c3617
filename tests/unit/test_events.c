/*
 * Unit tests for events (graph/events.h): an annotations file read in a
 * zone, events sorted by time, URLs apart from the text, every malformed
 * line an error naming the file and line, and which graphs an event is
 * drawn on.  2008-01-15T00:00+09:00 is 1200322800 (1200355200 - 9 h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events.h"
#include "tmpdir.h"
#include "zone.h"

#define JAN15_JST ((int64_t)1200322800)

static char dir[64], path[128];

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) != EOF);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	if (tmpdir_make(dir, sizeof(dir), "events") == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/events", dir);
	return zone_use("Asia/Tokyo", err, sizeof(err));
}

static int
teardown(void **state)
{
	(void)state;
	return tmpdir_remove(dir);
}

static void
test_load(void **state)
{
	struct events ev;
	char err[256] = "";

	(void)state;
	write_file("# watched since the MS08-067 advisory\n"
		   "\n"
		   "2008-01-15T09:30 tcp/2967 Symantec AV exploit wave "
		   "https://example.org/a https://example.org/b\n"
		   "  2008-01-15 * sensor s3 back online\n"
		   "2008-01-10 icmp/8 ping sweep\n");
	if (events_load(path, &ev, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(ev.n, 3);
	/* In time order: 01-10, 01-15 00:00, 01-15 09:30. */
	assert_true(ev.v[0].t == JAN15_JST - 5 * 86400);
	assert_int_equal(ev.v[0].all, 0);
	assert_int_equal(ev.v[0].idx, 131072 + 8);
	assert_string_equal(ev.v[0].text, "ping sweep");
	assert_true(ev.v[1].t == JAN15_JST);
	assert_int_equal(ev.v[1].all, 1);
	assert_string_equal(ev.v[1].text, "sensor s3 back online");
	assert_int_equal(ev.v[1].line, 4);
	assert_true(ev.v[2].t == JAN15_JST + 9 * 3600 + 1800);
	assert_int_equal(ev.v[2].idx, 2967);
	assert_string_equal(ev.v[2].text, "Symantec AV exploit wave");
	assert_int_equal(ev.v[2].nurl, 2);
	assert_string_equal(ev.v[2].url[1], "https://example.org/b");
	/* Drawn on graphs of its key or on all, within the range. */
	assert_true(event_applies(&ev.v[2], JAN15_JST, JAN15_JST + 86400,
	    (uint32_t[]){80, 2967}, 2));
	assert_false(event_applies(&ev.v[2], JAN15_JST, JAN15_JST + 86400,
	    (uint32_t[]){80}, 1));
	assert_true(event_applies(&ev.v[1], JAN15_JST, JAN15_JST + 1, NULL, 0));
	assert_false(
	    event_applies(&ev.v[1], JAN15_JST + 1, JAN15_JST + 86400, NULL, 0));
	events_free(&ev);
}

/* A day of 23 hours: 09:30 EDT is 8.5 hours after midnight EST. */
static void
test_clock_change(void **state)
{
	struct events ev;
	char err[256] = "";

	(void)state;
	assert_int_equal(zone_use("America/New_York", err, sizeof(err)), 0);
	write_file("2008-03-09T09:30 * after the change\n");
	assert_int_equal(events_load(path, &ev, err, sizeof(err)), 0);
	/* 2008-03-09T00:00-05:00 is 1205038800. */
	assert_true(ev.v[0].t == 1205038800 + 8 * 3600 + 1800);
	events_free(&ev);
	assert_int_equal(zone_use("Asia/Tokyo", err, sizeof(err)), 0);
}

static void
bad(const char *text, const char *line, const char *why)
{
	struct events ev;
	char err[512] = "", want[160];

	write_file(text);
	assert_int_equal(events_load(path, &ev, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:%s: ", path, line);
	if (strstr(err, want) == NULL || strstr(err, why) == NULL)
		fail_msg("\"%s\" lacks \"%s\" or \"%s\"", err, want, why);
	assert_int_equal(ev.n, 0);
}

static void
test_malformed(void **state)
{
	(void)state;
	bad("2008-01-15 tcp/80 ok\n2008-02-30 tcp/80 no such day\n", "2",
	    "not a date");
	bad("2008-01-15T24:00 tcp/80 late\n", "1", "not a time");
	bad("2008-01-15 tcp/99999 big port\n", "1", "not a key");
	bad("2008-01-15 tcp/80\n", "1", "want WHEN KEY TEXT");
	bad("2008-01-15 tcp/80 https://example.org/\n", "1", "no text");
	bad("2008-01-15 tcp/80 x http://a http://b http://c http://d "
	    "http://e\n",
	    "1", "more than 4 URLs");
	bad("# fine\n2008-01-15 tcp/80 x https://example.org/\"onload=\n", "2",
	    "a URL with a character");
	bad("15/01/2008 tcp/80 European date\n", "1", "not a date");
}

static void
test_missing(void **state)
{
	struct events ev;
	char err[256] = "";

	(void)state;
	assert_int_equal(events_load("/nonexistent/events", &ev, err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "/nonexistent/events"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_clock_change),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_missing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
