/*
 * Unit tests for fleet: counts by verdict, packets and drops of stored
 * records only, sessions, the quiet flag after three intervals and its
 * end, the window reset by a summary, and sensors listed in id order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fleet.h"

#define T0 1796299200

static struct ingest_verdict
verdict(enum frame_ack ack, int late, uint64_t packets, uint64_t drops)
{
	struct ingest_verdict v;

	memset(&v, 0, sizeof(v));
	v.ack = ack;
	v.late = late;
	v.start = T0 - 600;
	v.packets = packets;
	v.drops = drops;
	if (ack == ACK_REFUSED)
		v.reason = REFUSE_PAST;
	return v;
}

struct seen {
	struct fleet_sensor s[4];
	char id[4][8];
	size_t n;
};

static void
collect(const struct fleet_sensor *s, void *arg)
{
	struct seen *c = arg;

	assert_true(c->n < 4);
	c->s[c->n] = *s;
	snprintf(c->id[c->n], sizeof(c->id[0]), "%s", s->id);
	c->n++;
}

static void
test_counts(void **state)
{
	struct fleet *f = fleet_new(60);
	struct ingest_verdict v;
	struct seen c = {0};

	(void)state;
	fleet_connected(f, "s2", "192.0.2.2:1", T0);
	fleet_connected(f, "s1", "192.0.2.1:1", T0);
	fleet_connected(f, "s1", "192.0.2.1:2", T0 + 1);
	v = verdict(ACK_STORED, 0, 10, 2);
	fleet_record(f, "s1", &v, T0 + 2);
	v = verdict(ACK_STORED, 1, 5, 1);
	fleet_record(f, "s1", &v, T0 + 3);
	v = verdict(ACK_DUPLICATE, 0, 7, 7);
	fleet_record(f, "s1", &v, T0 + 4);
	v = verdict(ACK_REFUSED, 0, 7, 7);
	fleet_record(f, "s1", &v, T0 + 5);
	v = verdict(ACK_REJECTED, 0, 0, 0);
	fleet_record(f, "s1", &v, T0 + 6);
	fleet_disconnected(f, "s1");
	fleet_foreach(f, collect, &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.id[0], "s1");
	assert_string_equal(c.id[1], "s2");
	assert_int_equal(c.s[0].stored, 2);
	assert_int_equal(c.s[0].late, 1);
	assert_int_equal(c.s[0].duplicate, 1);
	assert_int_equal(c.s[0].refused, 1);
	assert_int_equal(c.s[0].rejected, 1);
	assert_int_equal(c.s[0].packets, 15);
	assert_int_equal(c.s[0].drops, 3);
	assert_int_equal(c.s[0].sessions, 1);
	assert_int_equal(c.s[0].first_connect, T0);
	assert_int_equal(c.s[0].last_record, T0 + 6);
	assert_int_equal(c.s[1].sessions, 1);
	assert_int_equal(c.s[1].last_record, 0);
	fleet_free(f);
}

static void
test_quiet(void **state)
{
	struct fleet *f = fleet_new(60);
	struct ingest_verdict v = verdict(ACK_STORED, 0, 1, 0);
	struct fleet_window w;
	struct seen c = {0};

	(void)state;
	fleet_connected(f, "s1", "192.0.2.1:1", T0);
	fleet_record(f, "s1", &v, T0 + 10);
	fleet_tick(f, T0 + 10 + 179);
	fleet_window(f, &w, 0);
	assert_int_equal(w.reporting, 1);
	fleet_tick(f, T0 + 10 + 180);
	fleet_window(f, &w, 0);
	assert_int_equal(w.reporting, 0);
	assert_int_equal(w.connected, 1);
	fleet_foreach(f, collect, &c);
	assert_true(c.s[0].quiet);
	fleet_record(f, "s1", &v, T0 + 400);
	fleet_window(f, &w, 1);
	assert_int_equal(w.reporting, 1);
	assert_int_equal(w.stored, 2);
	fleet_window(f, &w, 0);
	assert_int_equal(w.stored, 0);
	assert_int_equal(w.known, 1);
	fleet_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_quiet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
