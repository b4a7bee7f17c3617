/*
 * Unit tests for aggmetrics: the per-sensor series, fed by a stand-in for
 * the per-sensor table, grouped by family (each family's samples under
 * its one HELP and TYPE, as the text format requires), outcomes disjoint
 * (stored counts on-time records only), and no last-record time for a
 * sensor that sent none.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aggmetrics.h"

static const struct aggmetrics_sensor table[] = {
    {"a", 10, 3, 1, 2, 0, 500, 4, 1700000000, 1},
    {"b", 0, 0, 0, 0, 5, 0, 0, 0, 0},
};

static void
each(void *ctx, aggmetrics_sensor_fn fn, void *arg)
{
	size_t i;

	assert_ptr_equal(ctx, table);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		fn(&table[i], arg);
}

static void
test_sensors(void **state)
{
	struct aggmetrics m = {NULL, NULL, NULL, each, (void *)table};
	struct metrics_out *o = metrics_out_new();
	const char *text,
	    *want =
		"# TYPE teiten_sensor_records_total counter\n"
		"teiten_sensor_records_total{sensor=\"a\",outcome=\"stored\"} "
		"7\n"
		"teiten_sensor_records_total{sensor=\"a\",outcome=\"late\"} 3\n"
		"teiten_sensor_records_total{sensor=\"a\",outcome="
		"\"duplicate\"} "
		"2\n"
		"teiten_sensor_records_total{sensor=\"a\",outcome=\"rejected\"}"
		" "
		"0\n"
		"teiten_sensor_records_total{sensor=\"a\",outcome=\"refused\"} "
		"1\n"
		"teiten_sensor_records_total{sensor=\"b\",outcome=\"stored\"} "
		"0\n"
		"teiten_sensor_records_total{sensor=\"b\",outcome=\"late\"} 0\n"
		"teiten_sensor_records_total{sensor=\"b\",outcome="
		"\"duplicate\"} "
		"0\n"
		"teiten_sensor_records_total{sensor=\"b\",outcome=\"rejected\"}"
		" "
		"5\n"
		"teiten_sensor_records_total{sensor=\"b\",outcome=\"refused\"} "
		"0\n"
		"# HELP teiten_sensor_packets_total";

	(void)state;
	aggmetrics_fill(o, &m);
	text = metrics_out_text(o);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text,
	    "# TYPE teiten_sensor_last_record_timestamp_seconds gauge\n"
	    "teiten_sensor_last_record_timestamp_seconds{sensor=\"a\"} "
	    "1700000000\n"
	    "# HELP teiten_sensor_sessions"));
	assert_non_null(strstr(text,
	    "teiten_sensor_packets_total{sensor=\"a\"} 500\n"
	    "teiten_sensor_packets_total{sensor=\"b\"} 0\n"));
	assert_non_null(strstr(text,
	    "teiten_sensor_capture_drops_total{sensor=\"a\"} 4\n"));
	assert_non_null(strstr(text,
	    "teiten_sensor_sessions{sensor=\"a\"} 1\n"
	    "teiten_sensor_sessions{sensor=\"b\"} 0\n"));
	/* Nothing but the per-sensor families without their sources. */
	assert_null(strstr(text, "# TYPE teiten_records_total"));
	metrics_out_free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sensors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
